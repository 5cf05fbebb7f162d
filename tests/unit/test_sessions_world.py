"""A small world for the sessions unit tests: a unit of work (fake by default) and a fake directory, with
helpers that put networks, members and sessions in them through the same contracts the handlers use."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from services.common.caller import Caller
from services.common.errors import Unavailable
from services.common.events import Envelope, new_envelope
from services.common.vocabulary import MembershipRole, NetworkStatus, Perspective, ReflectionKind, UnpreparedPolicy
from services.sessions import handlers
from services.sessions.domain.read_models import KnownNetwork, MemberFacts, MembershipRecord
from services.sessions.schemas.commands import (
    PublishOutput,
    RecordAttendance,
    RecordReflection,
    RegisterForSession,
    ScheduleSession,
)
from services.sessions.schemas.views import AttendanceOut, OutputOut, ReflectionOut, RegistrationOut, SessionOut
from tests.support.callers import OPERATOR, member
from tests.unit.test_sessions_fakes import FakeSessionsUnitOfWork


class FakeDirectory:
    """The members and networks services as the handlers see them; counts the questions asked."""

    def __init__(self) -> None:
        self.members: dict[str, MemberFacts] = {}
        self.networks: dict[str, KnownNetwork] = {}
        self.asked: list[str] = []
        self.unavailable = False

    def member(self, member_id: str) -> MemberFacts | None:
        self._ask(f"member:{member_id}")
        return self.members.get(member_id)

    def network(self, network_id: str) -> KnownNetwork | None:
        self._ask(f"network:{network_id}")
        return self.networks.get(network_id)

    def _ask(self, question: str) -> None:
        self.asked.append(question)
        if self.unavailable:
            raise Unavailable("the directory did not answer in time")


class FakeFeeds:
    """The federation service's feeds as the sessions handlers see them: output id -> (the networks whose feeds
    hold it, the copy or tombstone they hold); a reader inside one of those networks gets it."""

    def __init__(self) -> None:
        self.held: dict[str, tuple[set[str], dict[str, Any]]] = {}
        self.asked: list[str] = []

    def held_copy(self, caller: Caller, output_id: str) -> dict[str, Any] | None:
        self.asked.append(output_id)
        networks, copy = self.held.get(output_id, (set(), {}))
        return copy if any(caller.inside(n) for n in networks) else None


NOW = datetime.now(UTC)
PAST = (NOW - timedelta(days=7)).replace(microsecond=0)  # a session that has happened
FUTURE = (NOW + timedelta(days=7)).replace(microsecond=0)  # a session still to come
NETWORK = "werkplaats-noord"


class World:
    """A fake unit of work and directory, with helpers that put networks, members and sessions in them."""

    def __init__(self, uow: Any = None) -> None:
        self.uow = uow or FakeSessionsUnitOfWork()  # or a real SessionsUnitOfWork: the helpers use the contract
        self.directory = FakeDirectory()
        self.feeds = FakeFeeds()
        self.network()

    def network(self, network_id: str = NETWORK, *, revision: int = 1, status: str = "active",
                requires_preparation: bool = False, unprepared_policy: str = "refuse") -> KnownNetwork:
        network = KnownNetwork(network_id, revision, f"Network {network_id}", NetworkStatus(status),
                               requires_preparation, UnpreparedPolicy(unprepared_policy))
        with self.uow:
            self.uow.read_models.put_network(network)
            self.uow.commit()
        return network

    def member(self, name: str = "Anna de Vries", *, network_id: str | None = NETWORK,
               perspectives: tuple[str, ...] = ("resident",), named: bool = False, in_read_model: bool = True,
               member_id: str | None = None) -> str:
        """A member known to the members service; ``in_read_model`` also puts them in this service's read model."""
        member_id = member_id or str(uuid.uuid4())
        networks = {network_id: MembershipRole.PARTICIPANT} if network_id else {}
        facts = MemberFacts(member_id, 2, name, tuple(Perspective(p) for p in perspectives), named, networks)
        self.directory.members[member_id] = facts
        if in_read_model:
            with self.uow:
                self.uow.read_models.put_person(facts.person())
                for net in networks:
                    self.uow.read_models.put_membership(MembershipRecord(net, member_id, MembershipRole.PARTICIPANT, 2,
                                                                   True))
                self.uow.commit()
        return member_id

    def schedule(self, **overrides: Any) -> SessionOut:
        request = {"network_id": NETWORK, "title": "Kenniscafé: eenzaamheid in de wijk", "format": "knowledge_cafe",
                   "mode": "in_person", "location": "Buurthuis De Kring", "starts_at": FUTURE.isoformat(),
                   "ends_at": (FUTURE + timedelta(hours=2)).isoformat()} | overrides
        return handlers.schedule_session(OPERATOR, ScheduleSession.model_validate(request), self.uow, self.directory)

    def held(self, **overrides: Any) -> SessionOut:
        """A session that took place a week ago and was marked held."""
        times = {"starts_at": PAST.isoformat(), "ends_at": (PAST + timedelta(hours=2)).isoformat()}
        session = self.schedule(**times | overrides)
        return handlers.hold_session(OPERATOR, session.id, self.uow)

    def register(self, session_id: str, member_id: str, prepared: bool | None = None) -> RegistrationOut:
        return handlers.register_for_session(OPERATOR, session_id, member_id, RegisterForSession(prepared=prepared),
                                             self.uow, self.directory)

    def attend(self, session_id: str, *member_ids: str) -> AttendanceOut:
        return handlers.record_attendance(OPERATOR, session_id, RecordAttendance(member_ids=list(member_ids)), self.uow,
                                          self.directory)

    def publish(self, session_id: str, authors: list[str], **overrides: Any) -> OutputOut:
        request = {"kind": "lesson", "title": "Wat we leerden", "authors": authors} | overrides
        return handlers.publish_output(OPERATOR, session_id, PublishOutput.model_validate(request), self.uow,
                                       self.directory)

    def reflect(self, session_id: str, member_id: str, kind: str = "behaviour",
                text: str = "Ik vraag nu eerst door.") -> ReflectionOut:
        cmd = RecordReflection(session_id=session_id, kind=ReflectionKind(kind), text=text)
        return handlers.record_reflection(self.caller(member_id), cmd, self.uow, self.directory)

    def caller(self, member_id: str) -> Caller:
        """The member as the gateway would send them: with the networks the members service knows them in."""
        facts = self.directory.members.get(member_id)
        return member(member_id, member_of=set(facts.networks) if facts else set())


def envelope_of(payload: Any, event_id: uuid.UUID | None = None) -> Envelope:
    envelope = new_envelope(payload, producer="test")
    return envelope.model_copy(update={"id": event_id}) if event_id else envelope
