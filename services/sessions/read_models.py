"""The read models of networks, people and memberships. The revision rules are in the domain; this
module only loads and stores whole records."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, RowMapping, Table, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from services.common.vocabulary import MembershipRole, NetworkStatus, Perspective, UnpreparedPolicy
from services.sessions.domain.read_models import KnownNetwork, MembershipRecord, Person
from services.sessions.models import known_memberships, known_networks, known_people


class SessionsReadModels:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def network(self, network_id: str) -> KnownNetwork | None:
        row = self._first(known_networks, network_id=network_id)
        if row is None:
            return None
        return KnownNetwork(row["network_id"], row["revision"], row["name"], NetworkStatus(row["status"]),
                            row["requires_preparation"], UnpreparedPolicy(row["unprepared_policy"]))

    def put_network(self, network: KnownNetwork) -> None:
        self._replace(known_networks, {"network_id": network.network_id}, {
            "revision": network.revision, "name": network.name, "status": network.status.value,
            "requires_preparation": network.requires_preparation,
            "unprepared_policy": network.unprepared_policy.value,
        })

    def person(self, member_id: str) -> Person | None:
        return self.people([member_id]).get(member_id)

    def people(self, member_ids: Iterable[str]) -> dict[str, Person]:
        rows = self.connection.execute(
            select(known_people).where(known_people.c.member_id.in_(list(member_ids)))
        ).mappings()
        return {r["member_id"]: Person(r["member_id"], r["revision"], r["name"],
                                       tuple(Perspective(p) for p in r["perspectives"]),
                                       r["named_in_shared_outputs"], r["erased"]) for r in rows}

    def put_person(self, person: Person) -> None:
        self._replace(known_people, {"member_id": person.member_id}, {
            "revision": person.revision, "name": person.name, "perspectives": [p.value for p in person.perspectives],
            "named_in_shared_outputs": person.named_in_shared_outputs, "erased": person.erased,
        })

    def membership(self, network_id: str, member_id: str) -> MembershipRecord | None:
        row = self._first(known_memberships, network_id=network_id, member_id=member_id)
        return self._membership(row) if row else None

    def memberships_of(self, member_id: str) -> list[MembershipRecord]:
        rows = self.connection.execute(
            select(known_memberships).where(known_memberships.c.member_id == member_id)
            .order_by(known_memberships.c.network_id)
        ).mappings()
        return [self._membership(r) for r in rows]

    def put_membership(self, record: MembershipRecord) -> None:
        self._replace(known_memberships, {"network_id": record.network_id, "member_id": record.member_id}, {
            "role": record.role.value if record.role else None, "revision": record.revision, "active": record.active,
        })

    @staticmethod
    def _membership(row: RowMapping) -> MembershipRecord:
        return MembershipRecord(row["network_id"], row["member_id"],
                                MembershipRole(row["role"]) if row["role"] else None, row["revision"], row["active"])

    def _first(self, table: Table, **key: str) -> RowMapping | None:
        return self.connection.execute(select(table).filter_by(**key)).mappings().first()

    def _replace(self, table: Table, key: dict[str, str], values: dict[str, object]) -> None:
        """Upsert, guarded by revision in the database: two consumers racing on one record (the domain chose
        each write from what it read) cannot let the older revision land last."""
        dialect_insert = postgresql_insert if self.connection.dialect.name == "postgresql" else sqlite_insert
        statement = dialect_insert(table).values(**key, **values)
        self.connection.execute(statement.on_conflict_do_update(
            index_elements=list(key), set_=values, where=table.c.revision <= statement.excluded.revision,
        ))
