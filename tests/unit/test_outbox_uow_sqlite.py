"""The members unit of work and the outbox relay on SQLite: state, outbox rows and consumer markers commit
together, and the relay marks a row published only after the broker took it."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, select

from services.common.events import parse_event
from services.common.outbox import OutboxRelay, OutgoingMessage
from services.common.vocabulary import MembershipRole, Perspective
from services.members.domain import Member
from services.members.models import members, outbox
from services.members.unit_of_work import MembersUnitOfWork
from tests.support.databases import count_rows

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


class RecordingPublisher:
    def __init__(self) -> None:
        self.batches: list[list[OutgoingMessage]] = []

    def publish(self, messages: Iterable[OutgoingMessage]) -> int:
        batch = list(messages)
        self.batches.append(batch)
        return len(batch)

    @property
    def sent(self) -> list[OutgoingMessage]:
        return [m for batch in self.batches for m in batch]


class RefusingPublisher:
    def publish(self, messages: Iterable[OutgoingMessage]) -> int:
        list(messages)
        raise TimeoutError("broker did not confirm 3 messages in time")


@pytest.fixture
def engine(migrated_engine: Callable[[str], Engine]) -> Engine:
    return migrated_engine("members")


def new_member(n: int = 1) -> Member:
    return Member.register(f"m-{n}", now=T0, name=f"Member {n}", email=f"m{n}@example.org", organisation=None,
                           perspectives=[Perspective.RESIDENT], expertise=[], findable_by_expertise=False,
                           named_in_shared_outputs=False)


def register(engine: Engine, n: int = 1, correlation_id: str | None = None) -> Member:
    member = new_member(n)
    with MembersUnitOfWork(engine, producer="members", correlation_id=correlation_id) as uow:
        uow.members.add(member)
        uow.commit()
    return member


def test_recorded_events_reach_the_outbox_in_the_same_commit_as_the_member(engine: Engine) -> None:
    woken: list[bool] = []
    with MembersUnitOfWork(engine, producer="members", correlation_id="corr-7",
                           on_commit=lambda: woken.append(True)) as uow:
        uow.members.add(new_member())
        assert count_rows(engine, outbox) == 0 and count_rows(engine, members) == 0  # nothing visible before commit
        uow.commit()
        assert (count_rows(engine, members), count_rows(engine, outbox)) == (1, 1)
    assert woken == [True]  # the relay is woken once the rows are there
    with engine.connect() as conn:
        row = conn.execute(select(outbox)).mappings().one()
    envelope, payload = parse_event(row["envelope"])
    assert (row["event_type"], row["subject"], row["published_at"]) == ("member.registered", "m-1", None)
    assert (envelope.producer, envelope.correlation_id, str(envelope.id)) == ("members", "corr-7", row["event_id"])
    assert payload.member_id == "m-1"


def test_a_failure_before_commit_leaves_neither_member_nor_outbox_row(engine: Engine) -> None:
    with pytest.raises(RuntimeError), MembersUnitOfWork(engine, producer="members") as uow:
        uow.members.add(new_member())
        raise RuntimeError("handler failed half-way")
    assert (count_rows(engine, members), count_rows(engine, outbox)) == (0, 0)


def test_changes_to_a_loaded_member_are_collected_at_commit(engine: Engine) -> None:
    register(engine)
    with MembersUnitOfWork(engine, producer="members") as uow:
        member = uow.members.get("m-1")
        assert member is not None
        member.join("utrecht", MembershipRole.PARTICIPANT, now=T0)
        uow.members.save(member)
        uow.commit()
        assert member.events == []  # taken by the unit of work
    with MembersUnitOfWork(engine, producer="members") as uow:
        assert [e["type"] for e in uow.events_about("m-1")] == ["member.registered", "membership.joined"]


def test_a_commit_without_events_writes_no_outbox_row_and_wakes_no_relay(engine: Engine) -> None:
    register(engine)
    woken: list[bool] = []
    with MembersUnitOfWork(engine, producer="members", on_commit=lambda: woken.append(True)) as uow:
        uow.members.get("m-1")
        uow.commit()
    assert count_rows(engine, outbox) == 1 and woken == []


def test_forgetting_events_about_a_member_removes_only_their_rows(engine: Engine) -> None:
    register(engine, 1)
    register(engine, 2)
    with MembersUnitOfWork(engine, producer="members") as uow:
        uow.forget_events_about("m-1")
        uow.commit()
    with MembersUnitOfWork(engine, producer="members") as uow:
        assert uow.events_about("m-1") == []
        assert [e["payload"]["member_id"] for e in uow.events_about("m-2")] == ["m-2"]


def test_an_event_is_consumed_once_per_consumer(engine: Engine) -> None:
    event_id = uuid.uuid4()
    with MembersUnitOfWork(engine, producer="members") as uow:
        assert uow.begin_consuming(event_id, "members.on_network_closed") is True
        uow.commit()
    with MembersUnitOfWork(engine, producer="members") as uow:
        assert uow.begin_consuming(event_id, "members.on_network_closed") is False
        assert uow.begin_consuming(event_id, "members.on_session_held") is True
        assert uow.begin_consuming(uuid.uuid4(), "members.on_network_closed") is True


def test_a_handler_that_fails_after_begin_consuming_can_consume_the_redelivery(engine: Engine) -> None:
    """Marker and effect commit together or not at all; else the redelivered event is dropped as a duplicate."""
    event_id = uuid.uuid4()
    with pytest.raises(RuntimeError), MembersUnitOfWork(engine, producer="members") as uow:
        assert uow.begin_consuming(event_id, "members.on_network_closed") is True
        uow.members.add(new_member())  # the handler's effect
        raise RuntimeError("handler failed before commit")
    assert count_rows(engine, members) == 0
    with MembersUnitOfWork(engine, producer="members") as uow:
        assert uow.begin_consuming(event_id, "members.on_network_closed") is True, "marker outlived the rollback"


def relay(engine: Engine, publisher: Any, batch_size: int = 500) -> OutboxRelay:
    return OutboxRelay(engine, outbox, publisher, producer="members", batch_size=batch_size)


def test_the_relay_publishes_in_outbox_order_to_the_producers_exchange(engine: Engine) -> None:
    for n in (1, 2, 3):
        register(engine, n, correlation_id=f"corr-{n}")
    publisher = RecordingPublisher()

    assert relay(engine, publisher).publish_pending() == 3

    assert [m.body["payload"]["member_id"] for m in publisher.sent] == ["m-1", "m-2", "m-3"]
    assert {(m.exchange, m.routing_key, m.exchange_type) for m in publisher.sent} == {
        ("members.events", "member.registered", "topic")}
    assert [m.headers for m in publisher.sent] == [{"nameko.correlation_id": f"corr-{n}"} for n in (1, 2, 3)]
    assert [parse_event(m.body)[0].type for m in publisher.sent] == ["member.registered"] * 3


def test_published_rows_are_marked_and_not_sent_again(engine: Engine) -> None:
    register(engine)
    publisher = RecordingPublisher()
    relay(engine, publisher).publish_pending()
    assert relay(engine, publisher).publish_pending() == 0
    assert len(publisher.sent) == 1
    with engine.connect() as conn:
        assert conn.execute(select(outbox.c.published_at)).scalar_one() is not None


def test_rows_stay_pending_when_the_broker_does_not_confirm(engine: Engine) -> None:
    for n in (1, 2, 3):
        register(engine, n)
    with pytest.raises(TimeoutError):
        relay(engine, RefusingPublisher()).publish_pending()
    assert relay(engine, RefusingPublisher()).backlog()[0] == 3

    publisher = RecordingPublisher()
    assert relay(engine, publisher).publish_pending() == 3  # the next run sends them
    assert relay(engine, publisher).backlog() == (0, 0.0)


def test_the_relay_works_in_batches_and_publish_all_pending_drains_them(engine: Engine) -> None:
    for n in range(1, 6):
        register(engine, n)
    publisher = RecordingPublisher()
    assert relay(engine, publisher, batch_size=2).publish_all_pending() == 5
    assert [len(batch) for batch in publisher.batches] == [2, 2, 1]
    assert [m.body["payload"]["member_id"] for m in publisher.sent] == [f"m-{n}" for n in range(1, 6)]


def test_publish_all_pending_stops_at_a_short_batch_without_querying_again(engine: Engine) -> None:
    """Rows committed after the short batch's query wake the relay again (``on_commit``): no empty query is owed."""
    for n in range(1, 4):
        register(engine, n)
    queries: list[int] = []

    class CountingRelay(OutboxRelay):
        def publish_pending(self) -> int:
            queries.append(published := super().publish_pending())
            return published

    counting = CountingRelay(engine, outbox, RecordingPublisher(), producer="members", batch_size=2)
    assert counting.publish_all_pending() == 3
    assert queries == [2, 1]


def test_backlog_counts_pending_rows_and_the_age_of_the_oldest(engine: Engine) -> None:
    assert relay(engine, RecordingPublisher()).backlog() == (0, 0.0)
    register(engine, 1)
    register(engine, 2)
    pending, oldest_age = relay(engine, RecordingPublisher()).backlog()
    assert pending == 2
    assert 0.0 <= oldest_age < 3600


def test_purging_history_keeps_unpublished_rows_and_recent_ones(engine: Engine) -> None:
    from datetime import timedelta

    from sqlalchemy import insert

    from services.common.outbox import MessagingTables, Purged, Retention, purge_history
    from services.members.models import processed_commands, processed_events

    now = datetime.now(UTC)
    old, recent = now - timedelta(days=10), now - timedelta(hours=1)
    rows = [("published-old", old, old), ("unpublished-old", old, None), ("published-recent", recent, recent)]
    with engine.begin() as conn:
        for event_id, created, published in rows:
            conn.execute(insert(outbox).values(event_id=event_id, event_type="member.updated", envelope={},
                                               created_at=created, published_at=published))
        conn.execute(insert(processed_events), [
            {"event_id": "seen-long-ago", "consumer": "c", "processed_at": now - timedelta(days=40)},
            {"event_id": "seen-lately", "consumer": "c", "processed_at": recent},
        ])
        conn.execute(insert(processed_commands), [
            {"request_id": "applied-yesterday", "command": "c", "fingerprint": "f", "outcome": {"result": None},
             "recorded_at": now - timedelta(hours=30)},
            {"request_id": "applied-lately", "command": "c", "fingerprint": "f", "outcome": {"result": None},
             "recorded_at": recent},
        ])

    counts = purge_history(engine, MessagingTables(outbox, processed_events, processed_commands),
                           Retention(outbox=timedelta(days=7), events=timedelta(days=30), commands=timedelta(hours=24)))

    with engine.connect() as conn:
        left = sorted(conn.execute(select(outbox.c.event_id)).scalars())
        markers = list(conn.execute(select(processed_events.c.event_id)).scalars())
        records = list(conn.execute(select(processed_commands.c.request_id)).scalars())
    assert counts == Purged(published=1, event_markers=1, command_records=1)
    assert left == ["published-recent", "unpublished-old"]
    assert markers == ["seen-lately"]
    assert records == ["applied-lately"]
