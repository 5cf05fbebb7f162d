"""What the suite does to and reads from the bus and the databases directly: dropping a process's AMQP
connections, publishing copies of real events (duplicates, reordered, under new envelope ids) and a poison
event, reading the dead-letter queue, queue depths and outbox backlogs."""

from __future__ import annotations

import copy
import re
import subprocess
import uuid
from typing import Any
from urllib.parse import quote

import kombu
import sqlalchemy

from services.common.nameko_kit import DEAD_LETTER_QUEUE
from tests.faults.harness import SERVICES
from tests.faults.infra import PrivateRabbit

# Longer than the federation service's output ids may be (VARCHAR(100)), so storing it fails every time, while
# the envelope and payload are valid by the catalogue (an output id is any string): a handler that can never
# succeed, retried until the queue's delivery limit dead-letters it.
POISON_OUTPUT_ID = "poison-" + "x" * 120


def process_ports(pid: int, broker_port: int) -> set[int]:
    """Local ports of the process's TCP connections to the broker."""
    listing = subprocess.run(["ss", "-tnpH", "state", "established", f"( dport = :{broker_port} )"],
                             capture_output=True, text=True, timeout=10, check=True).stdout
    ports = set()
    for line in listing.splitlines():
        if re.search(rf"pid={pid}\b", line):
            local = line.split()[2]
            ports.add(int(local.rsplit(":", 1)[1]))
    return ports


def drop_connections(rabbit: PrivateRabbit, pid: int) -> int:
    """Close every AMQP connection of the process from the broker's side, as a broker under pressure or a
    network cut would; return how many were closed."""
    ports = process_ports(pid, rabbit.port)
    closed = 0
    with rabbit.management() as api:
        for connection in api.get("/api/connections").json():
            if connection.get("peer_port") in ports:
                response = api.delete(f"/api/connections/{quote(connection['name'], safe='')}",
                                      headers={"X-Reason": "faults: connection dropped"})
                closed += response.status_code in (200, 204)
    return closed


def outbox_envelopes(engine: sqlalchemy.Engine, service: str, event_type: str, limit: int = 1000) -> list[dict]:
    with engine.connect() as conn:
        rows = conn.execute(sqlalchemy.text(
            f"SELECT envelope FROM {service}.outbox WHERE event_type = :t ORDER BY position LIMIT :n"),
            {"t": event_type, "n": limit}).scalars().all()
    return [dict(row) for row in rows]


def renamed(envelope: dict[str, Any]) -> dict[str, Any]:
    """The same event under a new envelope id: what a producer that published twice would send."""
    again = copy.deepcopy(envelope)
    again["id"] = str(uuid.uuid4())
    return again


def poison_of(envelope: dict[str, Any]) -> dict[str, Any]:
    poison = renamed(envelope)
    poison["payload"]["output_id"] = POISON_OUTPUT_ID
    poison["correlation_id"] = "faults-poison"
    return poison


def publish(amqp_uri: str, exchange: str, envelopes: list[dict[str, Any]]) -> None:
    """Publish envelopes as the outbox relay does (persistent JSON, routing key = event type), confirmed."""
    with kombu.Connection(amqp_uri, connect_timeout=10, transport_options={"confirm_publish": True}) as conn:
        producer = conn.Producer()
        for envelope in envelopes:
            producer.publish(envelope, exchange=exchange, routing_key=envelope["type"], serializer="json",
                             delivery_mode=2, headers={"nameko.correlation_id": envelope["correlation_id"]})


def dead_letters(amqp_uri: str) -> list[tuple[dict[str, Any], Any]]:
    """Take every message from the dead-letter queue: (headers, body)."""
    taken = []
    with kombu.Connection(amqp_uri, connect_timeout=10) as conn:
        queue = kombu.Queue(DEAD_LETTER_QUEUE, durable=True, queue_arguments={"x-queue-type": "quorum"})
        bound = queue(conn.default_channel)
        while (message := bound.get(no_ack=True)) is not None:
            try:
                body = message.decode()
            except Exception:
                body = message.body
            taken.append((dict(message.headers or {}), body))
    return taken


def consumers_of(rabbit: PrivateRabbit, exchange: str, routing_key: str) -> set[str]:
    """The queues bound to the exchange with the routing key: one per handler of that event."""
    with rabbit.management() as api:
        bindings = api.get(f"/api/exchanges/%2F/{quote(exchange, safe='')}/bindings/source").json()
    return {b["destination"] for b in bindings if b["routing_key"] == routing_key and b["destination_type"] == "queue"}


def queued_messages(rabbit: PrivateRabbit) -> dict[str, int]:
    """Messages ready or unacknowledged in each event queue (reply queues of killed RPC clients and the
    dead-letter queue left out)."""
    return {name: count for name, count in rabbit.queue_depths().items() if name.startswith("evt-")}


def outbox_backlog(engine: sqlalchemy.Engine) -> dict[str, int]:
    """Unpublished outbox rows per service."""
    with engine.connect() as conn:
        return {service: conn.execute(sqlalchemy.text(
            f"SELECT count(*) FROM {service}.outbox WHERE published_at IS NULL")).scalar_one()
            for service in SERVICES}
