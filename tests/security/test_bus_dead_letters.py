"""Malformed messages on the bus, against the real services' queues of a running stack: each lands in the
dead-letter queue with its reason, and the consumers keep going.

Whoever can publish to ``members.events`` can send anything with the routing key ``membership.joined``, which
the networks and sessions services consume (each in its own durable queue). Five bad messages go first: bytes
that are not JSON, a content type the consumers do not accept, JSON that is not an event envelope, an envelope
of a version this code does not know, and a known event whose payload breaks its schema. Then a real membership
change through the admin API: its event queues up behind them and must still be applied, which the admin API
shows (the network's member count) and each service's metrics count.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import quote

import httpx
import kombu
import pytest
from prometheus_client.parser import text_string_to_metric_families

from services.common.nameko_kit import DEAD_LETTER_QUEUE
from tests.security.world import World
from tests.support.http import ok
from tests.support.infra import RABBIT_MANAGEMENT, RABBIT_PASSWORD, RABBIT_USER
from tests.support.waiting import eventually

EXCHANGE = "members.events"
ROUTING_KEY = "membership.joined"


def envelope(marker: str, **changes) -> dict:
    return {"id": str(uuid.uuid4()), "type": ROUTING_KEY, "version": 1, "occurred_at": datetime.now(UTC).isoformat(),
            "producer": "members", "correlation_id": marker,
            "payload": {"member_id": f"m-{marker}", "network_id": f"n-{marker}", "role": "participant",
                        "perspectives": ["resident"], "revision": 1}, **changes}


# name -> (body, content type, how the reason starts)
def malformed(marker: str) -> dict[str, tuple[bytes, str, str]]:
    return {
        "not JSON": (f'{{"not json {marker}'.encode(), "application/json", "undecodable message"),
        "a content type nobody accepts": (f"hallo {marker}".encode(), "text/plain", "undecodable message"),
        "not an envelope": (json.dumps({"type": ROUTING_KEY, "hello": marker}).encode(), "application/json",
                            "not an event envelope"),
        "an unknown event version": (json.dumps(envelope(marker, version=99)).encode(), "application/json",
                                     f"unknown event {ROUTING_KEY} v99"),
        "a payload that breaks its schema": (json.dumps(envelope(marker, payload={
            "member_id": f"m-{marker}", "role": "grandmaster"})).encode(), "application/json",
            f"invalid payload for {ROUTING_KEY} v1"),
    }


def consumers_of(amqp_uri: str, exchange: str, routing_key: str) -> set[str]:
    """The queues bound to the exchange with the routing key: one per handler of that event."""
    vhost = amqp_uri.rsplit("/", 1)[1]
    with httpx.Client(base_url=RABBIT_MANAGEMENT, auth=(RABBIT_USER, RABBIT_PASSWORD), timeout=10) as api:
        bindings = api.get(f"/api/exchanges/{vhost}/{quote(exchange, safe='')}/bindings/source").json()
    return {b["destination"] for b in bindings if b["routing_key"] == routing_key and b["destination_type"] == "queue"}


def take_dead_letters(amqp_uri: str) -> list[kombu.Message]:
    taken = []
    with kombu.Connection(amqp_uri, connect_timeout=5) as conn:
        queue = kombu.Queue(DEAD_LETTER_QUEUE, queue_arguments={"x-queue-type": "quorum"}, durable=True)
        bound = queue(conn.default_channel)
        while (message := bound.get(no_ack=True)) is not None:
            taken.append(message)
    return taken


def marked(message: kombu.Message, marker: str) -> bool:
    return marker in message.body.decode("utf-8", "replace") if isinstance(message.body, bytes) \
        else marker in str(message.body)


def consumed(stack, process: str, handler: str) -> dict[str, float]:
    """kring_events_consumed_total of one handler, by outcome."""
    text = httpx.get(stack.metrics_url(process), timeout=10).text
    found: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "kring_events_consumed_total" and sample.labels.get("handler") == handler:
                found[sample.labels["outcome"]] = found.get(sample.labels["outcome"], 0) + sample.value
    return found


@pytest.fixture(scope="module")
def published(world: World, amqp_uri) -> Iterator[tuple[str, dict, set[str], dict]]:
    """Publish the malformed messages, then make a real membership change; yield what the tests look at."""
    marker = uuid.uuid4().hex
    # The services' consumer queues; a gateway's change feed queue (gateway.changes.*) only drops cached answers and
    # dead-letters nothing: it takes messages without acknowledgement and ignores one it cannot read.
    queues = {q for q in consumers_of(amqp_uri, EXCHANGE, ROUTING_KEY) if not q.startswith("gateway.changes.")}
    before = {process: consumed(world.stack, process, "on_membership_joined") for process in ("networks", "sessions")}
    messages = malformed(marker)
    # With publisher confirms: a publish the broker has not confirmed when the connection closes may be dropped
    # (seen with quorum queues), and the test would then wait for dead letters that were never queued.
    with kombu.Connection(amqp_uri, connect_timeout=5, transport_options={"confirm_publish": True}) as conn:
        producer = conn.Producer()
        for body, content_type, _ in messages.values():
            producer.publish(body, exchange=EXCHANGE, routing_key=ROUTING_KEY, content_type=content_type,
                             content_encoding="utf-8", delivery_mode=2)
    yield marker, messages, queues, before


def test_the_event_has_a_consumer_in_the_networks_and_in_the_sessions_service(published):
    _, _, queues, _ = published
    assert {queue.rsplit("--", 1)[1] for queue in queues} >= {"networks.on_membership_joined",
                                                               "sessions.on_membership_joined"}


def dead_lettered(amqp_uri: str, marker: str, reasons: list[str], queues: set[str],
                  timeout: float = 20.0) -> list[kombu.Message]:
    """Wait until each queue dead-lettered one message per expected reason (reasons are prefixes); fail the test
    otherwise. Returns the parked messages carrying ``marker``."""
    parked: list[kombu.Message] = []

    def all_parked() -> bool:
        parked.extend(m for m in take_dead_letters(amqp_uri) if marked(m, marker))
        return len(parked) >= len(reasons) * len(queues)

    eventually(all_parked, f"{len(reasons)} malformed messages dead-lettered by each of {sorted(queues)}", timeout)
    found = sorted((m.headers["x-kring-queue"], m.headers["x-kring-reason"]) for m in parked)
    assert len(found) == len(reasons) * len(queues), found
    for queue in queues:
        given = sorted(reason for where, reason in found if where == queue)
        assert len(given) == len(reasons), (queue, given)
        assert all(reason.startswith(start) for reason, start in zip(given, sorted(reasons), strict=True)), \
            (queue, given)
    assert all(m.headers.get("x-kring-failed-at") for m in parked)
    return parked


def test_each_malformed_message_is_dead_lettered_by_every_consumer_with_its_reason(published, amqp_uri):
    marker, messages, queues, _ = published
    dead_lettered(amqp_uri, marker, [start for _, _, start in messages.values()], queues)


def test_a_valid_event_after_them_is_still_applied_by_every_consumer(published, world):
    _, _, _, before = published
    network = world.network()
    member = world.member()
    world.join(member, network)  # the members service publishes membership.joined behind the malformed ones
    eventually(lambda: ok(world.operator.get(f"/v1/networks/{network}"))["member_count"] == 1,
               "the networks service applying the membership (member_count 1)")
    for process in ("networks", "sessions"):
        eventually(lambda p=process: consumed(world.stack, p, "on_membership_joined").get("ok", 0)
                   > before[p].get("ok", 0), f"the {process} service applying the membership")
        dead = consumed(world.stack, process, "on_membership_joined").get("dead_lettered", 0)
        assert dead - before[process].get("dead_lettered", 0) >= 5
