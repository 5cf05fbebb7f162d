"""Applying consumed events in batches (``apply_batch``) on SQLite: one transaction for the batch, and
for each event exactly the outcome it would have had alone: applied once with its marker, skipped as a
repeat, or failed without touching the others."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Column, Engine, MetaData, String, Table, event, insert, select

from services.common.catalogue import MemberErased
from services.common.db import create_service_engine
from services.common.errors import Conflict
from services.common.outbox import messaging_tables
from services.common.uow import Delivery, SqlUnitOfWork, apply_batch, apply_once

metadata = MetaData()
applied = Table("applied", metadata, Column("event_id", String(36), primary_key=True))
outbox, processed, commands = messaging_tables(metadata)
CONSUMER = "ledger.on_member_registered"


class LedgerUnitOfWork(SqlUnitOfWork):
    outbox = outbox
    processed = processed


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_service_engine(f"sqlite:///{tmp_path / 'ledger.db'}", "ledger")
    metadata.create_all(engine)
    yield engine
    engine.dispose()


def make_uow(engine: Engine):
    return lambda: LedgerUnitOfWork(engine, producer="ledger")


def record(event_id: uuid.UUID):
    def effect(uow: SqlUnitOfWork) -> None:
        uow.connection.execute(insert(applied).values(event_id=str(event_id)))

    return effect


def delivery(event_id: uuid.UUID | None = None, correlation_id: str | None = None) -> Delivery:
    event_id = event_id or uuid.uuid4()
    return Delivery(event_id, record(event_id), correlation_id)


def applied_ids(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(conn.execute(select(applied.c.event_id)).scalars())


def markers(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(conn.execute(select(processed.c.event_id)).scalars())


def count_commits(engine: Engine) -> list[int]:
    commits = [0]
    event.listen(engine, "commit", lambda conn: commits.__setitem__(0, commits[0] + 1))
    return commits


def test_a_batch_applies_every_event_with_its_marker_in_one_commit(engine: Engine) -> None:
    batch = [delivery() for _ in range(5)]
    commits = count_commits(engine)

    assert apply_batch(make_uow(engine), batch, CONSUMER) == [None] * 5

    assert commits == [1]
    assert applied_ids(engine) == sorted(str(d.event_id) for d in batch) == markers(engine)


def test_the_same_event_twice_in_one_batch_is_applied_once(engine: Engine) -> None:
    twice = delivery()
    other = delivery()

    assert apply_batch(make_uow(engine), [twice, other, twice], CONSUMER) == [None, None, None]

    assert applied_ids(engine) == sorted([str(twice.event_id), str(other.event_id)])


def test_an_event_processed_before_changes_nothing_when_it_comes_again_in_a_batch(engine: Engine) -> None:
    seen = delivery()
    apply_once(make_uow(engine)(), seen.event_id, CONSUMER, seen.effect)
    fresh = delivery()

    assert apply_batch(make_uow(engine), [seen, fresh], CONSUMER) == [None, None]

    assert applied_ids(engine) == sorted([str(seen.event_id), str(fresh.event_id)])


def test_a_failing_event_fails_alone_and_the_rest_of_its_batch_commits(engine: Engine) -> None:
    def half_then_fail(uow: SqlUnitOfWork) -> None:
        record(poison_id)(uow)  # written, then rolled back with the failure
        raise RuntimeError("cannot apply this one")

    def break_a_rule(uow: SqlUnitOfWork) -> None:
        raise Conflict("breaks a rule")

    poison_id = uuid.uuid4()
    first, last = delivery(), delivery()
    broken = Delivery(uuid.uuid4(), break_a_rule)

    outcomes = apply_batch(make_uow(engine), [first, Delivery(poison_id, half_then_fail), last, broken], CONSUMER)

    assert outcomes[0] is None and outcomes[2] is None
    assert isinstance(outcomes[1], RuntimeError) and isinstance(outcomes[3], Conflict)
    assert applied_ids(engine) == sorted([str(first.event_id), str(last.event_id)])
    assert str(poison_id) not in markers(engine), "a failed event keeps no marker, so its redelivery is applied"
    assert apply_batch(make_uow(engine), [delivery(poison_id)], CONSUMER) == [None]
    assert str(poison_id) in applied_ids(engine)


def test_the_events_a_batch_writes_carry_the_correlation_id_of_the_event_that_caused_them(engine: Engine) -> None:
    def erase(member_id: str):
        return lambda uow: uow.add_event(MemberErased(member_id=member_id, revision=2))

    batch = [Delivery(uuid.uuid4(), erase(f"m-{n}"), f"cid-{n}") for n in range(3)]
    woken = []
    factory = lambda: LedgerUnitOfWork(engine, producer="ledger", on_commit=lambda: woken.append(1))  # noqa: E731

    assert apply_batch(factory, batch, CONSUMER) == [None] * 3

    with engine.connect() as conn:
        rows = conn.execute(select(outbox.c.subject, outbox.c.envelope).order_by(outbox.c.position)).all()
    assert [(r.subject, r.envelope["correlation_id"]) for r in rows] == [(f"m-{n}", f"cid-{n}") for n in range(3)]
    assert woken == [1], "the relay is woken once, after the commit"


def test_a_batch_of_one_is_applied_as_apply_once_applies_it(engine: Engine) -> None:
    single = delivery()
    assert apply_batch(make_uow(engine), [single], CONSUMER) == [None]
    assert apply_batch(make_uow(engine), [single], CONSUMER) == [None]
    assert applied_ids(engine) == [str(single.event_id)]
