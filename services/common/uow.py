"""Unit of work: one database transaction that carries the state change, its outbox rows and, for a
consumer, the processed-event marker, so all of them commit together or not at all.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, Table, delete, insert, select
from sqlalchemy.exc import IntegrityError

from services.common.events import Envelope, EventPayload, new_envelope


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
        self.collect_from_repositories()
        envelopes = self.envelopes()
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
        self._transaction.commit()
        self._events = []
        self._transaction = self.connection.begin()
        if envelopes and self._on_commit:
            self._on_commit()

    def rollback(self) -> None:
        if self._transaction is not None and self._transaction.is_active:
            self._transaction.rollback()
        self._events = []


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
