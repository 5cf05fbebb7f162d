"""Partners: organisations (and other Kring instances) that use the partner gRPC API with a key."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, RowMapping, delete, insert, select, update

from services.federation.models import partner_networks, partners
from services.federation.partners.ports import PartnerRow


class Partners:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def add(self, partner_id: str, name: str, key_hash: str, network_ids: list[str], now: datetime, *,
            kind: str = "organisation", instance_id: str | None = None) -> None:
        self.connection.execute(insert(partners).values(id=partner_id, name=name, key_hash=key_hash, status="active",
                                                        created_at=now, changed_at=now, kind=kind,
                                                        instance_id=instance_id))
        self.set_networks(partner_id, network_ids)

    def set_networks(self, partner_id: str, network_ids: list[str]) -> None:
        self.connection.execute(delete(partner_networks).where(partner_networks.c.partner_id == partner_id))
        if network_ids:
            self.connection.execute(insert(partner_networks),
                                    [{"partner_id": partner_id, "network_id": n} for n in network_ids])

    def get(self, partner_id: str) -> PartnerRow | None:
        row = self.connection.execute(select(partners).where(partners.c.id == partner_id)).mappings().first()
        return self._with_networks(row) if row else None

    def by_key_hash(self, key_hash: str) -> PartnerRow | None:
        row = self.connection.execute(select(partners).where(partners.c.key_hash == key_hash)).mappings().first()
        return self._with_networks(row) if row else None

    def all(self) -> list[PartnerRow]:
        rows = self.connection.execute(select(partners).order_by(partners.c.name, partners.c.id)).mappings()
        return [self._with_networks(row) for row in rows]

    def of_instance(self, instance_id: str) -> PartnerRow | None:
        """The partner registered for another Kring instance (kind instance), if any."""
        row = self.connection.execute(select(partners).where(partners.c.kind == "instance",
                                                             partners.c.instance_id == instance_id)
                                      .order_by(partners.c.created_at)).mappings().first()
        return self._with_networks(row) if row else None

    def owner_of(self, network_id: str) -> str | None:
        owner: str | None = self.connection.execute(
            select(partner_networks.c.partner_id).where(partner_networks.c.network_id == network_id)
        ).scalar()
        return owner

    def change(self, partner_id: str, now: datetime, **values: str) -> None:
        self.connection.execute(update(partners).where(partners.c.id == partner_id).values(changed_at=now, **values))

    def _with_networks(self, row: RowMapping) -> PartnerRow:
        owned = self.connection.execute(
            select(partner_networks.c.network_id).where(partner_networks.c.partner_id == row["id"])
            .order_by(partner_networks.c.network_id)
        ).scalars()
        return PartnerRow(id=row["id"], name=row["name"], key_hash=row["key_hash"], status=row["status"],
                          created_at=row["created_at"], changed_at=row["changed_at"], kind=row["kind"],
                          instance_id=row["instance_id"], network_ids=list(owned))
