"""Hand-written fakes for the sessions service: the same contracts as the SQL repositories and the unit of
work, held in memory (and a few tests that hold the fakes to those contracts).

Stored aggregates are copies, as rows would be: a handler that changes a session and forgets to ``save`` it
changes nothing. ``rollback`` restores the last commit, as a database transaction would.
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

import pytest

from services.common.errors import ValidationFailed
from services.common.events import Envelope
from services.common.uow import AbstractUnitOfWork, TrackingRepository
from services.common.vocabulary import (
    OutputKind,
    ReflectionKind,
    SessionStatus,
    Visibility,
)
from services.sessions.domain.loops import LearningLoop
from services.sessions.domain.outputs import Output
from services.sessions.domain.read_models import KnownNetwork, MembershipRecord, Person
from services.sessions.domain.reflections import Reflection
from services.sessions.domain.session import Session, SessionOutline
from services.sessions.repository.paging import decode_page_token, encode_page_token
from services.sessions.schemas.commands import ListLearningQuestions, ListOutputs, ListSessions
from tests.support.consumers import RemembersConsumedEvents


def _copy(aggregate: Any) -> Any:
    stored = copy.deepcopy(aggregate)
    stored.events = []  # events travel through the outbox, never with the stored row
    return stored


def _page(items: list, key: Any, size: int, token: str | None, *,
          newest_first: bool = False) -> tuple[list, str | None]:
    items = sorted(items, key=key, reverse=newest_first)
    if token:
        after = decode_page_token(token)
        items = [i for i in items if (key(i) < after if newest_first else key(i) > after)]
    page = [_copy(i) for i in items[:size]]
    return page, encode_page_token(*key(page[-1])) if len(items) > size else None


class FakeSessionRepository(TrackingRepository):
    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, Session] = {}
        self.locked: list[str] = []

    def get(self, session_id: str, *, for_update: bool = False) -> Session | None:
        if for_update:
            self.locked.append(session_id)
        stored = self.rows.get(session_id)
        return self._track(_copy(stored)) if stored else None

    def outline(self, session_id: str) -> SessionOutline | None:
        stored = self.rows.get(session_id)
        return SessionOutline(id=stored.id, network_id=stored.network_id, status=stored.status,
                              statements=tuple(stored.statements)) if stored else None

    def add(self, session: Session) -> None:
        assert session.id not in self.rows
        self.rows[session.id] = _copy(session)
        self._track(session)

    def save(self, session: Session) -> None:
        self.rows[session.id] = _copy(session)

    def page(self, query: ListSessions) -> tuple[list[Session], str | None]:
        found = [s for s in self.rows.values()
                 if (query.network_id is None or s.network_id == query.network_id)
                 and (query.status is None or s.status == query.status)
                 and (query.starts_from is None or s.starts_at >= query.starts_from)
                 and (query.starts_before is None or s.starts_at < query.starts_before)]
        return _page(found, lambda s: (s.starts_at, s.id), query.page_size, query.page_token)

    def held_between(self, network_id: str, start: datetime, end: datetime) -> list[Session]:
        return [_copy(s) for s in sorted(self.rows.values(), key=lambda s: (s.starts_at, s.id))
                if s.network_id == network_id and s.status in (SessionStatus.HELD, SessionStatus.CLOSED)
                and start <= s.starts_at < end]

    def involving(self, member_id: str) -> list[Session]:
        return [_copy(s) for s in sorted(self.rows.values(), key=lambda s: (s.starts_at, s.id))
                if member_id in s.registrations or any(a.member_id == member_id for a in s.attendance)
                or any(c.member_id == member_id for c in s.contributions)]


class FakeOutputRepository(TrackingRepository):
    def __init__(self, sessions: FakeSessionRepository) -> None:
        super().__init__()
        self.rows: dict[str, Output] = {}
        self.sessions = sessions

    def get(self, output_id: str) -> Output | None:
        stored = self.rows.get(output_id)
        return self._track(_copy(stored)) if stored else None

    def add(self, output: Output) -> None:
        self.rows[output.id] = _copy(output)
        self._track(output)

    def save(self, output: Output) -> None:
        self.rows[output.id] = _copy(output)

    def page(self, query: ListOutputs, inside: frozenset[str] | None) -> tuple[list[Output], str | None]:
        found = [o for o in self.rows.values()
                 if (query.network_id is None or o.network_id == query.network_id)
                 and (query.session_id is None or o.session_id == query.session_id)
                 and (query.kind is None or o.kind == query.kind)
                 and (inside is None or o.network_id in inside or o.visibility == Visibility.PUBLIC)]
        return _page(found, lambda o: (o.published_at, o.id), query.page_size, query.page_token)

    def kinds_published_between(self, network_id: str, start: datetime, end: datetime) -> list[OutputKind]:
        return [o.kind for o in self.rows.values() if o.network_id == network_id and o.retracted_at is None
                and start <= self.sessions.rows[o.session_id].starts_at < end]

    def by_author(self, member_id: str) -> list[Output]:
        return [_copy(o) for o in sorted(self.rows.values(), key=lambda o: (o.published_at, o.id))
                if member_id in o.author_ids]


class FakeReflectionRepository(TrackingRepository):
    def __init__(self, sessions: FakeSessionRepository) -> None:
        super().__init__()
        self.rows: dict[str, Reflection] = {}
        self.sessions = sessions

    def add(self, reflection: Reflection) -> None:
        self.rows[reflection.id] = _copy(reflection)
        self._track(reflection)

    def kinds_between(self, network_id: str, start: datetime, end: datetime) -> list[ReflectionKind]:
        return [r.kind for r in self.rows.values()
                if r.network_id == network_id and start <= self.sessions.rows[r.session_id].starts_at < end]

    def by_member(self, member_id: str) -> list[Reflection]:
        return [_copy(r) for r in sorted(self.rows.values(), key=lambda r: (r.recorded_at, r.id))
                if r.member_id == member_id]

    def page_of_member(self, member_id: str, page_size: int, page_token: str | None) -> tuple[list[Reflection],
                                                                                               str | None]:
        found = [r for r in self.rows.values() if r.member_id == member_id]
        return _page(found, lambda r: (r.recorded_at, r.id), page_size, page_token, newest_first=True)


class FakeLearningLoopRepository(TrackingRepository):
    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, LearningLoop] = {}
        self.locked: list[str] = []

    def get(self, loop_id: str, *, for_update: bool = False) -> LearningLoop | None:
        if for_update:
            self.locked.append(loop_id)
        stored = self.rows.get(loop_id)
        return self._track(_copy(stored)) if stored else None

    def add(self, loop: LearningLoop) -> None:
        assert loop.id not in self.rows
        self.rows[loop.id] = _copy(loop)
        self._track(loop)

    def save(self, loop: LearningLoop) -> None:
        self.rows[loop.id] = _copy(loop)

    def page(self, query: ListLearningQuestions, visible_to: str | None,
             shared: bool) -> tuple[list[LearningLoop], str | None]:
        found = [lo for lo in self.rows.values()
                 if lo.network_id == query.network_id
                 and (visible_to is None or lo.owner_id == visible_to or (shared and lo.shared_with_network))
                 and (query.status is None or lo.status == query.status)]
        return _page(found, lambda lo: (lo.opened_at, lo.id), query.page_size, query.page_token)

    def touching(self, network_id: str, start: datetime, end: datetime) -> list[LearningLoop]:
        return [_copy(lo) for lo in sorted(self.rows.values(), key=lambda lo: (lo.opened_at, lo.id))
                if lo.network_id == network_id
                and any(m is not None and start <= m < end
                        for m in (lo.opened_at, lo.experiment_at, lo.followed_up_at, lo.closed_at))]

    def by_owner(self, member_id: str) -> list[LearningLoop]:
        return [_copy(lo) for lo in sorted(self.rows.values(), key=lambda lo: (lo.opened_at, lo.id))
                if lo.owner_id == member_id]


class FakeSessionsReadModels:
    """Writes are guarded by revision, as the SQL upsert is (``stored.revision <= new.revision``)."""

    def __init__(self) -> None:
        self.networks: dict[str, KnownNetwork] = {}
        self.persons: dict[str, Person] = {}
        self.memberships: dict[tuple[str, str], MembershipRecord] = {}

    def network(self, network_id: str) -> KnownNetwork | None:
        return self.networks.get(network_id)

    def put_network(self, network: KnownNetwork) -> None:
        self._put(self.networks, network.network_id, network)

    def person(self, member_id: str) -> Person | None:
        return self.persons.get(member_id)

    def people(self, member_ids: Any) -> dict[str, Person]:
        return {m: self.persons[m] for m in member_ids if m in self.persons}

    def put_person(self, person: Person) -> None:
        self._put(self.persons, person.member_id, person)

    def membership(self, network_id: str, member_id: str) -> MembershipRecord | None:
        return self.memberships.get((network_id, member_id))

    def memberships_of(self, member_id: str) -> list[MembershipRecord]:
        return sorted((m for m in self.memberships.values() if m.member_id == member_id), key=lambda m: m.network_id)

    def put_membership(self, record: MembershipRecord) -> None:
        self._put(self.memberships, (record.network_id, record.member_id), record)

    @staticmethod
    def _put(rows: dict, key: Any, record: Any) -> None:
        if key not in rows or rows[key].revision <= record.revision:
            rows[key] = record


class FakePrivacyRepository:
    def __init__(self, uow: FakeSessionsUnitOfWork) -> None:
        self.uow = uow

    def pseudonymise(self, member_id: str, pseudonym: str) -> None:
        def swap(value: str) -> str:
            return pseudonym if value == member_id else value

        for session in self.uow.sessions.rows.values():
            session.registrations = {swap(k): r for k, r in session.registrations.items()}
            for registration in session.registrations.values():
                registration.member_id = swap(registration.member_id)
            session.attendance = [type(a)(swap(a.member_id), a.perspectives) for a in session.attendance]
            session.contributions = [type(c)(swap(c.member_id), c.topic) for c in session.contributions]
        for output in self.uow.outputs.rows.values():
            output.author_ids = [swap(m) for m in output.author_ids]
        for reflection in self.uow.reflections.rows.values():
            if reflection.member_id == member_id:
                reflection.member_id, reflection.text = pseudonym, None
        for loop in self.uow.loops.rows.values():
            if loop.owner_id == member_id:
                loop.owner_id = pseudonym
                loop.question = loop.urgency = loop.experiment = loop.follow_up = loop.lesson = None


class FakeSessionsUnitOfWork(RemembersConsumedEvents, AbstractUnitOfWork):
    """Commits move the collected events, as envelopes, to ``published`` (the fake outbox)."""

    repositories = ("sessions", "outputs", "reflections", "loops")
    producer = "sessions"

    def __init__(self) -> None:
        super().__init__()
        self.sessions = FakeSessionRepository()
        self.outputs = FakeOutputRepository(self.sessions)
        self.reflections = FakeReflectionRepository(self.sessions)
        self.loops = FakeLearningLoopRepository()
        self.read_models = FakeSessionsReadModels()
        self.privacy = FakePrivacyRepository(self)
        self.published: list[Envelope] = []
        self.processed: set[tuple[str, str]] = set()
        self.committed = 0
        self._last_commit = self._state()

    def __enter__(self) -> FakeSessionsUnitOfWork:
        super().__enter__()
        for name in self.repositories:
            getattr(self, name).seen = []
        self._last_commit = self._state()
        return self

    def commit(self) -> None:
        self.collect_from_repositories()
        self.published.extend(envelope for envelope, _ in self.envelopes())
        self._events = []
        self.committed += 1
        self._last_commit = self._state()

    def rollback(self) -> None:
        self._restore(self._last_commit)
        self._events = []

    def ping(self) -> None:
        pass

    def published_types(self) -> list[str]:
        return [e.type for e in self.published]

    def payloads(self, event_type: str) -> list[dict[str, Any]]:
        return [e.payload for e in self.published if e.type == event_type]

    def _state(self) -> dict[str, Any]:
        return copy.deepcopy({
            "sessions": self.sessions.rows, "outputs": self.outputs.rows, "reflections": self.reflections.rows,
            "loops": self.loops.rows,
            "networks": self.read_models.networks, "persons": self.read_models.persons,
            "memberships": self.read_models.memberships,
            "published": self.published, "processed": self.processed,
        })

    def _restore(self, state: dict[str, Any]) -> None:
        state = copy.deepcopy(state)
        self.sessions.rows, self.outputs.rows, self.reflections.rows = (state["sessions"], state["outputs"],
                                                                         state["reflections"])
        self.loops.rows = state["loops"]
        models = self.read_models
        models.networks, models.persons, models.memberships = state["networks"], state["persons"], state["memberships"]
        self.published, self.processed = state["published"], state["processed"]


# --- the fakes hold to the contracts of what they stand in for ------------------------------------------


def test_the_fake_read_model_keeps_the_higher_revision_like_the_sql_upsert() -> None:
    known = FakeSessionsReadModels()
    known.put_person(Person("m1", 3, "New", (), False))
    known.put_person(Person("m1", 2, "Old", (), False))
    assert known.persons["m1"].name == "New"


def test_the_fake_pages_reject_a_forged_page_token_like_the_sql_repository() -> None:
    with pytest.raises(ValidationFailed) as raised:
        FakeSessionRepository().page(ListSessions(page_token="not-a-token"))
    assert raised.value.violations[0]["field"] == "page_token"
