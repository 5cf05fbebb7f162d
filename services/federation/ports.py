"""What the federation service's handlers depend on: the other services they ask (their adapters:
:mod:`services.federation.adapters`) and the unit of work with its repositories (the SQL one:
:class:`services.federation.unit_of_work.FederationUnitOfWork`; see :mod:`services.common.uow`)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, Protocol, TypedDict

from sqlalchemy import Row, RowMapping

from services.common.audit import AuditLog
from services.common.uow import UnitOfWork
from services.common.vocabulary import LinkStatus
from services.federation.domain.audience import Hop
from services.federation.domain.links import Link
from services.federation.domain.outputs import SharedOutput
from services.federation.partners.ports import PartnerRepo
from services.federation.peers.ports import FeedHeadRepo, PeerDirectoryRepo, PeerLinkRepo, PeerRepo, RemoteNetworkRepo


class NetworkLookup(Protocol):
    def get(self, network_id: str) -> dict[str, Any] | None:
        """The network as the networks service has it now, or None."""


# --- the repositories --------------------------------------------------------------------------------------------


class LinkRepo(Protocol):
    """Links, loaded and saved whole; the unit of work collects the events of those it handed out."""

    def get(self, link_id: str) -> Link | None: ...

    def open_between(self, a: str, b: str) -> Link | None:
        """The requested or active link between two networks, either way round."""
        ...

    def parent_link_of(self, child: str) -> Link | None:
        """The open parent/child link whose child is ``child``."""
        ...

    def of_network(self, network_id: str, statuses: list[LinkStatus] | None = None) -> list[Link]: ...

    def active_hops(self) -> list[Hop]:
        """Both directions of every active link."""
        ...

    def add(self, link: Link) -> None: ...

    def save(self, link: Link) -> None: ...


class NetworkValues(TypedDict):
    """What the read model keeps of a network of this instance, from its snapshot events."""

    name: str
    theme: str
    status: str  # NetworkStatus
    parent_id: str | None


class NetworkReadModel(Protocol):
    """The networks the federation knows (this instance's from their events, other instances' as registered)."""

    def network(self, network_id: str) -> Row[*tuple[Any, ...]] | None:
        """The row of the ``networks`` table (``.status``, ``.parent_id``, ...), or None."""
        ...

    def apply_network(self, network_id: str, revision: int, values: NetworkValues) -> bool:
        """Store a snapshot if it is newer than what is held; whether it was applied."""
        ...

    def closed_networks(self) -> set[str]: ...


class BlockRepo(Protocol):
    def add(self, kind: str, subject_id: str, reason: str | None, now: datetime) -> bool:
        """Block a ``network`` or a ``partner``; False if it was blocked already."""
        ...

    def is_blocked(self, kind: str, subject_id: str) -> bool: ...

    def networks(self) -> set[str]:
        """Every blocked network."""
        ...


class OutputRepo(Protocol):
    """Shared outputs, loaded and saved whole."""

    def get(self, output_id: str, *, for_update: bool = False) -> SharedOutput | None: ...

    def lock_or_add(self, new: SharedOutput) -> SharedOutput | None:
        """The output held under ``new``'s id, locked; or None when there was none and ``new`` was added."""
        ...

    def save(self, output: SharedOutput) -> None: ...

    def authored_by(self, member_id: str) -> list[SharedOutput]: ...

    def published_by(self, source: str, origin: str | None, after: tuple[datetime, str] | None,
                     limit: int) -> list[SharedOutput]:
        """Outputs published by ``source`` (e.g. ``partner:<id>``), of ``origin`` if given, after the key
        (published_at, output_id), oldest first."""
        ...

    def latest_from(self, origin: str, visibilities: list[str]) -> Iterator[SharedOutput]:
        """Shared, not retracted outputs of ``origin`` with one of ``visibilities``, newest first, read lazily."""
        ...


class FeedRepo(Protocol):
    """The per-network feeds, the delivery records, and the append-only log partners and peers read.

    ``page``, ``log_after`` and ``deliveries_of`` answer rows of those tables, as mappings by column name."""

    def deliver(self, network_id: str, output_id: str, now: datetime, *, backfill: bool = False) -> bool:
        """Put an output in a network's feed once; False if it was already there."""
        ...

    def deliver_many(self, network_ids: Sequence[str], output_id: str, now: datetime, *,
                     backfill: bool = False) -> list[str]:
        """Put an output in each of these feeds once; the networks that did not hold it yet."""
        ...

    def recipients(self, output_id: str) -> list[str]: ...

    def tombstone(self, output_id: str, now: datetime) -> None: ...

    def announce_change(self, output_id: str, now: datetime) -> None: ...

    def deliveries_of(self, output_id: str) -> Sequence[RowMapping]: ...

    def page(self, network_id: str, after: int, size: int) -> Sequence[RowMapping]: ...

    def log_after(self, cursor: int, network_ids: list[str] | None, limit: int) -> Sequence[RowMapping]: ...


# --- the unit of work ------------------------------------------------------------------------------------------


class FederationUoW(UnitOfWork, Protocol):
    """What the federation's handlers use of a unit of work: each repository read-only (see
    :mod:`services.common.uow` for why properties)."""

    @property
    def links(self) -> LinkRepo: ...

    @property
    def read_models(self) -> NetworkReadModel: ...

    @property
    def blocks(self) -> BlockRepo: ...

    @property
    def outputs(self) -> OutputRepo: ...

    @property
    def feeds(self) -> FeedRepo: ...

    @property
    def partners(self) -> PartnerRepo: ...

    @property
    def peers(self) -> PeerRepo: ...

    @property
    def peer_links(self) -> PeerLinkRepo: ...

    @property
    def remote_networks(self) -> RemoteNetworkRepo: ...

    @property
    def peer_directory(self) -> PeerDirectoryRepo: ...

    @property
    def feed_heads(self) -> FeedHeadRepo: ...

    @property
    def audit(self) -> AuditLog: ...
