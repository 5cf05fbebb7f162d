"""What the federation service keeps of other services' data, fed by their events: the networks."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row, select, update

from services.common.db import insert_or_lock
from services.federation.models import networks
from services.federation.ports import NetworkValues


class FederationReadModels:
    """The networks the federation knows, from the networks service's events."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def network(self, network_id: str) -> Row[*tuple[Any, ...]] | None:
        return self.connection.execute(select(networks).where(networks.c.id == network_id)).first()

    def apply_network(self, network_id: str, revision: int, values: NetworkValues) -> bool:
        """Store a snapshot if it is newer than what is held; return whether it was applied. Two snapshots of a
        new network handled at once (created and updated, on two workers) meet on its key: the second waits."""
        held = insert_or_lock(self.connection, networks, {"id": network_id, "revision": revision, **values})
        if held is None:
            return True
        if held.revision >= revision:
            return False
        self.connection.execute(update(networks).where(networks.c.id == network_id)
                                .values(revision=revision, **values))
        return True

    def closed_networks(self) -> set[str]:
        return set(self.connection.execute(select(networks.c.id).where(networks.c.status != "active")).scalars())
