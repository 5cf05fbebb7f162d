"""What the networks service's handlers depend on: its unit of work, with the networks repository and the read
models that other services' events feed.

:class:`services.networks.unit_of_work.NetworksUnitOfWork` (with
:class:`services.networks.repository.NetworkRepository` and :class:`services.networks.read_models.ReadModels`)
satisfies these Protocols structurally (``services/common/uow.py`` says why the repositories are read-only
properties). Each Protocol holds only what a handler, or an event handler on the service, uses.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from services.common.catalogue import (
    LearningLoopSnapshot,
    MemberErased,
    MembershipJoined,
    MembershipLeft,
    MemberUpdated,
    OutputPublished,
    OutputRetracted,
    ReflectionRecorded,
    SessionSnapshot,
)
from services.common.uow import UnitOfWork
from services.common.vocabulary import NetworkLevel
from services.networks.domain import Network
from services.networks.domain.health import LoopFacts, MemberFacts, OutputFacts, SessionFacts
from services.networks.schemas import ListNetworks


class NetworkRepo(Protocol):
    """Networks: loading, saving, and the directory's queries."""

    def get(self, network_id: str | None) -> Network | None:
        """The network, or None (also for no id: a top-level network's parent); the unit of work collects the
        events of what it hands out."""
        ...

    def add(self, network: Network) -> None: ...

    def save(self, network: Network) -> None: ...

    def parent_of(self, network_id: str) -> str | None: ...

    def active_child_levels(self, network_id: str) -> list[NetworkLevel]: ...

    def search(self, query: ListNetworks) -> tuple[list[Network], str | None]:
        """The networks matching the query, a page of them and the next page's token."""
        ...

    def subtree(self, root_id: str) -> list[Network]:
        """The network and everything below it; empty for an unknown network."""
        ...


class ReadModelRepo(Protocol):
    """What the networks service knows of other services' data: kept by their events, read by the handlers."""

    # --- from the members service's events

    def membership_joined(self, event: MembershipJoined) -> None: ...

    def membership_left(self, event: MembershipLeft) -> None: ...

    def member_updated(self, event: MemberUpdated) -> None: ...

    def member_erased(self, event: MemberErased) -> None: ...

    def members_of(self, network_id: str) -> list[MemberFacts]:
        """The network's active members."""
        ...

    def members_of_many(self, network_ids: Sequence[str]) -> dict[str, list[MemberFacts]]:
        """The active members of each of these networks, in one read (a page of the directory)."""
        ...

    # --- from the sessions service's events

    def session_changed(self, event: SessionSnapshot) -> None: ...

    def held_sessions(self, network_id: str) -> list[SessionFacts]: ...

    def output_published(self, event: OutputPublished) -> None: ...

    def output_retracted(self, event: OutputRetracted) -> None: ...

    def live_outputs(self, network_id: str) -> list[OutputFacts]: ...

    def reflection_recorded(self, event: ReflectionRecorded) -> None: ...

    def reflection_count(self, network_id: str) -> int: ...

    def loop_changed(self, event: LearningLoopSnapshot) -> None: ...

    def loops_of(self, network_id: str) -> list[LoopFacts]: ...


class NetworksUoW(UnitOfWork, Protocol):
    """The unit of work the networks service's handlers and event handlers take."""

    @property
    def networks(self) -> NetworkRepo: ...

    @property
    def read_models(self) -> ReadModelRepo: ...
