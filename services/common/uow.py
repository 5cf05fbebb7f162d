"""Unit of work: one database transaction that carries the state change, its outbox rows and, for a
consumer, the processed-event marker, so all of them commit together or not at all.

How it is typed (issue 11): handlers never name a concrete unit of work. Each service declares, in its
``ports.py``, a Protocol that extends :class:`UnitOfWork` with its repositories, each one a read-only property
typed by a repository Protocol::

    class MembersUoW(UnitOfWork, Protocol):
        @property
        def members(self) -> MemberRepo: ...
        @property
        def tokens(self) -> TokenRepo: ...

    def register_member(cmd: RegisterMember, uow: MembersUoW) -> MemberOut:
        with uow:
            ...

Both the service's :class:`SqlUnitOfWork` subclass (``members: MemberRepository``, built in ``start``) and the
tests' in-memory fake (a subclass of :class:`AbstractUnitOfWork` with ``members: FakeMemberRepository``) satisfy
it structurally: neither inherits from it. Properties, not plain attributes, because a Protocol's attribute must
match exactly while a read-only property accepts any subtype (the SQL repository, or the fake). The entrypoint
passes ``self.uow()`` (a :class:`~services.common.nameko_kit.ServiceDatabase` gives the concrete class), so the
checker proves at that call that the SQL unit of work has every repository the handler uses; a test passing the
fake proves the same of the fake.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, Protocol, Self, TypeVar

from sqlalchemy import (
    Connection,
    Engine,
    NestedTransaction,
    RootTransaction,
    Table,
    Text,
    cast,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from services.common import tracing
from services.common.commands import CommandRequest, Recorded
from services.common.db import insert_if_absent
from services.common.errors import Unavailable
from services.common.events import Envelope, EventPayload, new_envelope

log = logging.getLogger(__name__)


class HasEvents(Protocol):
    """An aggregate: it records the events of its changes until a unit of work collects them."""

    events: list[EventPayload]


A = TypeVar("A", bound=HasEvents | None)


class TrackingRepository:
    """A repository remembers the aggregates it handed out, so the unit of work can collect their events."""

    def __init__(self) -> None:
        self.seen: list[HasEvents] = []

    def _track(self, aggregate: A) -> A:
        if aggregate is not None and all(aggregate is not other for other in self.seen):
            self.seen.append(aggregate)
        return aggregate


class UnitOfWork(Protocol):
    """What a handler may use of any unit of work: a service's own Protocol extends this with its repositories
    (see the module's docstring). :class:`AbstractUnitOfWork` and so :class:`SqlUnitOfWork` implement it."""

    correlation_id: str | None

    def __enter__(self) -> Self: ...

    def __exit__(self, *exc: object) -> None: ...

    def add_event(self, payload: EventPayload) -> None:
        """Write ``payload`` with this transaction (an event no aggregate recorded)."""

    def collect(self, aggregate: HasEvents) -> None:
        """Take the events an aggregate recorded, to be written with this transaction."""

    def forget_events_about(self, subject: str) -> None:
        """Drop earlier outbox rows about ``subject`` (erasure: they carry the person's data)."""

    def events_about(self, subject: str) -> list[dict[str, Any]]:
        """Envelopes still held about ``subject``, oldest first (for a privacy export)."""
        ...

    def forget_answers_about(self, subject: str) -> None:
        """Drop the kept answers of commands that mention ``subject``."""

    def begin_consuming(self, event_id: uuid.UUID, consumer: str) -> bool:
        """Record that ``consumer`` handles ``event_id`` in this transaction; False if it already did."""
        ...

    def begin_consuming_many(self, event_ids: Sequence[uuid.UUID], consumer: str) -> set[uuid.UUID]:
        """:meth:`begin_consuming` for several events at once; return those this transaction took."""
        ...

    def ping(self) -> None:
        """Reach the store (a health check); raise if it cannot be reached."""

    def flush(self) -> None:
        """Write the events recorded so far without committing."""

    def commit(self) -> None: ...

    def rollback(self) -> None: ...


class AbstractUnitOfWork:
    """The base of every unit of work, the SQL one and the tests' fakes: it gathers the events to write.

    Subclasses add repositories as attributes (``uow.members``), name in ``repositories`` those that track
    aggregates, and implement the transaction (``commit``, ``rollback``, ``begin_consuming``, ``ping`` and, where
    they keep an outbox, ``forget_events_about`` and ``events_about``).
    """

    repositories: tuple[str, ...] = ()  # attribute names of the TrackingRepositories to collect events from

    producer: str = "unknown"
    correlation_id: str | None = None
    request_id: str | None = None  # the command's request id while one is applied (the audit log records it)

    def __init__(self) -> None:
        self._events: list[EventPayload] = []

    def __enter__(self) -> Self:
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
            repository: TrackingRepository = getattr(self, name)
            for aggregate in repository.seen:
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

    def forget_answers_about(self, subject: str) -> None:
        """Drop the kept answers of commands that mention ``subject`` (erasure: they may carry the person's data).

        A unit of work that keeps no command records (a test's fake) has nothing to forget."""

    def begin_consuming(self, event_id: uuid.UUID, consumer: str) -> bool:
        """Record that ``consumer`` handles ``event_id`` in this transaction; False if it already did."""
        raise NotImplementedError

    def begin_consuming_many(self, event_ids: Sequence[uuid.UUID], consumer: str) -> set[uuid.UUID]:
        """:meth:`begin_consuming` for several events at once; return those this transaction took."""
        return {event_id for event_id in dict.fromkeys(event_ids) if self.begin_consuming(event_id, consumer)}

    def ping(self) -> None:
        """Reach the store (a health check); raise if it cannot be reached."""
        raise NotImplementedError

    def flush(self) -> None:
        """Write the events recorded so far in the open transaction without committing (a no-op where
        events are only written by :meth:`commit`)."""

    def commit(self) -> None:
        raise NotImplementedError

    def rollback(self) -> None:
        raise NotImplementedError


class SqlUnitOfWork(AbstractUnitOfWork):
    """A unit of work on SQLAlchemy Core: ``self.connection`` is the open transaction.

    A service subclasses it, names its ``outbox``, ``processed`` and ``commands`` tables (all three made by
    :func:`services.common.outbox.messaging_tables`) and builds its repositories in :meth:`start`.

    For a command arriving over RPC the kit *holds* the unit of work (:meth:`held`): one transaction for the
    whole command, so that the record of the request (:mod:`services.common.commands`) commits with its
    effect. Inside it a handler's ``with uow:`` block is a savepoint and its ``commit`` releases that
    savepoint; leaving a block without committing undoes the block, as it would undo a transaction.
    """

    outbox: Table
    processed: Table
    commands: Table

    def __init__(self, engine: Engine, *, producer: str, correlation_id: str | None = None,
                 on_commit: Callable[[], None] | None = None) -> None:
        super().__init__()
        self.engine = engine
        self.producer = producer
        self.correlation_id = correlation_id
        self._on_commit = on_commit
        self.connection: Connection | None = None
        self._transaction: RootTransaction | None = None
        self._wrote_events = False  # outbox rows flushed in the open transaction
        self._held = False
        self._savepoint: NestedTransaction | None = None  # the open ``with uow:`` block of a held unit of work
        self._committed_work = False  # a block of a held unit of work committed

    def __enter__(self) -> Self:
        super().__enter__()
        if self._held:
            assert self.connection is not None
            self._savepoint = self.connection.begin_nested()
            return self
        self._open()
        return self

    def _open(self) -> None:
        self.connection = self.engine.connect()
        self._transaction = self.connection.begin()
        self.start(self.connection)

    def start(self, connection: Connection) -> None:
        """Hook: build repositories on the open connection."""

    def __exit__(self, *exc: object) -> None:
        if self._held:
            self.rollback()
            self._savepoint = None
            return
        try:
            self.rollback()
        finally:
            self._close()

    def _close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    # --- a command's one transaction ----------------------------------------------------------------------

    @contextmanager
    def held(self) -> Iterator[Self]:
        """Hold one transaction open for a whole command; :meth:`commit_held` commits it, leaving rolls back
        whatever was not committed."""
        super().__enter__()
        self._open()
        self._held, self._committed_work = True, False
        try:
            yield self
        finally:
            self._held, self._savepoint = False, None
            try:
                self.rollback()
            finally:
                self._close()

    @property
    def committed_work(self) -> bool:
        """Whether a handler committed anything in the held transaction."""
        return self._committed_work

    def claim_command(self, request: CommandRequest) -> Recorded | None:
        """Record that this transaction applies ``request``; or, if it was applied before, its record.

        A concurrent attempt at the same request waits here until the first commits or rolls back.
        """
        assert self.connection is not None
        row = {"request_id": request.request_id, "command": request.command, "fingerprint": request.fingerprint,
               "outcome": None, "recorded_at": datetime.now(UTC)}
        if insert_if_absent(self.connection, self.commands, row):
            return None
        earlier = self.connection.execute(
            select(self.commands.c.fingerprint, self.commands.c.outcome)
            .where(self.commands.c.request_id == request.request_id)
        ).one()
        if earlier.outcome is None:  # rows commit with their outcome; this one was written by hand or a bug
            raise Unavailable(f"request {request.request_id} is being applied; try again shortly")
        return Recorded(earlier.fingerprint, earlier.outcome)

    def record_command(self, request: CommandRequest, outcome: dict[str, Any]) -> None:
        assert self.connection is not None
        self.connection.execute(
            update(self.commands).where(self.commands.c.request_id == request.request_id)
            .values(outcome=outcome, recorded_at=datetime.now(UTC))
        )

    def commit_held(self) -> None:
        """Commit the held transaction: the command's effect, its events and its record together."""
        assert self._held and self._transaction is not None
        self.flush()
        self._transaction.commit()
        self._transaction = None
        wrote_events, self._wrote_events = self._wrote_events, False
        if wrote_events and self._on_commit:
            self._on_commit()

    def begin_consuming(self, event_id: uuid.UUID, consumer: str) -> bool:
        assert self.connection is not None
        return insert_if_absent(self.connection, self.processed,
                                {"event_id": str(event_id), "consumer": consumer, "processed_at": datetime.now(UTC)})

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

    def forget_answers_about(self, subject: str) -> None:
        assert self.connection is not None
        # Kept for a day at most (KRING_COMMAND_RETENTION_HOURS), so the table is small enough to search as text.
        self.connection.execute(
            delete(self.commands).where(cast(self.commands.c.outcome, Text).contains(subject, autoescape=True))
        )

    def events_about(self, subject: str) -> list[dict[str, Any]]:
        assert self.connection is not None
        rows = self.connection.execute(
            select(self.outbox.c.envelope).where(self.outbox.c.subject == subject).order_by(self.outbox.c.position)
        ).scalars()
        return list(rows)

    def commit(self) -> None:
        assert self.connection is not None and self._transaction is not None
        self.flush()
        if self._held:  # the block's work joins the command's transaction, committed with its record
            if self._savepoint is not None:
                self._savepoint.commit()
                self._savepoint = self.connection.begin_nested()
            self._committed_work = True
            return
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
                        "trace_context": _trace_context_of(self.producer, e),
                    }
                    for e, payload in envelopes
                ],
            )
            self._wrote_events = True

    def rollback(self) -> None:
        if self._held:  # only the open block: what it committed stays in the command's transaction
            if self._savepoint is not None and self._savepoint.is_active:
                self._savepoint.rollback()
            self._events = []
            return
        if self._transaction is not None and self._transaction.is_active:
            self._transaction.rollback()
        self._events = []
        self._wrote_events = False


def _trace_context_of(producer: str, envelope: Envelope) -> dict[str, str] | None:
    """The trace context an event carries to its consumers: its own ``create`` span's (None: tracing off)."""
    if not tracing.enabled():
        return None
    with tracing.event_created(producer, envelope.type, str(envelope.id)):
        return tracing.event_trace_context()


U = TypeVar("U", bound=UnitOfWork)


def apply_once(uow: U, event_id: uuid.UUID, consumer: str, effect: Callable[[U], None]) -> bool:
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
class Delivery(Generic[U]):
    """One consumed event of a batch: its id, the correlation id its own events carry on, and its effect."""

    event_id: uuid.UUID
    effect: Callable[[U], None]
    correlation_id: str | None = None


def apply_batch(make_uow: Callable[[], U], deliveries: Sequence[Delivery[U]],
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
