"""The ports the sessions handlers depend on: the unit of work with its repositories, and the directory.

The unit of work (:class:`SessionsUoW`) is what a handler may use of a transaction: the kit's
:class:`~services.common.uow.UnitOfWork` plus this service's repositories and read models, each a read-only
property typed by a Protocol below, holding only what the handlers call. The SQL unit of work
(:class:`services.sessions.unit_of_work.SessionsUnitOfWork`) and the tests' in-memory fake both satisfy it
without inheriting from it (``services/common/uow.py`` says why properties).

The directory is what the sessions service asks of other services. Read models lag a few milliseconds behind
the services that feed them (a member who has just joined a network registers at once; a coordinator schedules
a session in a network created a moment ago). When the read model does not know the answer, handlers ask the
owning service through this port; tests pass a fake, the service passes
:class:`services.sessions.adapters.RpcDirectory`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Protocol

from services.common.caller import Caller
from services.common.uow import UnitOfWork
from services.common.vocabulary import (
    MembershipRole,
    NetworkStatus,
    OutputKind,
    Perspective,
    ReflectionKind,
    UnpreparedPolicy,
)
from services.sessions.domain.loops import LearningLoop
from services.sessions.domain.outputs import Output
from services.sessions.domain.read_models import KnownNetwork, MemberFacts, MembershipRecord, Person
from services.sessions.domain.reflections import Reflection
from services.sessions.domain.session import Session, SessionOutline
from services.sessions.schemas.commands import ListLearningQuestions, ListOutputs, ListSessions

# --- the unit of work ------------------------------------------------------------------------------------


class SessionRepo(Protocol):
    """Sessions with their registrations and attendance (:class:`~services.sessions.repository.SessionRepository`)."""

    def get(self, session_id: str, *, for_update: bool = False) -> Session | None:
        """The session, or None; ``for_update`` locks it until the transaction ends."""
        ...

    def outline(self, session_id: str) -> SessionOutline | None:
        """The session's id, network, status and statements, or None; one row read, no registrations (for
        commands that only check the session, such as publishing an output). Never locks."""
        ...

    def add(self, session: Session) -> None: ...

    def save(self, session: Session) -> None: ...

    def page(self, query: ListSessions) -> tuple[list[Session], str | None]:
        """One page of the sessions matching ``query``, and the token of the next page (None: the last)."""
        ...

    def held_between(self, network_id: str, start: datetime, end: datetime) -> list[Session]:
        """The network's held or closed sessions that started in [start, end)."""
        ...

    def involving(self, member_id: str) -> list[Session]:
        """Sessions the member registered for, attended or contributed to."""
        ...


class OutputRepo(Protocol):
    """Outputs with their authors (:class:`~services.sessions.repository.OutputRepository`)."""

    def get(self, output_id: str) -> Output | None: ...

    def add(self, output: Output) -> None: ...

    def save(self, output: Output) -> None: ...

    def page(self, query: ListOutputs, inside: frozenset[str] | None) -> tuple[list[Output], str | None]:
        """One page of outputs; a reader inside only the networks ``inside`` (None: every network) sees the
        others' public outputs only."""
        ...

    def kinds_published_between(self, network_id: str, start: datetime, end: datetime) -> list[OutputKind]:
        """Kinds of the network's outputs, not retracted, of sessions that started in [start, end)."""
        ...

    def by_author(self, member_id: str) -> list[Output]: ...


class ReflectionRepo(Protocol):
    """Members' reflections (:class:`~services.sessions.repository.ReflectionRepository`)."""

    def add(self, reflection: Reflection) -> None: ...

    def kinds_between(self, network_id: str, start: datetime, end: datetime) -> list[ReflectionKind]:
        """Kinds of reflections on the network's sessions that started in [start, end)."""
        ...

    def by_member(self, member_id: str) -> list[Reflection]: ...

    def page_of_member(self, member_id: str, page_size: int, page_token: str | None) -> tuple[list[Reflection],
                                                                                               str | None]:
        """The member's reflections newest first, keyset-paged."""
        ...


class LoopRepo(Protocol):
    """Members' learning loops (:class:`~services.sessions.repository.LearningLoopRepository`)."""

    def get(self, loop_id: str, *, for_update: bool = False) -> LearningLoop | None: ...

    def add(self, loop: LearningLoop) -> None: ...

    def save(self, loop: LearningLoop) -> None: ...

    def page(self, query: ListLearningQuestions, visible_to: str | None, shared: bool) -> tuple[list[LearningLoop],
                                                                                                 str | None]:
        """One page of the network's loops; ``visible_to``: only that owner's (and with ``shared`` the ones shared
        with the network); None: all."""
        ...

    def touching(self, network_id: str, start: datetime, end: datetime) -> list[LearningLoop]:
        """The network's loops opened, experimented on, followed up or closed in [start, end)."""
        ...

    def by_owner(self, member_id: str) -> list[LearningLoop]: ...


class ReadModels(Protocol):
    """Networks, people and memberships as this service knows them
    (:class:`~services.sessions.read_models.SessionsReadModels`); every write keeps the higher revision."""

    def network(self, network_id: str) -> KnownNetwork | None: ...

    def put_network(self, network: KnownNetwork) -> None: ...

    def person(self, member_id: str) -> Person | None: ...

    def people(self, member_ids: Iterable[str]) -> dict[str, Person]:
        """Those of ``member_ids`` the read model knows, by member id."""
        ...

    def put_person(self, person: Person) -> None: ...

    def membership(self, network_id: str, member_id: str) -> MembershipRecord | None: ...

    def memberships_of(self, member_id: str) -> list[MembershipRecord]: ...

    def put_membership(self, record: MembershipRecord) -> None: ...


class PrivacyRepo(Protocol):
    """Erasure (:class:`~services.sessions.repository.PrivacyRepository`)."""

    def pseudonymise(self, member_id: str, pseudonym: str) -> None:
        """Replace the member's id with ``pseudonym`` wherever this service holds it; delete their own words."""


class SessionsUoW(UnitOfWork, Protocol):
    """The unit of work the sessions handlers take."""

    @property
    def sessions(self) -> SessionRepo: ...

    @property
    def outputs(self) -> OutputRepo: ...

    @property
    def reflections(self) -> ReflectionRepo: ...

    @property
    def loops(self) -> LoopRepo: ...

    @property
    def read_models(self) -> ReadModels: ...

    @property
    def privacy(self) -> PrivacyRepo: ...


# --- the directory ---------------------------------------------------------------------------------------


class Directory(Protocol):
    def member(self, member_id: str) -> MemberFacts | None:
        """The member's profile and memberships now, or None if there is no such (active) member."""

    def network(self, network_id: str) -> KnownNetwork | None:
        """The network now, or None if there is no such network."""


class Feeds(Protocol):
    """The federation service's feeds, where copies of outputs reach other networks."""

    def held_copy(self, caller: Caller, output_id: str) -> dict[str, Any] | None:
        """The output as a feed ``caller`` may read holds it (a copy, or a tombstone), or None."""


def facts_from_member(data: dict[str, Any]) -> MemberFacts:
    """Read the members service's ``get_member`` answer (its ``MemberOut`` as JSON)."""
    return MemberFacts(
        member_id=str(data["id"]),
        revision=int(data["revision"]),
        name=str(data["name"]),
        perspectives=tuple(Perspective(p) for p in data.get("perspectives") or ()),
        named_in_shared_outputs=bool(data.get("named_in_shared_outputs")),
        networks={m["network_id"]: MembershipRole(m["role"]) for m in data.get("memberships") or ()},
    )


def network_from_answer(data: dict[str, Any]) -> KnownNetwork:
    """Read the networks service's ``get_network`` answer (its ``NetworkOut`` as JSON)."""
    return KnownNetwork(
        network_id=str(data["id"]),
        revision=int(data["revision"]),
        name=str(data["name"]),
        status=NetworkStatus(data["status"]),
        requires_preparation=bool(data["requires_preparation"]),
        unprepared_policy=UnpreparedPolicy(data["unprepared_policy"]),
    )
