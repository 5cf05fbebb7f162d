"""Unit of work: one database transaction that carries the state change, its outbox rows and, for a
consumer, the processed-event marker, so all of them commit together or not at all.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, Table, delete, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from services.common.events import Envelope, EventPayload, new_envelope

log = logging.getLogger(__name__)


class HasEvents(Protocol):
    events: list[EventPayload]


class TrackingRepository:
    """A repository remembers the aggregates it handed out, so the unit of work can collect their events."""

    def __init__(self) -> None:
        self.seen: list[HasEvents] = []

    def _track(self, aggregate: Any) -> Any:
        if aggregate is not None and all(aggregate is not other for other in self.seen):
            self.seen.append(aggregate)
        return aggregate


class AbstractUnitOfWork:
    """What handlers see. Subclasses add repositories as attributes (``uow.members``)."""

    repositories: tuple[str, ...] = ()  # attribute names of the TrackingRepositories to collect events from

    producer: str = "unknown"
    correlation_id: str | None = None

    def __init__(self) -> None:
        self._events: list[EventPayload] = []

    def __enter__(self) -> AbstractUnitOfWork:
        self._events = []
        return self

    def __exit__(self, *exc: object) -> None:
        self.rollback()

    def add_event(self, payload: EventPayload) -> None:
        self._events.append(payload)

    def collect(self, aggregate: HasEvents) -> None:
        """Take the events an aggregate recorded, to be written with this transaction."""
        self._events.extend(aggregate.events)
        aggregate.events.clear()

    def collect_from_repositories(self) -> None:
        for name in self.repositories:
            for aggregate in getattr(self, name).seen:
                self.collect(aggregate)

    def envelopes(self) -> list[tuple[Envelope, EventPayload]]:
        return [
            (new_envelope(p, producer=self.producer, correlation_id=self.correlation_id), p)
            for p in self._events
        ]

    def forget_events_about(self, subject: str) -> None:
        """Drop earlier outbox rows about ``subject`` (erasure: they carry the person's data)."""
        raise NotImplementedError

    def events_about(self, subject: str) -> list[dict[str, Any]]:
        """Envelopes still held about ``subject``, oldest first (for a privacy export)."""
        raise NotImplementedError

    def begin_consuming(self, event_id: uuid.UUID, consumer: str) -> bool:
        """Record that ``consumer`` handles ``event_id`` in this transaction; False if it already did."""
        raise NotImplementedError

    def begin_consuming_many(self, event_ids: Sequence[uuid.UUID], consumer: str) -> set[uuid.UUID]:
        """:meth:`begin_consuming` for several events at once; return those this transaction took."""
        return {event_id for event_id in dict.fromkeys(event_ids) if self.begin_consuming(event_id, consumer)}

    def flush(self) -> None:
        """Write the events recorded so far in the open transaction without committing (a no-op where
        events are only written by :meth:`commit`)."""

    def commit(self) -> None:
        raise NotImplementedError

    def rollback(self) -> None:
        raise NotImplementedError


class SqlUnitOfWork(AbstractUnitOfWork):
    """A unit of work on SQLAlchemy Core: ``self.connection`` is the open transaction.

    A service subclasses it, names its ``outbox`` and ``processed`` tables and builds its repositories
    in :meth:`start`.
    """

    outbox: Table
    processed: Table

    def __init__(self, engine: Engine, *, producer: str, correlation_id: str | None = None,
                 on_commit: Callable[[], None] | None = None) -> None:
        super().__init__()
        self.engine = engine
        self.producer = producer
        self.correlation_id = correlation_id
        self._on_commit = on_commit
        self.connection: Connection | None = None
        self._transaction: Any = None
        self._wrote_events = False  # outbox rows flushed in the open transaction

    def __enter__(self) -> SqlUnitOfWork:
        super().__enter__()
        self.connection = self.engine.connect()
        self._transaction = self.connection.begin()
        self.start(self.connection)
        return self

    def start(self, connection: Connection) -> None:
        """Hook: build repositories on the open connection."""

    def __exit__(self, *exc: object) -> None:
        try:
            self.rollback()
        finally:
            if self.connection is not None:
                self.connection.close()
                self.connection = None

    def begin_consuming(self, event_id: uuid.UUID, consumer: str) -> bool:
        assert self.connection is not None
        key = {"event_id": str(event_id), "consumer": consumer}
        dialect = {"postgresql": postgresql, "sqlite": sqlite}.get(self.connection.dialect.name)
        if dialect is not None:
            # One statement instead of select + savepoint + insert + release. A concurrent duplicate waits on
            # the primary key for the first transaction: if it commits this inserts nothing (rowcount 0), if
            # it rolls back this one takes the event.
            inserted = self.connection.execute(
                dialect.insert(self.processed).values(**key, processed_at=datetime.now(UTC)).on_conflict_do_nothing()
            )
            return inserted.rowcount == 1
        seen = self.connection.execute(
            select(self.processed.c.event_id).filter_by(**key)
        ).first()
        if seen:
            return False
        # A nested transaction lets a concurrent duplicate lose the race cleanly on the primary key.
        savepoint = self.connection.begin_nested()
        try:
            self.connection.execute(insert(self.processed).values(**key, processed_at=datetime.now(UTC)))
            savepoint.commit()
        except IntegrityError:
            savepoint.rollback()
            return False
        return True

    def begin_consuming_many(self, event_ids: Sequence[uuid.UUID], consumer: str) -> set[uuid.UUID]:
        assert self.connection is not None
        dialect = {"postgresql": postgresql, "sqlite": sqlite}.get(self.connection.dialect.name)
        if dialect is None:
            return super().begin_consuming_many(event_ids, consumer)
        # One round trip for the batch; sorted, so that two batches sharing events lock them in one order.
        now = datetime.now(UTC)
        rows = [{"event_id": key, "consumer": consumer, "processed_at": now}
                for key in sorted({str(event_id) for event_id in event_ids})]
        if not rows:
            return set()
        taken = self.connection.execute(
            dialect.insert(self.processed).values(rows).on_conflict_do_nothing()
            .returning(self.processed.c.event_id)
        ).scalars()
        return {uuid.UUID(key) for key in taken}

    def ping(self) -> None:
        assert self.connection is not None
        self.connection.execute(select(1))

    def forget_events_about(self, subject: str) -> None:
        assert self.connection is not None
        self.connection.execute(delete(self.outbox).where(self.outbox.c.subject == subject))

    def events_about(self, subject: str) -> list[dict[str, Any]]:
        assert self.connection is not None
        rows = self.connection.execute(
            select(self.outbox.c.envelope).where(self.outbox.c.subject == subject).order_by(self.outbox.c.position)
        ).scalars()
        return list(rows)

    def commit(self) -> None:
        assert self.connection is not None and self._transaction is not None
        self.flush()
        self._transaction.commit()
        wrote_events, self._wrote_events = self._wrote_events, False
        self._transaction = self.connection.begin()
        if wrote_events and self._on_commit:
            self._on_commit()

    def flush(self) -> None:
        """Write the events recorded so far as outbox rows in the open transaction, without committing,
        each with the correlation id in force now (a batch of consumed events flushes after each one)."""
        assert self.connection is not None and self._transaction is not None
        self.collect_from_repositories()
        envelopes = self.envelopes()
        self._events = []
        if envelopes:
            now = datetime.now(UTC)
            self.connection.execute(
                insert(self.outbox),
                [
                    {
                        "event_id": str(e.id),
                        "event_type": e.type,
                        "subject": payload.subject(),
                        "envelope": e.to_wire(),
                        "created_at": now,
                    }
                    for e, payload in envelopes
                ],
            )
            self._wrote_events = True

    def rollback(self) -> None:
        if self._transaction is not None and self._transaction.is_active:
            self._transaction.rollback()
        self._events = []
        self._wrote_events = False


def apply_once(uow: AbstractUnitOfWork, event_id: uuid.UUID, consumer: str,
               effect: Callable[[AbstractUnitOfWork], None]) -> bool:
    """Run ``effect`` and record the event as processed in one transaction; do nothing for a repeat.

    Returns whether the effect ran.
    """
    with uow:
        if not uow.begin_consuming(event_id, consumer):
            return False
        effect(uow)
        uow.commit()
        return True


@dataclass(frozen=True)
class Delivery:
    """One consumed event of a batch: its id, the correlation id its own events carry on, and its effect."""

    event_id: uuid.UUID
    effect: Callable[[AbstractUnitOfWork], None]
    correlation_id: str | None = None


def apply_batch(make_uow: Callable[[], AbstractUnitOfWork], deliveries: Sequence[Delivery],
                consumer: str) -> list[BaseException | None]:
    """Apply several consumed events as :func:`apply_once` would one by one, but in one transaction.

    Each event's marker and effect are written in order in one transaction, which commits once: one
    connection checkout, one commit (one WAL flush) for the batch instead of one per event. If any effect
    or the commit fails, that transaction is rolled back as a whole and every event is applied again
    alone with :func:`apply_once`, so the outcome of each is exactly what it would have been on its own:
    the failing one fails (and is retried or dead-lettered by the caller), the others commit. A repeat
    (including the same event twice in one batch) finds its marker and changes nothing.

    Returns, in order, ``None`` for each event now committed (or already processed) or the exception its
    effect raised. Effects act only through the unit of work they are given, may run more than once, and
    never commit themselves.
    """
    if len(deliveries) > 1:
        try:
            with make_uow() as uow:
                taken = uow.begin_consuming_many([d.event_id for d in deliveries], consumer)
                for delivery in deliveries:
                    if delivery.event_id not in taken:
                        continue  # processed before, or earlier in this batch
                    taken.discard(delivery.event_id)
                    uow.correlation_id = delivery.correlation_id or uow.correlation_id
                    delivery.effect(uow)
                    uow.flush()  # its events carry its own correlation id
                uow.commit()
            return [None] * len(deliveries)
        except Exception:  # any failure: settle each event on its own below
            log.info("a batch of %s events for %s failed; applying them one by one", len(deliveries), consumer,
                     exc_info=True)
    outcomes: list[BaseException | None] = []
    for delivery in deliveries:
        uow = make_uow()
        uow.correlation_id = delivery.correlation_id or uow.correlation_id
        try:
            apply_once(uow, delivery.event_id, consumer, delivery.effect)
        except Exception as exc:  # noqa: BLE001 - reported per event to the caller
            outcomes.append(exc)
        else:
            outcomes.append(None)
    return outcomes
