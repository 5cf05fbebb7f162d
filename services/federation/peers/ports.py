"""What the handlers between instances ask of their stores (:mod:`services.federation.peers.repository`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol, TypedDict


class PeerConfig(TypedDict):
    """How a peer is reached, as the operator configures it."""

    name: str
    address: str
    api_key: str  # the key the peer issued to this instance
    transport: dict[str, Any]  # how the peer is reached (a PeerTransport as JSON)
    network_ids: list[str] | None  # our networks to follow there; None: every one the key owns


class PeerRow(PeerConfig):
    """A peer as stored: its configuration, the cursor in its feed, and what the relay and ingestion recorded."""

    instance_id: str
    config_revision: int
    cursor: int
    state: dict[str, Any]  # JSON the relay reported (a PeerState), read back with PeerState.model_validate
    skipped: list[dict[str, Any]]  # JSON of the latest refused entries (SkippedEntry), newest last
    refused_entries: int
    last_ingest_at: datetime | None
    created_at: datetime
    changed_at: datetime


class PeerLinkRow(TypedDict):
    """A local link whose other side is on a peer: the id the peer gave its copy, the status last seen there."""

    link_id: str
    instance_id: str
    remote_link_id: str
    remote_status: str | None
    checked_at: datetime | None


class PeerNetworkRow(TypedDict):
    """A network in a peer's directory, as the relay last read it there, with what this instance decided."""

    instance_id: str
    network_id: str
    name: str
    theme: str
    level: str | None
    kind: str | None
    status: str  # offered, approved, withdrawn
    withdrawn_reason: str | None  # archived (there), gone (no longer listed there)
    first_seen_at: datetime
    last_seen_at: datetime
    changed_at: datetime
    approved_at: datetime | None


class PeerRepo(Protocol):
    def get(self, instance_id: str) -> PeerRow | None: ...

    def all(self) -> list[PeerRow]: ...

    def add(self, instance_id: str, config: PeerConfig, now: datetime) -> None: ...

    def reconfigure(self, instance_id: str, config: PeerConfig, now: datetime) -> None: ...

    def remove(self, instance_id: str) -> bool:
        """Whether there was such a peer."""
        ...

    def reencrypt(self) -> int:
        """Every stored key encrypted under the first key (a plaintext one too): how many were rewritten."""
        ...

    def advance(self, instance_id: str, cursor: int, now: datetime, refused: list[dict[str, Any]]) -> None:
        """Store the cursor with the batch it ends, and the entries the batch refused (SkippedEntry JSON)."""

    def report(self, instance_id: str, state: dict[str, Any]) -> bool:
        """Store the relay's view (PeerState JSON); False when the peer is not configured."""
        ...


class PeerLinkRepo(Protocol):
    def get(self, link_id: str) -> PeerLinkRow | None: ...

    def attach(self, link_id: str, instance_id: str, remote_link_id: str, remote_status: str,
               now: datetime) -> None: ...

    def seen(self, link_id: str, remote_status: str, now: datetime) -> None: ...

    def of_instance(self, instance_id: str) -> list[PeerLinkRow]: ...

    def forget_instance(self, instance_id: str) -> None: ...


class PeerDirectoryRepo(Protocol):
    def of_instance(self, instance_id: str) -> list[PeerNetworkRow]:
        """The peer's directory as held here, by network id."""
        ...

    def get(self, instance_id: str, network_id: str) -> PeerNetworkRow | None: ...

    def add(self, row: PeerNetworkRow) -> None: ...

    def change(self, instance_id: str, network_id: str, **values: Any) -> None:
        """Set these columns of one entry."""


class RemoteNetworkRepo(Protocol):
    def ids(self) -> set[str]:
        """Every network another instance hosts."""
        ...

    def instance_of(self, network_id: str) -> str | None:
        """The instance hosting a network the read model knows: None for our own (or an unknown) network."""
        ...

    def put(self, instance_id: str, network: dict[str, Any]) -> None:
        """Add or update a network ``instance_id`` hosts (a RemoteNetwork as JSON); it is active."""

    def close(self, network_id: str) -> None:
        """The network no longer takes part here (withdrawn by its instance, or its approval withdrawn): as an
        archived network, it receives, passes on and links nothing."""


class FeedHeadRepo(Protocol):
    def head(self, network_ids: list[str]) -> int: ...

    def pending(self, network_ids: list[str], cursor: int) -> int: ...
