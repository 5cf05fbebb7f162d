"""The audit log on PostgreSQL, as migrated: the trigger refuses a plain UPDATE, DELETE or TRUNCATE of an entry,
whoever sends it, and lets through only the retention purge, whose transaction sets the local flag; the flag does
not outlive that transaction. Both services that keep the log (members, federation) get the same trigger."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, delete, func, insert, select, text, update
from sqlalchemy.exc import DatabaseError

from services.common.audit import AuditQuery, Subject, purge_audit, read_entries
from services.common.db import create_service_engine
from services.common.errors import Conflict
from services.common.migrations import upgrade
from services.federation import models as federation_models
from services.members import models
from services.members.unit_of_work import MembersUnitOfWork
from tests.support.callers import OPERATOR

LOG = models.audit.log


@pytest.fixture
def engine(pg_url: str) -> Iterator[Engine]:
    upgrade("members", pg_url)
    engine = create_service_engine(pg_url, "members")
    yield engine
    engine.dispose()


def record(engine: Engine, at: datetime | None = None) -> None:
    with engine.begin() as conn:
        conn.execute(insert(LOG).values(id=f"e-{datetime.now(UTC).timestamp()}", at=at or datetime.now(UTC),
                                        action="network.blocked", actor_kind="operator", target_kind="network",
                                        target_id="n-1", detail={}))


def count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(LOG)).scalar_one())


@pytest.mark.parametrize("statement", [update(LOG).values(action="link.revoked"), delete(LOG),
                                       text("TRUNCATE audit_log")], ids=["update", "delete", "truncate"])
def test_a_plain_change_of_an_entry_is_refused_by_postgresql(engine, statement) -> None:
    record(engine)
    with engine.begin() as conn, pytest.raises(DatabaseError, match="append-only"):
        conn.execute(statement)
    with engine.connect() as conn:
        assert conn.execute(select(LOG.c.action)).scalars().all() == ["network.blocked"]


def test_the_purge_deletes_entries_past_the_retention_and_its_flag_ends_with_its_transaction(engine) -> None:
    record(engine, datetime.now(UTC) - timedelta(days=40))
    record(engine)
    assert purge_audit(engine, models.audit, timedelta(days=30)) == 1
    assert count(engine) == 1
    with engine.begin() as conn, pytest.raises(DatabaseError, match="append-only"):
        conn.execute(delete(LOG))  # the same pool's connections: the flag was local to the purge
    assert count(engine) == 1


def test_an_entry_written_through_the_unit_of_work_reads_back_with_the_member_and_then_as_erased(engine) -> None:
    with MembersUnitOfWork(engine, producer="members", correlation_id="corr-pg") as uow:
        uow.audit.record("member.erased", OPERATOR, Subject.member("m-1"))
        uow.commit()
    with MembersUnitOfWork(engine, producer="members") as uow:
        [entry] = read_entries(OPERATOR, AuditQuery(target_id="m-1"), uow.audit, "members").items
        assert (entry.target.id, entry.correlation_id) == ("m-1", "corr-pg")
        uow.audit.forget_member("m-1")
        uow.commit()
    with MembersUnitOfWork(engine, producer="members") as uow:
        [entry] = read_entries(OPERATOR, AuditQuery(), uow.audit, "members").items
        assert (entry.target.id, entry.target.erased) == (None, True)


def test_the_federation_schema_has_the_same_trigger(pg_url) -> None:
    upgrade("federation", pg_url)
    engine = create_service_engine(pg_url, "federation")
    try:
        log = federation_models.audit.log
        with engine.begin() as conn:
            conn.execute(insert(log).values(id="e-1", at=datetime.now(UTC), action="link.revoked",
                                            actor_kind="operator", target_kind="link", target_id="l-1", detail={}))
        with engine.begin() as conn, pytest.raises(DatabaseError, match="append-only"):
            conn.execute(update(log).values(target_id="l-2"))
    finally:
        engine.dispose()


# --- the members service running on RabbitMQ and PostgreSQL ------------------------------------------------------


def test_a_command_over_rpc_records_its_request_and_correlation_ids_once_however_often_it_is_retried(
        members_config, container_factory) -> None:
    from nameko.standalone.rpc import ClusterRpcProxy

    from services.members.service import MembersService
    from tests.support.callers import OPERATOR_WIRE

    container_factory(MembersService, members_config).start()
    context = {"request_id": "key-token-1", "correlation_id": "corr-token-1"}
    with ClusterRpcProxy(members_config, timeout=10) as rpc:
        anna = rpc.members.register_member(OPERATOR_WIRE, {"name": "Anna", "email": "anna@example.org",
                                                           "perspectives": ["resident"]})
    with ClusterRpcProxy(members_config, timeout=10, context_data=context) as rpc:
        issued = rpc.members.issue_token(OPERATOR_WIRE, anna["id"], {"label": "laptop"})
        # the same key again: answered from the record (the token was shown once), nothing applied twice
        with pytest.raises(Conflict):
            rpc.members.issue_token(OPERATOR_WIRE, anna["id"], {"label": "laptop"})
    with ClusterRpcProxy(members_config, timeout=10) as rpc:
        page = rpc.members.audit_entries(OPERATOR_WIRE, {"action": "token.issued"})
    [entry] = page["items"]
    assert (entry["request_id"], entry["correlation_id"], entry["detail"]) == (
        "key-token-1", "corr-token-1", {"token_id": issued["token_id"], "via": "operator"})
    assert entry["target"] == {"kind": "member", "id": anna["id"], "erased": False}
    with ClusterRpcProxy(members_config, timeout=10, context_data={"correlation_id": "corr-export"}) as rpc:
        rpc.members.export_member(OPERATOR_WIRE, anna["id"])
        [export] = rpc.members.audit_entries(OPERATOR_WIRE, {"action": "member.exported"})["items"]
    assert export["correlation_id"] == "corr-export" and export["request_id"]  # a query names its request too


def test_the_services_housekeeping_purges_entries_past_the_configured_retention(members_config,
                                                                                 container_factory) -> None:
    from services.members.service import MembersService
    from tests.support.waiting import eventually

    engine = create_service_engine(members_config["DATABASE_URL"], "members")
    try:
        record(engine, datetime.now(UTC) - timedelta(days=40))
        record(engine)
        container_factory(MembersService, {**members_config, "KRING_AUDIT_RETENTION_DAYS": 30}).start()
        eventually(lambda: count(engine), "the entry past its retention purged", timeout=20,
                   accept=lambda n: n == 1)
    finally:
        engine.dispose()
