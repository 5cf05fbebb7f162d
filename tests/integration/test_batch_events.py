"""The batching event handler on real RabbitMQ and PostgreSQL: a burst is applied in batches, each event
once even when sent twice, and every message is settled on its own outcome exactly as the one-by-one
handler settles it (a failing event is dead-lettered after the delivery limit while the rest of its batch
commits; a broken rule and an undecodable message are dead-lettered at once with the reason)."""

from __future__ import annotations

import kombu
import pytest
from sqlalchemy import insert

from services.common import nameko_kit
from services.common.catalogue import MemberRegistered
from services.common.errors import Conflict
from services.common.events import Envelope
from services.common.nameko_kit import ServiceDatabase, batch_event_handler
from tests.integration.helpers import applied_rows, dead_letters, ledger_config
from tests.integration.ledger_service import POISON_NAME, LedgerUnitOfWork, applied
from tests.integration.test_messaging import publish_raw, registered_event
from tests.support.waiting import eventually

RULE_BREAKER = "Breaks A Rule"


class BatchLedgerService:
    name = "ledger"

    uow = ServiceDatabase(LedgerUnitOfWork)

    @batch_event_handler("members", "member.registered", batch_size=20)
    def on_member_registered(self, envelope: Envelope, payload: MemberRegistered, uow: LedgerUnitOfWork) -> None:
        if payload.name == POISON_NAME:
            raise RuntimeError("this handler can never process a poison pill")
        if payload.name == RULE_BREAKER:
            raise Conflict("this member breaks a rule of the ledger")
        uow.connection.execute(
            insert(applied).values(event_id=str(envelope.id), member_id=payload.member_id, name=payload.name,
                                   correlation_id=envelope.correlation_id)
        )


@pytest.fixture
def batch_sizes(monkeypatch):
    sizes: list[int] = []
    real = nameko_kit.apply_batch

    def recording(make_uow, deliveries, consumer):
        sizes.append(len(deliveries))
        return real(make_uow, deliveries, consumer)

    monkeypatch.setattr(nameko_kit, "apply_batch", recording)
    return sizes


def start_with_waiting_events(config, container_factory, *bodies: dict) -> None:
    """Declare the queue, publish while the consumer is down, then start it: the events wait together."""
    down = container_factory(BatchLedgerService, config)
    down.start()
    down.stop()
    publish_raw(config["AMQP_URI"], *bodies)
    container_factory(BatchLedgerService, config).start()


def test_a_burst_is_applied_in_batches_and_each_event_once_even_when_sent_twice(
    members_config, container_factory, batch_sizes
):
    events = [registered_event(f"Member {n}") for n in range(60)]
    twice = [events[3], events[4], events[41]]
    start_with_waiting_events(ledger_config(members_config), container_factory, *events[:10], *twice, *events[10:])

    db = members_config["DATABASE_URL"]
    rows = eventually(lambda: (rows := applied_rows(db)) and len(rows) >= 60 and rows, what="all 60 events")
    assert sorted(r.event_id for r in rows) == sorted(e["id"] for e in events)
    assert max(batch_sizes) > 1 and sum(batch_sizes) == 63
    assert all(r.correlation_id == e["correlation_id"] for r, e in zip(
        sorted(rows, key=lambda r: r.event_id), sorted(events, key=lambda e: e["id"]), strict=True))


def test_in_a_batch_a_failing_event_is_dead_lettered_after_the_delivery_limit_and_the_others_commit(
    members_config, container_factory, batch_sizes
):
    healthy = [registered_event(f"Healthy {n}") for n in range(6)]
    start_with_waiting_events(ledger_config(members_config), container_factory,
                              *healthy[:3], registered_event(POISON_NAME), registered_event(RULE_BREAKER),
                              *healthy[3:])

    db = members_config["DATABASE_URL"]
    rows = eventually(lambda: (rows := applied_rows(db)) and len(rows) >= 6 and rows, what="the healthy events")
    assert sorted(r.name for r in rows) == sorted(e["payload"]["name"] for e in healthy)
    assert max(batch_sizes) > 1

    parked: list[kombu.Message] = []
    eventually(lambda: parked.extend(dead_letters(members_config["AMQP_URI"])) or len(parked) >= 2,
               what="the poison pill and the rule breaker", timeout=30)
    by_name = {m.payload["payload"]["name"]: m for m in parked}
    assert set(by_name) == {POISON_NAME, RULE_BREAKER}
    assert by_name[POISON_NAME].headers["x-death"][0]["reason"] == "delivery_limit"
    assert by_name[RULE_BREAKER].headers["x-kring-reason"].startswith("conflict: this member breaks a rule")
    assert "x-death" not in by_name[RULE_BREAKER].headers, "a broken rule is parked at once, not retried"
    assert len(applied_rows(db)) == 6


def test_an_undecodable_message_never_enters_a_batch_and_is_dead_lettered_with_its_reason(
    members_config, container_factory
):
    config = ledger_config(members_config)
    down = container_factory(BatchLedgerService, config)
    down.start()
    down.stop()
    with kombu.Connection(config["AMQP_URI"], transport_options={"confirm_publish": True}) as conn:
        conn.Producer().publish(b"{not json", exchange="members.events", routing_key="member.registered",
                                content_type="application/json", content_encoding="utf-8")
    publish_raw(config["AMQP_URI"], {"type": "member.registered", "hello": 1}, registered_event("After"))
    container_factory(BatchLedgerService, config).start()

    rows = eventually(lambda: applied_rows(config["DATABASE_URL"]), what="the valid event")
    assert [r.name for r in rows] == ["After"]
    parked = eventually(lambda: (p := dead_letters(config["AMQP_URI"])) and len(p) == 2 and p, what="dead letters")
    reasons = sorted(m.headers["x-kring-reason"] for m in parked)
    assert reasons[0].startswith("not an event envelope") and reasons[1].startswith("undecodable message")
