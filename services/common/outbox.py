"""Transactional outbox and its relay.

A unit of work writes each event as an ``outbox`` row in the same transaction as the state change.
The relay reads unpublished rows in order, publishes them to the producer's topic exchange
(``<service>.events``, routing key = event type, the exchange nameko's ``event_handler`` binds to),
waits for the broker's publisher confirms, and only then marks the rows published. A process killed
between commit and publish leaves the rows unpublished, so the next relay run sends them: delivery is
at least once, and consumers are idempotent (:mod:`services.common.uow`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import amqp
import kombu
import kombu.utils.json
from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    delete,
    func,
    select,
    text,
    update,
)

from services.common import metrics, tracing
from services.common.commands import command_table
from services.common.db import UTCDateTime

log = logging.getLogger(__name__)


class MessagingTables(NamedTuple):
    outbox: Table
    processed_events: Table
    processed_commands: Table


def messaging_tables(metadata: MetaData) -> MessagingTables:
    """Add the outbox, processed-event and processed-command tables to a service's metadata."""
    outbox = Table(
        "outbox",
        metadata,
        Column("position", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
        Column("event_id", String(36), nullable=False, unique=True),
        Column("event_type", String(100), nullable=False),
        Column("subject", String(100), nullable=True, index=True),
        Column("envelope", JSON, nullable=False),
        Column("created_at", UTCDateTime(), nullable=False),
        Column("published_at", UTCDateTime(), nullable=True),
        # the W3C trace context of the event's creation (services/common/tracing.py); NULL when tracing is off
        Column("trace_context", JSON, nullable=True),
        Index("ix_outbox_unpublished", "position", postgresql_where=text("published_at IS NULL")),
    )
    processed = Table(
        "processed_events",
        metadata,
        Column("event_id", String(36), primary_key=True),
        Column("consumer", String(100), primary_key=True),
        Column("processed_at", UTCDateTime(), nullable=False),
    )
    return MessagingTables(outbox, processed, command_table(metadata))


def event_exchange_name(producer: str) -> str:
    return f"{producer}.events"


@dataclass(frozen=True)
class OutgoingMessage:
    exchange: str
    routing_key: str
    body: dict[str, Any]
    headers: dict[str, Any]
    exchange_type: str = "topic"


class ConfirmingPublisher:
    """Publishes persistent messages with pipelined publisher confirms on one channel.

    All messages of a batch are sent before waiting, then the broker's acks are collected; a nack, a
    timeout or a lost connection raises, so the caller leaves the batch unpublished and tries again.
    """

    def __init__(self, amqp_uri: str, *, confirm_timeout: float = 10.0) -> None:
        self._uri = amqp_uri
        self._confirm_timeout = confirm_timeout
        self._connection: kombu.Connection | None = None
        self._channel: Any = None
        self._declared: set[str] = set()
        self._next_tag = 1
        self._acked_up_to = 0
        self._nacked: set[int] = set()
        self._acked: set[int] = set()

    def _ensure_channel(self) -> Any:
        if self._channel is not None and self._connection is not None and self._connection.connected:
            return self._channel
        self.close()
        self._connection = kombu.Connection(self._uri, heartbeat=0, connect_timeout=5)
        self._connection.ensure_connection(max_retries=1)
        # py-amqp's channel (the transport of an amqp:// URI), untyped: kombu's type for it lacks confirms
        channel: Any = self._connection.default_channel
        channel.confirm_select()
        channel.events["basic_ack"].add(self._on_ack)
        channel.events["basic_nack"].add(self._on_nack)
        self._channel = channel
        self._declared.clear()
        self._next_tag = 1
        self._acked_up_to = 0
        self._acked.clear()
        self._nacked.clear()
        return channel

    def _on_ack(self, delivery_tag: int, multiple: bool) -> None:
        if multiple:
            self._acked_up_to = max(self._acked_up_to, delivery_tag)
        else:
            self._acked.add(delivery_tag)

    def _on_nack(self, delivery_tag: int, multiple: bool) -> None:
        self._nacked.add(delivery_tag)

    def _is_confirmed(self, tag: int) -> bool:
        return tag <= self._acked_up_to or tag in self._acked

    def declare_exchange(self, name: str, exchange_type: str = "topic") -> None:
        channel = self._ensure_channel()
        if name not in self._declared:
            channel.exchange_declare(name, exchange_type, durable=True, auto_delete=False)
            self._declared.add(name)

    def publish(self, messages: Iterable[OutgoingMessage]) -> int:
        channel = self._ensure_channel()
        tags = []
        try:
            for message in messages:
                self.declare_exchange(message.exchange, message.exchange_type)
                body = kombu.utils.json.dumps(message.body)
                channel.basic_publish(
                    amqp.Message(
                        body,
                        content_type="application/json",
                        content_encoding="utf-8",
                        delivery_mode=2,
                        application_headers=message.headers,
                    ),
                    exchange=message.exchange,
                    routing_key=message.routing_key,
                )
                tags.append(self._next_tag)
                self._next_tag += 1
            deadline = time.monotonic() + self._confirm_timeout
            while tags and not all(self._is_confirmed(t) or t in self._nacked for t in tags):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"broker did not confirm {len(tags)} messages in time")
                assert self._connection is not None  # opened with the channel
                self._connection.drain_events(timeout=remaining)
            nacked = [t for t in tags if t in self._nacked]
            if nacked:
                raise RuntimeError(f"broker refused {len(nacked)} of {len(tags)} messages")
        except Exception:
            self.close()  # a channel in an unknown state is not reused
            raise
        finally:
            for tag in tags:
                self._acked.discard(tag)
                self._nacked.discard(tag)
        return len(tags)

    def close(self) -> None:
        if self._connection is not None:
            try:
                self._connection.release()
            except Exception:
                log.debug("error closing publisher connection", exc_info=True)
        self._connection = None
        self._channel = None


class OutboxRelay:
    """Moves committed outbox rows to the broker. Safe to run in several processes at once."""

    def __init__(self, engine: Engine, outbox: Table, publisher: ConfirmingPublisher, *, producer: str,
                 batch_size: int = 500) -> None:
        self.engine = engine
        self.outbox = outbox
        self.publisher = publisher
        self.producer = producer
        self.batch_size = batch_size

    def publish_pending(self) -> int:
        """Publish one batch of unpublished events; return how many were published."""
        o = self.outbox.c
        with self.engine.begin() as conn:
            rows = conn.execute(
                select(o.position, o.event_id, o.event_type, o.envelope, o.trace_context)
                .where(o.published_at.is_(None))
                .order_by(o.position)
                .limit(self.batch_size)
                .with_for_update(skip_locked=True)  # other replicas take other rows; SQLite ignores it
            ).all()
            if not rows:
                return 0
            self.publisher.publish(
                OutgoingMessage(
                    exchange=event_exchange_name(self.producer),
                    routing_key=row.event_type,
                    body=row.envelope,
                    headers={"nameko.correlation_id": row.envelope.get("correlation_id", ""),
                             **tracing.event_headers(row.trace_context)},
                )
                for row in rows
            )
            conn.execute(
                update(self.outbox)
                .where(o.position.in_([row.position for row in rows]))
                .values(published_at=datetime.now(UTC))
            )
        for row in rows:
            metrics.EVENTS_PUBLISHED.labels(service=self.producer, event_type=row.event_type).inc()
            tracing.event_sent(self.producer, row.event_type, row.event_id, row.trace_context)
        return len(rows)

    def publish_all_pending(self) -> int:
        """Publish batches until one comes back short of ``batch_size``: everything committed before its query
        is then published, and a unit of work that commits later wakes the relay again (``on_commit``)."""
        total = 0
        while True:
            published = self.publish_pending()
            total += published
            if published < self.batch_size:
                return total

    def backlog(self) -> tuple[int, float]:
        """(rows waiting, age in seconds of the oldest) for the metrics."""
        o = self.outbox.c
        with self.engine.connect() as conn:
            count, oldest = conn.execute(
                select(func.count(), func.min(o.created_at)).where(o.published_at.is_(None))
            ).one()
        if not oldest:
            return 0, 0.0
        return int(count), max(0.0, (datetime.now(UTC) - oldest).total_seconds())


@dataclass(frozen=True)
class Retention:
    """How long a service keeps what it needs to publish once and apply once."""

    outbox: timedelta  # published outbox rows
    events: timedelta  # processed-event markers: must outlast any redelivery of an event
    commands: timedelta  # records of applied commands: how long a request id (Idempotency-Key) is honoured


@dataclass(frozen=True)
class Purged:
    published: int
    event_markers: int
    command_records: int

    def __bool__(self) -> bool:
        return bool(self.published or self.event_markers or self.command_records)


def purge_history(engine: Engine, tables: MessagingTables, retention: Retention) -> Purged:
    """Delete published outbox rows, processed-event markers and command records past their retention.

    Unpublished rows are never deleted, however old: they are the events still owed to the broker.
    """
    now = datetime.now(UTC)
    outbox, processed, commands = tables
    with engine.begin() as conn:
        published = conn.execute(
            delete(outbox).where(outbox.c.published_at.is_not(None), outbox.c.published_at < now - retention.outbox)
        ).rowcount
        markers = conn.execute(delete(processed).where(processed.c.processed_at < now - retention.events)).rowcount
        records = conn.execute(delete(commands).where(commands.c.recorded_at < now - retention.commands)).rowcount
    return Purged(published, markers, records)
