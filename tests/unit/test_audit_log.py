"""The audit log's mechanism (services/common/audit.py) on a migrated SQLite database: an entry is written with the
change it records and goes when that change is rolled back, people are held only through audit_people (and lead
nowhere once forgotten), reading is the operator's, newest first and keyset-paged, the retention purge deletes
only what is older than the retention, and the gateway's merge of several services' pages misses nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, insert, select, text, update
from sqlalchemy.exc import DatabaseError

from services.common.audit import (
    AuditEntry,
    AuditPage,
    AuditQuery,
    Subject,
    SubjectOut,
    merge_pages,
    page_token_after,
    purge_audit,
    read_entries,
)
from services.common.caller import Caller
from services.common.errors import PermissionDenied, ValidationFailed
from services.members import models
from services.members.unit_of_work import MembersUnitOfWork
from tests.support.callers import OPERATOR

COORDINATOR = Caller.member("m-coordinator", administers=["n-1"])


@pytest.fixture
def engine(migrated_engine: Callable[[str], Engine]) -> Engine:
    return migrated_engine("members")


def unit(engine: Engine, correlation: str | None = "corr-1") -> MembersUnitOfWork:
    return MembersUnitOfWork(engine, producer="members", correlation_id=correlation)


def rows(engine: Engine, table=models.audit.log) -> list:
    with engine.connect() as conn:
        return list(conn.execute(select(table)).all())


def read(engine: Engine, **query) -> AuditPage:
    with unit(engine) as uow:
        return read_entries(OPERATOR, AuditQuery(**query), uow.audit, "members")


def test_an_entry_carries_the_action_actor_target_and_the_calls_correlation_and_request_ids(engine) -> None:
    with unit(engine) as uow:
        uow.request_id = "req-1"
        uow.audit.record("network.blocked", OPERATOR, Subject.network("n-1"), detail={"links_ended": 2})
        uow.commit()
    [entry] = read(engine).items
    assert (entry.action, entry.actor, entry.target, entry.correlation_id, entry.request_id, entry.detail) == (
        "network.blocked", SubjectOut(kind="operator"), SubjectOut(kind="network", id="n-1"), "corr-1", "req-1",
        {"links_ended": 2})
    assert entry.at.tzinfo is not None and entry.service == "members"


def test_an_entry_is_undone_with_the_transaction_it_was_written_in(engine) -> None:
    with unit(engine) as uow:
        uow.audit.record("member.erased", OPERATOR, Subject.member("m-1"))
        uow.rollback()
    assert rows(engine) == [] and rows(engine, models.audit.people) == []


def test_a_member_is_written_into_the_entry_only_as_an_opaque_reference(engine) -> None:
    with unit(engine) as uow:
        uow.audit.record("token.issued", COORDINATOR, Subject.member("m-1"), detail={"token_id": "t-1"})
        uow.commit()
    [row] = rows(engine)
    assert "m-1" not in str(tuple(row)) and "m-coordinator" not in str(tuple(row))
    mapping = {r.ref: r.member_id for r in rows(engine, models.audit.people)}
    assert mapping == {row.actor_id: "m-coordinator", row.target_id: "m-1"}
    [entry] = read(engine).items
    assert (entry.actor.id, entry.target.id, entry.target.erased) == ("m-coordinator", "m-1", False)


def test_a_forgotten_member_is_shown_as_erased_and_the_entry_itself_is_unchanged(engine) -> None:
    with unit(engine) as uow:
        uow.audit.record("member.exported", COORDINATOR, Subject.member("m-1"))
        uow.commit()
    before = rows(engine)
    with unit(engine) as uow:
        uow.audit.forget_member("m-1")
        uow.commit()
    assert rows(engine) == before
    [entry] = read(engine).items
    assert entry.target == SubjectOut(kind="member", id=None, erased=True)
    assert entry.actor == SubjectOut(kind="member", id="m-coordinator")
    assert read(engine, target_id="m-1").items == []  # nothing leads to the erased person any more


def test_an_operators_sign_in_is_written_as_the_operator_with_the_person_only_as_a_reference(engine) -> None:
    with unit(engine) as uow:
        uow.audit.record("member.exported", Caller(kind="operator", member_id="m-olga"), Subject.member("m-1"))
        uow.commit()
    [row] = rows(engine)
    assert row.actor_kind == "operator" and "m-olga" not in str(tuple(row))
    assert {r.ref: r.member_id for r in rows(engine, models.audit.people)}[row.actor_id] == "m-olga"
    [entry] = read(engine).items
    assert entry.actor == SubjectOut(kind="operator", person=SubjectOut(kind="member", id="m-olga"))
    with unit(engine) as uow:
        uow.audit.forget_member("m-olga")
        uow.commit()
    [entry] = read(engine).items
    assert entry.actor == SubjectOut(kind="operator", person=SubjectOut(kind="member", id=None, erased=True))


def test_the_operator_token_is_written_as_the_operator_and_no_person(engine) -> None:
    with unit(engine) as uow:
        uow.audit.record("member.exported", OPERATOR, Subject.member("m-1"))
        uow.commit()
    [row] = rows(engine)
    assert (row.actor_kind, row.actor_id) == ("operator", None)
    assert read(engine).items[0].actor == SubjectOut(kind="operator")


def test_the_detail_holds_ids_and_statuses_only(engine) -> None:
    with unit(engine) as uow, pytest.raises(ValueError, match="reason"):
        uow.audit.record("network.blocked", OPERATOR, Subject.network("n-1"), detail={"reason": "spam"})


def test_an_update_of_an_entry_is_refused_by_the_database(engine) -> None:
    with unit(engine) as uow:
        uow.audit.record("network.blocked", OPERATOR, Subject.network("n-1"))
        uow.commit()
    with engine.begin() as conn, pytest.raises(DatabaseError, match="append-only"):
        conn.execute(update(models.audit.log).values(action="link.revoked"))
    assert rows(engine)[0].action == "network.blocked"


def test_only_the_operator_reads_the_audit_log(engine) -> None:
    with unit(engine) as uow, pytest.raises(PermissionDenied):
        read_entries(COORDINATOR, AuditQuery(), uow.audit, "members")


def record_at(engine: Engine, at: datetime, action: str = "network.blocked", target: str = "n-1",
              entry_id: str | None = None) -> None:
    with engine.begin() as conn:
        conn.execute(insert(models.audit.log).values(
            id=entry_id or f"e-{at.isoformat()}-{target}", at=at, action=action, actor_kind="operator",
            actor_id=None, target_kind="network", target_id=target, detail={}))


def test_entries_are_read_newest_first_in_pages_that_miss_nothing_on_equal_moments(engine) -> None:
    moment = datetime(2026, 5, 1, tzinfo=UTC)
    for index in range(5):
        record_at(engine, moment, entry_id=f"e-{index}")
    record_at(engine, moment + timedelta(seconds=1), entry_id="e-later")
    seen, token = [], None
    while True:
        page = read(engine, page_size=2, page_token=token)
        seen += [e.id for e in page.items]
        token = page.next_page_token
        if token is None:
            break
    assert seen == ["e-later", "e-4", "e-3", "e-2", "e-1", "e-0"]


def test_entries_are_filtered_by_action_window_and_target(engine) -> None:
    moment = datetime(2026, 5, 1, tzinfo=UTC)
    record_at(engine, moment, "network.blocked", "n-1")
    record_at(engine, moment + timedelta(hours=1), "link.revoked", "n-2")
    record_at(engine, moment + timedelta(hours=2), "network.blocked", "n-2")
    assert [e.target.id for e in read(engine, action="network.blocked").items] == ["n-2", "n-1"]
    assert [e.action for e in read(engine, since=moment + timedelta(minutes=30),
                                   until=moment + timedelta(hours=2)).items] == ["link.revoked"]
    assert [e.action for e in read(engine, target_id="n-1").items] == ["network.blocked"]


@pytest.mark.parametrize(("query", "field"), [
    ({"action": "member.renamed"}, "action"),
    ({"page_token": "not-a-token"}, "page_token"),
    ({"since": "2026-05-02T00:00:00+00:00", "until": "2026-05-01T00:00:00+00:00"}, "until"),
])
def test_a_bad_filter_is_refused_naming_its_field(query, field) -> None:
    from pydantic import ValidationError

    with pytest.raises((ValidationFailed, ValidationError)) as raised:
        AuditQuery.model_validate(query)
    if isinstance(raised.value, ValidationFailed):
        assert raised.value.violations[0]["field"] == field
    else:
        assert raised.value.errors()[0]["loc"] == (field,)


def test_the_purge_deletes_only_entries_and_references_past_the_retention(engine) -> None:
    now = datetime.now(UTC)
    record_at(engine, now - timedelta(days=10), entry_id="old")
    record_at(engine, now - timedelta(days=1), entry_id="recent")
    with engine.begin() as conn:
        conn.execute(insert(models.audit.people).values(ref="r-old", member_id="m-1", at=now - timedelta(days=10)))
        conn.execute(insert(models.audit.people).values(ref="r-new", member_id="m-1", at=now - timedelta(days=1)))
    assert purge_audit(engine, models.audit, timedelta(days=5)) == 1
    assert [r.id for r in rows(engine)] == ["recent"]
    assert [r.ref for r in rows(engine, models.audit.people)] == ["r-new"]


def entry(entry_id: str, at: datetime) -> AuditEntry:
    return AuditEntry(id=entry_id, at=at, action="link.revoked", actor=SubjectOut(kind="operator"),
                      target=SubjectOut(kind="link", id="l-1"))


def test_merged_pages_of_several_services_are_the_newest_entries_of_all_with_the_next_position() -> None:
    t = datetime(2026, 5, 1, tzinfo=UTC)
    members = AuditPage(items=[entry("a", t + timedelta(seconds=5)), entry("b", t + timedelta(seconds=1))],
                        next_page_token=page_token_after(entry("b", t + timedelta(seconds=1))))
    federation = AuditPage(items=[entry("c", t + timedelta(seconds=3))])
    merged = merge_pages([members, federation], 2)
    assert [e.id for e in merged.items] == ["a", "c"]
    assert merged.next_page_token == page_token_after(entry("c", t + timedelta(seconds=3)))
    assert merge_pages([AuditPage(items=[entry("a", t)]), AuditPage(items=[])], 2).next_page_token is None


def test_the_sqlite_trigger_exists_in_the_migrated_schema(engine) -> None:
    with engine.connect() as conn:
        names = conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).scalars().all()
    assert "audit_log_append_only" in names
