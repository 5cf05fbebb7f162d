"""What the handlers ask of the partners' store (:class:`services.federation.partners.repository.Partners`)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol, TypedDict


class PartnerRow(TypedDict):
    """A partner as stored (its key only as a hash), with the networks it owns here."""

    id: str
    name: str
    key_hash: str
    status: str  # active, revoked, blocked
    created_at: datetime
    changed_at: datetime
    kind: str  # organisation or instance
    instance_id: str | None  # for kind instance: the other instance's id
    network_ids: list[str]  # sorted


class PartnerRepo(Protocol):
    def add(self, partner_id: str, name: str, key_hash: str, network_ids: list[str], now: datetime, *,
            kind: str = "organisation", instance_id: str | None = None) -> None: ...

    def get(self, partner_id: str) -> PartnerRow | None: ...

    def set_networks(self, partner_id: str, network_ids: list[str]) -> None:
        """The networks the partner owns here, from now on."""

    def by_key_hash(self, key_hash: str) -> PartnerRow | None: ...

    def all(self) -> list[PartnerRow]: ...

    def of_instance(self, instance_id: str) -> PartnerRow | None:
        """The partner registered for another Kring instance (kind instance), if any."""
        ...

    def owner_of(self, network_id: str) -> str | None:
        """The partner the network is registered to, if any."""
        ...

    def change(self, partner_id: str, now: datetime, **values: str) -> None:
        """Set these columns (``status``, ``key_hash``), and ``changed_at`` to ``now``."""
