"""Loading and saving networks, and directory queries."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Connection, RowMapping, func, insert, select, tuple_, update

from services.common.paging import decode_page_token, encode_page_token
from services.common.uow import TrackingRepository
from services.common.vocabulary import NetworkKind, NetworkLevel, NetworkStatus, UnpreparedPolicy
from services.networks.domain import Network
from services.networks.models import networks
from services.networks.schemas import ListNetworks

COLUMNS = ("id", "name", "level", "kind", "theme", "urgency", "host_organisation", "parent_id", "region",
           "cadence_weeks", "start_date", "requires_preparation", "unprepared_policy", "status", "created_at",
           "updated_at", "revision")


class NetworkRepository(TrackingRepository):
    def __init__(self, connection: Connection) -> None:
        super().__init__()
        self.connection = connection

    def get(self, network_id: str | None) -> Network | None:
        if network_id is None:
            return None
        row = self.connection.execute(select(networks).where(networks.c.id == network_id)).mappings().first()
        return self._track(to_network(row)) if row else None

    def add(self, network: Network) -> None:
        self.connection.execute(insert(networks).values(**to_row(network)))
        self._track(network)

    def save(self, network: Network) -> None:
        self.connection.execute(update(networks).where(networks.c.id == network.id).values(**to_row(network)))

    def parent_of(self, network_id: str) -> str | None:
        parent_id: str | None = self.connection.execute(
            select(networks.c.parent_id).where(networks.c.id == network_id)
        ).scalar()
        return parent_id

    def active_child_levels(self, network_id: str) -> list[NetworkLevel]:
        rows = self.connection.execute(
            select(networks.c.level).where(networks.c.parent_id == network_id,
                                           networks.c.status == NetworkStatus.ACTIVE.value)
        ).scalars()
        return [NetworkLevel(level) for level in rows]

    def search(self, query: ListNetworks) -> tuple[list[Network], str | None]:
        c = networks.c
        conditions: list[ColumnElement[bool]] = []
        for column, value in ((c.level, query.level), (c.kind, query.kind), (c.parent_id, query.parent_id),
                              (c.region, query.region), (c.status, query.status)):
            if value is not None:
                conditions.append(column == str(value))
        if query.theme:
            conditions.append(func.lower(c.theme).contains(query.theme.lower(), autoescape=True))
        if query.network_ids is not None:
            conditions.append(c.id.in_(query.network_ids))
        if query.page_token:
            after_name, after_id = decode_page_token(query.page_token)
            # A row-value comparison: the index on (name, id) starts the scan at the cursor, so every page costs
            # what the first does (``name > x OR (name = x AND id > y)`` made PostgreSQL read and sort every
            # row after the cursor).
            conditions.append(tuple_(c.name, c.id) > tuple_(after_name, after_id))
        rows = self.connection.execute(
            select(networks).where(*conditions).order_by(c.name, c.id).limit(query.page_size + 1)
        ).mappings().all()
        page = [to_network(row) for row in rows[: query.page_size]]
        next_token = encode_page_token(page[-1].name, page[-1].id) if len(rows) > query.page_size else None
        return page, next_token

    def subtree(self, root_id: str) -> list[Network]:
        """The network and everything below it, level by level (one query per level, four levels at most)."""
        found: list[Network] = []
        frontier = [root_id]
        first = True
        while frontier:
            column = networks.c.id if first else networks.c.parent_id
            rows = self.connection.execute(select(networks).where(column.in_(frontier))).mappings().all()
            level = [to_network(row) for row in rows if row["id"] not in {n.id for n in found}]
            found.extend(level)
            frontier = [n.id for n in level]
            first = False
        return found


def to_network(row: RowMapping) -> Network:
    values = {name: row[name] for name in COLUMNS}
    values.update(level=NetworkLevel(row["level"]), kind=NetworkKind(row["kind"]), status=NetworkStatus(row["status"]),
                  unprepared_policy=UnpreparedPolicy(row["unprepared_policy"]))
    return Network(**values)


def to_row(network: Network) -> dict[str, object]:
    row: dict[str, object] = {name: getattr(network, name) for name in COLUMNS}
    row.update(level=network.level.value, kind=network.kind.value, status=network.status.value,
               unprepared_policy=network.unprepared_policy.value)
    return row
