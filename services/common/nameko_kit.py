"""The nameko side of the kit: database + outbox relay dependency, observability, and an event handler
with durable quorum queues, idempotency support and a dead-letter queue.

Service modules import from here; nothing here is copied into a service.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache, partial, wraps
from typing import TYPE_CHECKING, Any, Concatenate, Generic, ParamSpec, Protocol, Self, TypeVar, cast, overload

import amqp.exceptions
import eventlet
import kombu
from kombu import Exchange, Queue
from nameko.events import EventHandler
from nameko.exceptions import UnknownService
from nameko.extensions import DependencyProvider, register_entrypoint
from nameko.messaging import Consumer, QueueConsumer
from nameko.rpc import Rpc, RpcConsumer
from pydantic import BaseModel, ValidationError

from services.common import metrics, tracing
from services.common.audit import AuditTables, purge_audit
from services.common.commands import REQUEST_FINGERPRINT_KEY, REQUEST_ID_KEY, CommandRequest, run_command
from services.common.db import create_service_engine
from services.common.errors import KringError, Unavailable, from_pydantic
from services.common.events import Envelope, EventPayload, UnprocessableEvent, parse_event
from services.common.logs import correlation_id
from services.common.outbox import (
    ConfirmingPublisher,
    MessagingTables,
    OutboxRelay,
    OutgoingMessage,
    Retention,
    event_exchange_name,
    purge_history,
)
from services.common.uow import Delivery, SqlUnitOfWork, UnitOfWork, apply_batch, apply_once

log = logging.getLogger(__name__)

PURGE_INTERVAL_SECONDS = 3600.0
BACKLOG_INTERVAL_SECONDS = 1.0  # how often the relay measures its backlog for the metrics while busy
DEAD_LETTER_EXCHANGE = "kring.dead-letter"
DEAD_LETTER_QUEUE = "kring.dead-letter"
REQUEUE_BACKOFF_INITIAL, REQUEUE_BACKOFF_MAX = 0.5, 8.0  # seconds before a failed event is retried

M = TypeVar("M", bound=BaseModel)
U = TypeVar("U", bound=SqlUnitOfWork)  # a service's unit of work
R = TypeVar("R")  # what an entrypoint answers
P = ParamSpec("P")  # an entrypoint's arguments after ``self``
F = TypeVar("F", bound=Callable[..., Any])
E = TypeVar("E", bound=EventPayload)  # the payload an event handler takes
W = TypeVar("W", bound=UnitOfWork)  # the unit of work an event handler's effect takes


class NamekoService(Protocol):
    """A nameko service class: its ``name`` names its queues, its events' exchange and its consumers."""

    name: str


S = TypeVar("S", bound=NamekoService)

# nameko ships no types: its extension classes are Any here, and so are their attributes (``self.container``,
# a worker context); the classes below subclass them (``# type: ignore[misc]``: subclassing Any).


def parse_request(model: type[M], data: Any) -> M:
    """Validate an RPC argument into a command or query; bad input becomes ValidationFailed."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise from_pydantic(exc) from exc


# --- database and outbox relay ---------------------------------------------------------------------------


class ServiceDatabase(DependencyProvider, Generic[U]):  # type: ignore[misc]  # nameko ships no types
    """Gives each worker a unit-of-work factory and runs the outbox relay beside the workers.

    The relay wakes as soon as a unit of work commits events and otherwise polls once a second, so
    rows left by a crashed process are published after restart.

    On a service class, ``uow = ServiceDatabase(MembersUnitOfWork)``; in an entrypoint ``self.uow`` is the
    worker's :class:`UnitOfWorkFactory` (nameko sets it on the service instance), so ``self.uow()`` is a
    ``MembersUnitOfWork``: the type checker sees the same through :meth:`__get__`.
    """

    if TYPE_CHECKING:  # what nameko does at run time, told to the type checker only

        @overload
        def __get__(self, instance: None, owner: type[object]) -> Self: ...

        @overload
        def __get__(self, instance: object, owner: type[object]) -> UnitOfWorkFactory[U]: ...

        def __get__(self, instance: object | None, owner: type[object]) -> Self | UnitOfWorkFactory[U]: ...

    def __init__(self, uow_class: type[U], *, poll_interval: float = 1.0) -> None:
        self.uow_class = uow_class
        self.poll_interval = poll_interval

    def setup(self) -> None:
        config = self.container.config
        self.service_name = self.container.service_name
        metrics.start_service(self.service_name)
        self.engine = create_service_engine(config["DATABASE_URL"], self.service_name)
        self.publisher = ConfirmingPublisher(config["AMQP_URI"])
        self.relay = OutboxRelay(self.engine, self.uow_class.outbox, self.publisher, producer=self.service_name)
        self._wake = threading.Event()
        self._stopping = False
        self._retention = Retention(
            outbox=timedelta(hours=float(config.get("KRING_OUTBOX_RETENTION_HOURS", 168))),
            events=timedelta(hours=float(config.get("KRING_DEDUP_RETENTION_HOURS", 720))),
            commands=timedelta(hours=float(config.get("KRING_COMMAND_RETENTION_HOURS", 24))),
        )
        self._tables = MessagingTables(self.uow_class.outbox, self.uow_class.processed, self.uow_class.commands)
        self._next_purge = 0.0
        audit: AuditTables | None = getattr(self.uow_class, "audit_tables", None)
        self._audit = audit  # a service that records audited actions purges its entries past their retention
        self._audit_retention = timedelta(days=float(config.get("KRING_AUDIT_RETENTION_DAYS", 730)))

    def start(self) -> None:
        self.container.spawn_managed_thread(self._run_relay, identifier=f"{self.service_name}.outbox_relay")

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    def kill(self) -> None:
        self.stop()

    def _run_relay(self) -> None:
        failures = 0
        idle = True  # the last wait ended without a commit waking it
        next_backlog = 0.0
        while not self._stopping:
            # Cleared before reading the outbox: a commit the reads below may miss sets it again.
            self._wake.clear()
            try:
                published = self.relay.publish_all_pending()
                # The backlog query costs a transaction: once a second under load, and whenever idle.
                if (idle and not published) or time.monotonic() >= next_backlog:
                    self._measure_backlog()
                    next_backlog = time.monotonic() + BACKLOG_INTERVAL_SECONDS
                self._purge_when_due()
                failures = 0
            except Exception:
                failures += 1
                metrics.OUTBOX_RELAY_ERRORS.labels(service=self.service_name).inc()
                log.warning("outbox relay failed (attempt %s); will retry", failures, exc_info=True)
                with contextlib.suppress(Exception):  # the broker may be down, not the database: say what waits
                    self._measure_backlog()
                eventlet.sleep(min(30.0, 0.5 * 2**failures))
                idle = False
                continue
            idle = not self._wake.wait(self.poll_interval)
        self.publisher.close()

    def _measure_backlog(self) -> None:
        pending, oldest_age = self.relay.backlog()
        metrics.OUTBOX_PENDING.labels(service=self.service_name).set(pending)
        metrics.OUTBOX_OLDEST_AGE.labels(service=self.service_name).set(oldest_age)

    def _purge_when_due(self) -> None:
        if time.monotonic() < self._next_purge:
            return
        purged = purge_history(self.engine, self._tables, self._retention)
        if purged:
            log.info("purged %s published outbox rows, %s processed-event markers and %s command records",
                     purged.published, purged.event_markers, purged.command_records)
        if self._audit is not None:
            entries = purge_audit(self.engine, self._audit, self._audit_retention)
            if entries:
                log.info("purged %s audit entries past their retention", entries)
        self._next_purge = time.monotonic() + PURGE_INTERVAL_SECONDS

    def new_unit_of_work(self, correlation: str | None) -> U:
        return self.uow_class(self.engine, producer=self.service_name, correlation_id=correlation,
                              on_commit=self._wake.set)

    def get_dependency(self, worker_ctx: Any) -> UnitOfWorkFactory[U]:
        # Taken out of the worker's context data here, before the worker runs: nameko passes that data on as
        # headers of every onward call, and a request id belongs to this call only.
        request = (worker_ctx.data.pop(REQUEST_ID_KEY, None), worker_ctx.data.pop(REQUEST_FINGERPRINT_KEY, None))
        return UnitOfWorkFactory(self, worker_ctx.data, *request)


class UnitOfWorkFactory(Generic[U]):
    """What a worker finds in its service's ``uow`` attribute: call it for a unit of work.

    During a command (:func:`command`) every call returns the one unit of work the command is applied in.
    """

    def __init__(self, database: ServiceDatabase[U], context: dict[str, Any], request_id: str | None,
                 fingerprint: str | None) -> None:
        self._database = database
        self._context = context  # the worker's context data: its correlation id is set once the worker starts
        self._request_id = request_id
        self._fingerprint = fingerprint
        self._command_uow: U | None = None

    def __call__(self) -> U:
        if self._command_uow is not None:
            return self._command_uow
        uow = self._database.new_unit_of_work(self._context.get("correlation_id"))
        uow.request_id = self._request_id  # a query that records (a member export) names its request too
        return uow

    def run_command(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any], apply: Callable[[], R],
                    shown_once: tuple[str, ...] = ()) -> R:
        if not self._request_id:  # every RPC request has one (see KringRpc); a test calling the method directly may not
            return apply()
        request = CommandRequest.of(self._request_id, name, args, kwargs, self._fingerprint, shown_once)
        self._command_uow = self()
        self._command_uow.request_id = request.request_id  # the audit log records it
        try:
            return run_command(self._command_uow, request, apply)
        finally:
            self._command_uow = None


# --- observability ---------------------------------------------------------------------------------------


class Observability(DependencyProvider):  # type: ignore[misc]  # nameko ships no types
    """Carries the correlation id into logs and onward calls, records RPC metrics, and gives each RPC and event
    worker its span, child of the caller's or producer's trace context (services/common/tracing.py)."""

    def setup(self) -> None:
        metrics.start_rpc_methods(self.container.service_name,
                                  [e.method_name for e in self.container.entrypoints if isinstance(e, Rpc)])

    def worker_setup(self, worker_ctx: Any) -> None:
        cid = worker_ctx.data.get("correlation_id") or uuid.uuid4().hex
        worker_ctx.data["correlation_id"] = cid  # onward RPC calls and events carry it as a header
        correlation_id.set(cid)
        worker_ctx.data["_kring_started"] = time.perf_counter()
        if tracing.enabled():
            self._start_span(worker_ctx)

    def _start_span(self, worker_ctx: Any) -> None:
        entrypoint, service = worker_ctx.entrypoint, self.container.service_name
        if isinstance(entrypoint, Rpc):
            traced = tracing.start_worker_span(service, worker_ctx.data, rpc_method=entrypoint.method_name)
        elif isinstance(entrypoint, EventHandler):  # KringBatchEventHandler too
            traced = tracing.start_worker_span(service, worker_ctx.data,
                                               event=(entrypoint.source_service, entrypoint.event_type))
        else:
            return
        # Not in worker_ctx.data: nameko sends that as headers of every onward call.
        worker_ctx.kring_span = traced

    def worker_teardown(self, worker_ctx: Any) -> None:
        traced: tracing.WorkerSpan | None = getattr(worker_ctx, "kring_span", None)
        if traced is not None:
            worker_ctx.kring_span = None
            traced.end()

    def worker_result(self, worker_ctx: Any, result: Any = None, exc_info: Any = None) -> None:
        entrypoint = worker_ctx.entrypoint
        traced: tracing.WorkerSpan | None = getattr(worker_ctx, "kring_span", None)
        if traced is not None and exc_info is not None:
            traced.fail(exc_info[1], expected=isinstance(exc_info[1], KringError))
        if not isinstance(entrypoint, Rpc):
            return
        service, method = self.container.service_name, entrypoint.method_name
        outcome = "ok"
        if exc_info is not None:
            exc = exc_info[1]
            outcome = exc.code if isinstance(exc, KringError) else "internal_error"
        metrics.RPC_REQUESTS.labels(service=service, method=method, outcome=outcome).inc()
        started = worker_ctx.data.pop("_kring_started", None)
        if started is not None:
            metrics.RPC_DURATION.labels(service=service, method=method).observe(time.perf_counter() - started)

    def get_dependency(self, worker_ctx: Any) -> None:
        return None


# --- events ----------------------------------------------------------------------------------------------


def event_queue(source_service: str, event_type: str, service_name: str, method_name: str) -> Queue:
    """The durable queue of one handler: declared identically by the handler and by ``kring declare``.

    A quorum queue counts deliveries; past the delivery limit the broker dead-letters the message, so a handler
    that keeps failing cannot loop forever nor hold up the messages behind it. The limit and the dead-letter
    exchange are not arguments here but the RabbitMQ policy ``kring-events`` that ``kring declare`` sets
    (services/common/topology.py), so a changed KRING_EVENT_DELIVERY_LIMIT reaches queues that already exist.
    """
    exchange = Exchange(event_exchange_name(source_service), type="topic", durable=True, auto_delete=False)
    return Queue(
        f"evt-{source_service}-{event_type}--{service_name}.{method_name}",
        exchange=exchange,
        routing_key=event_type,
        durable=True,
        auto_delete=False,
        queue_arguments={"x-queue-type": "quorum"},  # a queue type cannot be a policy
    )


def dead_letter_queue() -> Queue:
    exchange = Exchange(DEAD_LETTER_EXCHANGE, type="fanout", durable=True, auto_delete=False)
    return Queue(DEAD_LETTER_QUEUE, exchange=exchange, durable=True, auto_delete=False,
                 queue_arguments={"x-queue-type": "quorum"})


def declare_queues(amqp_uri: str, *queues: Queue) -> list[Queue]:
    """Declare each queue with its exchange and binding, except one that exists with other arguments.

    Kring 0.1.0 declared the event queues with ``x-delivery-limit`` and ``x-dead-letter-exchange`` arguments,
    and RabbitMQ refuses (PRECONDITION_FAILED) to declare a queue again with other arguments. Such a queue is
    used as it is and never declared again (``no_declare``): its messages and consumers carry on, RabbitMQ
    applies the lower of its argument and the policy's delivery limit, and ``kring declare --migrate-queues``
    moves it onto the policy. Returns those queues.
    """
    kept = []
    with kombu.Connection(amqp_uri, connect_timeout=5) as connection:
        for queue in queues:
            channel = connection.channel()  # a refused declaration closes its channel
            try:
                queue(channel).declare()
            except amqp.exceptions.PreconditionFailed:
                queue.no_declare = True  # type: ignore[attr-defined]  # set from Queue.attrs at run time
                kept.append(queue)
            finally:
                with contextlib.suppress(Exception):
                    channel.close()
    return kept


class KringQueueConsumer(QueueConsumer):  # type: ignore[misc]  # nameko ships no types
    """nameko's queue consumer, except that a message that cannot be decoded (not JSON, a content type we
    do not accept) is dead-lettered by its handler instead of crashing the consumer loop, which would
    reconnect and receive the same message forever."""

    @property
    def prefetch_count(self) -> int:
        # One basic.qos for the channel: raised so that a batching handler has its next batch at hand.
        counts: list[int] = [self.container.max_workers, *(getattr(p, "prefetch", 0) for p in self._providers)]
        return max(counts)

    def handle_message(self, provider: Any, body: Any, message: Any) -> None:
        if isinstance(provider, KringBatchEventHandler):
            provider.handle_message(body, message)  # only queues it: no thread per message
        else:
            super().handle_message(provider, body, message)

    def get_consumers(self, consumer_cls: Any, channel: Any) -> Any:
        consumers = super().get_consumers(consumer_cls, channel)
        for provider, consumer in self._consumers.items():
            consumer.on_decode_error = partial(provider.handle_undecodable)
        return consumers

    # nameko gives up an ack or requeue on amqp's ConnectionError only. A socket error from a connection the
    # broker has just closed (a restart, a dropped connection) escaped into the worker's thread and killed the
    # whole container, leaving a process that answered nothing and consumed nothing until it was restarted by
    # hand. The broker puts back every unacknowledged message of a closed connection and consumers are
    # idempotent, so the ack or requeue can be given up; the consumer reconnects by itself.
    def ack_message(self, message: Any) -> None:
        try:
            super().ack_message(message)
        except OSError as exc:
            log.warning("could not acknowledge a message on a lost connection (%s); the broker redelivers it", exc)

    def requeue_message(self, message: Any) -> None:
        try:
            super().requeue_message(message)
        except OSError as exc:
            log.warning("could not requeue a message on a lost connection (%s); the broker redelivers it", exc)


class KringEventHandler(EventHandler):  # type: ignore[misc]  # nameko ships no types
    """The entrypoint behind :func:`event_handler`: its method receives ``(envelope, payload)`` already validated.

    - A message that is not a valid event of a known type and version is dead-lettered at once with
      the reason, without running the handler.
    - A handler that raises a :class:`KringError` (a rule the event breaks) is dead-lettered at once.
    - Any other failure (database down, a bug) is requeued; the broker dead-letters it after the
      delivery limit.
    """

    queue_consumer = KringQueueConsumer()

    def setup(self) -> None:
        self.queue = event_queue(self.source_service, self.event_type, self.container.service_name,
                                 self.method_name)
        self._dead_letters = ConfirmingPublisher(self.container.config["AMQP_URI"])
        self._dead_letter_lock = eventlet.semaphore.Semaphore()
        self._handler_name = f"{self.container.service_name}.{self.method_name}"
        metrics.start_event_handler(self.container.service_name, self.method_name, self.event_type)
        if declare_queues(self.container.config["AMQP_URI"], dead_letter_queue(), self.queue):
            log.warning("queue %s keeps the arguments an earlier Kring declared it with; it is used as it is until "
                        "`kring declare --migrate-queues` moves it onto the kring-events policy", self.queue.name,
                        extra={"queue": self.queue.name})
        Consumer.setup(self)

    def stop(self) -> None:
        super().stop()
        self._dead_letters.close()

    def handle_message(self, body: Any, message: Any) -> None:
        if message.delivery_info.get("redelivered"):
            metrics.EVENTS_REDELIVERED.labels(service=self.container.service_name, handler=self.method_name).inc()
        try:
            envelope, payload = parse_event(body)
        except UnprocessableEvent as exc:
            self._dead_letter(body, message, exc.message)
            return
        context_data = self.unpack_message_headers(message)
        context_data.setdefault("correlation_id", envelope.correlation_id)
        handle_result = partial(self.handle_result, message, envelope.type, time.perf_counter())
        try:
            self.container.spawn_worker(self, (envelope, payload), {}, context_data=context_data,
                                        handle_result=handle_result)
        except Exception:  # noqa: BLE001 - container stopping: give the message back to the broker
            self.queue_consumer.requeue_message(message)

    def handle_undecodable(self, message: Any, exc: Exception) -> None:
        self._dead_letter(None, message, f"undecodable message ({message.content_type}): {exc}")

    def handle_result(self, message: Any, event_type: str, started: float, worker_ctx: Any,
                      result: Any = None, exc_info: Any = None) -> tuple[Any, Any]:
        labels = {"service": self.container.service_name, "handler": self.method_name}
        metrics.EVENT_HANDLER_DURATION.labels(**labels).observe(time.perf_counter() - started)
        if exc_info is None:
            metrics.EVENTS_CONSUMED.labels(**labels, event_type=event_type, outcome="ok").inc()
            self.queue_consumer.ack_message(message)
        elif isinstance(exc_info[1], KringError):
            self._dead_letter(message.payload, message, f"{exc_info[1].code}: {exc_info[1].message}")
        else:
            metrics.EVENTS_CONSUMED.labels(**labels, event_type=event_type, outcome="retried").inc()
            log.error("handler %s failed on %s; the broker will redeliver it", self._handler_name, event_type,
                      exc_info=exc_info)
            self._requeue_after_backoff(message)
        return result, exc_info

    def _requeue_after_backoff(self, message: Any) -> None:
        """Give a failed message back to the broker after a pause that doubles with each delivery.

        The queue dead-letters a message after ``KRING_EVENT_DELIVERY_LIMIT`` deliveries. Requeued at once, an
        event that met a database restart used them all up within a second and was parked in the dead-letter
        queue, never applied, though nothing was wrong with it. Pausing 0.5 s, 1 s, 2 s... (at most 8 s) lets
        such an outage pass within the limit. Meanwhile the message stays unacknowledged (not lost if the
        process dies) and no worker waits for it.
        """
        deliveries = int((message.headers or {}).get("x-delivery-count") or 0)  # set by quorum queues
        delay = min(REQUEUE_BACKOFF_MAX, REQUEUE_BACKOFF_INITIAL * 2**deliveries)
        eventlet.spawn_after(delay, self.queue_consumer.requeue_message, message)

    def _dead_letter(self, body: Any, message: Any, reason: str) -> None:
        """Park the message, with why, in the dead-letter queue; then ack it so the queue moves on."""
        headers = dict(message.headers or {})
        headers.update({
            "x-kring-reason": reason[:1000],
            "x-kring-queue": self.queue.name,
            "x-kring-failed-at": datetime.now(UTC).isoformat(),
        })
        raw = body if isinstance(body, dict) else {"raw": message.body.decode("utf-8", "replace")
                                                   if isinstance(message.body, bytes) else str(message.body)}
        letter = OutgoingMessage(DEAD_LETTER_EXCHANGE, self.event_type, raw, headers, exchange_type="fanout")
        for attempt in (1, 2):  # a failed publish drops its connection: the second attempt opens a fresh one
            try:
                with self._dead_letter_lock:
                    self._dead_letters.publish([letter])
                break
            except (OSError, kombu.exceptions.OperationalError, amqp.exceptions.ConnectionError) as exc:
                if attempt == 2:
                    # The broker is gone: leave the message unacknowledged, so the broker gives it back (here or
                    # to another replica) once it returns and it is parked then; raising would kill the service.
                    log.warning("could not dead-letter a message from %s, the broker is unreachable (%s); it "
                                "will be delivered again", self.queue.name, exc)
                    return
        metrics.EVENTS_DEAD_LETTERED.labels(service=self.container.service_name, handler=self.method_name,
                                            reason="unprocessable").inc()
        metrics.EVENTS_CONSUMED.labels(service=self.container.service_name, handler=self.method_name,
                                       event_type=self.event_type, outcome="dead_lettered").inc()
        log.error("dead-lettered a message from %s: %s", self.queue.name, reason,
                  extra={"queue": self.queue.name, "reason": reason})
        self.queue_consumer.ack_message(message)


@dataclass
class _Pending:
    message: Any
    envelope: Envelope
    payload: EventPayload
    received: float = field(default_factory=time.perf_counter)


class KringBatchEventHandler(KringEventHandler):
    """An event handler that applies the deliveries waiting in its queue in one transaction.

    The decorated method is the effect of one event, ``(envelope, payload, uow)``; the kit records the
    processed-event marker and commits (see :func:`services.common.uow.apply_batch`). Up to
    ``concurrency`` workers per handler each take the deliveries that have arrived (at most
    ``batch_size``): under load batches grow, when idle an event is applied alone at once. Batches in
    flight together apply in no set order, as events on concurrent workers always do. Each message is
    settled after the commit, on its own outcome, exactly as :class:`KringEventHandler` settles it:
    acked when committed or already processed, dead-lettered at once for a :class:`KringError`, requeued
    otherwise (and dead-lettered by the broker after the delivery limit). Undecodable messages never
    enter a batch.
    """

    def __init__(self, source_service: str, event_type: str, *, batch_size: int = 100, concurrency: int = 2,
                 **kwargs: Any) -> None:
        super().__init__(source_service, event_type, **kwargs)
        self.batch_size = batch_size
        self.concurrency = concurrency
        self.prefetch = (concurrency + 1) * batch_size  # the next batch arrives while these commit

    def setup(self) -> None:
        super().setup()
        databases = [d for d in self.container.dependencies if isinstance(d, ServiceDatabase)]
        if len(databases) != 1:
            raise TypeError(f"{self._handler_name} needs exactly one ServiceDatabase on the service")
        self._uow_attr = databases[0].attr_name
        self._pending: list[_Pending] = []
        self._in_flight = 0

    def handle_message(self, body: Any, message: Any) -> None:
        if message.delivery_info.get("redelivered"):
            metrics.EVENTS_REDELIVERED.labels(service=self.container.service_name, handler=self.method_name).inc()
        try:
            envelope, payload = parse_event(body)
        except UnprocessableEvent as exc:
            # Publishing waits for a confirm: not on the queue consumer's own thread.
            self.container.spawn_managed_thread(partial(self._dead_letter, body, message, exc.message))
            return
        self._pending.append(_Pending(message, envelope, payload))
        self._spawn_batch()

    def _spawn_batch(self) -> None:
        if not self._pending or self._in_flight >= self.concurrency:
            return
        batch, self._pending = self._pending[:self.batch_size], self._pending[self.batch_size:]
        self._in_flight += 1
        # Waiting for a free worker happens on a thread of its own, never on the queue consumer's.
        self.container.spawn_managed_thread(partial(self._start_worker, batch))

    def _start_worker(self, batch: list[_Pending]) -> None:
        context_data = self.unpack_message_headers(batch[0].message)
        context_data.setdefault("correlation_id", batch[0].envelope.correlation_id)
        try:
            self.container.spawn_worker(self, (self, batch), {}, context_data=context_data,
                                        handle_result=partial(self.handle_batch_result, batch))
        except Exception:  # noqa: BLE001 - container stopping: give the messages back to the broker
            self._in_flight -= 1
            for item in [*batch, *self._pending]:
                self.queue_consumer.requeue_message(item.message)
            self._pending = []

    def run_batch(self, service: S, effect: Callable[[S, Envelope, E, W], None],
                  batch: list[_Pending]) -> list[BaseException | None]:
        """Called in the worker by the decorated method: apply the batch, return each event's outcome."""
        make_uow: Callable[[], W] = getattr(service, self._uow_attr)
        deliveries = [
            # The queue is bound to this handler's event type: its payloads are of the model the effect takes.
            Delivery(item.envelope.id, partial(effect, service, item.envelope, cast(E, item.payload)),
                     item.envelope.correlation_id)
            for item in batch
        ]
        return apply_batch(make_uow, deliveries, self._handler_name)

    def handle_batch_result(self, batch: list[_Pending], worker_ctx: Any, result: Any = None,
                            exc_info: Any = None) -> tuple[Any, Any]:
        try:
            outcomes = result if exc_info is None else [exc_info[1]] * len(batch)
            for item, outcome in zip(batch, outcomes, strict=True):
                failure = None if outcome is None else (type(outcome), outcome, outcome.__traceback__)
                try:
                    self.handle_result(item.message, item.envelope.type, item.received, worker_ctx, None, failure)
                except Exception:  # e.g. the dead-letter queue unreachable: try again later
                    log.exception("could not settle a message of %s; requeueing it", self._handler_name)
                    self.queue_consumer.requeue_message(item.message)
        finally:
            self._in_flight -= 1
            self._spawn_batch()
        return result, exc_info


def batch_event_handler(
    source_service: str, event_type: str, *, batch_size: int = 100, concurrency: int = 2, **kwargs: Any,
) -> Callable[[Callable[[S, Envelope, E, W], None]],
              Callable[[S, KringBatchEventHandler, list[_Pending]], list[BaseException | None]]]:
    """Decorate ``effect(self, envelope, payload, uow)`` as a batching event handler (see
    :class:`KringBatchEventHandler`). The effect acts only through ``uow``, never commits, and may run
    more than once (a failed batch is applied again event by event); it commits at most once."""

    def decorate(effect: Callable[[S, Envelope, E, W], None],
                 ) -> Callable[[S, KringBatchEventHandler, list[_Pending]], list[BaseException | None]]:
        entrypoint = KringBatchEventHandler(source_service, event_type, batch_size=batch_size,
                                            concurrency=concurrency, **kwargs)

        @wraps(effect)
        def run(service: S, handler: KringBatchEventHandler, batch: list[_Pending]) -> list[BaseException | None]:
            return handler.run_batch(service, effect, batch)

        register_entrypoint(run, entrypoint)
        return run

    return decorate


def event_handler(source_service: str, event_type: str, **kwargs: Any,
                  ) -> Callable[[Callable[[S, Envelope, E, W], None]], Callable[[S, Envelope, E], None]]:
    """Decorate ``effect(self, envelope, payload, uow)`` as an event handler that applies each event once.

    The kit records the event's id for this consumer (``<service>.<method>``: never rename the method, it names the
    queue and the records) in the same transaction as the effect, and commits; an event seen before changes
    nothing. The effect acts only through ``uow`` and never commits. Failures are settled as
    :class:`KringEventHandler` says. For pure projections, :func:`batch_event_handler` applies a queue's waiting
    events in one transaction.
    """

    def decorate(effect: Callable[[S, Envelope, E, W], None]) -> Callable[[S, Envelope, E], None]:
        @wraps(effect)
        def run(service: S, envelope: Envelope, payload: E) -> None:
            make_uow: Callable[[], W] = getattr(service, _database_attribute(type(service)))
            apply_once(make_uow(), envelope.id, f"{type(service).name}.{effect.__name__}",
                       partial(effect, service, envelope, payload))

        register_entrypoint(run, KringEventHandler(source_service, event_type, **kwargs))
        return run

    return decorate


# --- calls to another service ----------------------------------------------------------------------------

SERVICE_CALL_TIMEOUT = 5.0  # seconds; below the gateway's own 10 s, so its caller hears why
_NO_ANSWER = object()


def call_service(service: str, call: Callable[[], R], timeout: float = SERVICE_CALL_TIMEOUT) -> R:
    """``call`` (one call through a nameko ``RpcProxy`` to ``service``), given up after ``timeout``.

    nameko 2's ``RpcProxy`` waits for ever: a worker whose call is never answered (the other service stopped, or
    is stopping as this one is) would hold up this service's own stop until it is killed. Not answered in time,
    or not running at all, the call is :class:`Unavailable` (503 / UNAVAILABLE at the edge).
    """
    answer: object = _NO_ANSWER
    try:
        with eventlet.Timeout(timeout, False):
            answer = call()
    except UnknownService as exc:
        raise Unavailable(f"the {service} service is not running; try again later") from exc
    if answer is _NO_ANSWER:
        raise Unavailable(f"the {service} service did not answer within {timeout:g} s; try again")
    return answer


# --- RPC entrypoints --------------------------------------------------------------------------------------


class KringRpcConsumer(RpcConsumer):  # type: ignore[misc]  # nameko ships no types
    """nameko's RPC consumer, except that a reply that cannot be sent does not kill the service.

    nameko sends the reply after the worker has run; when the broker is restarting or has dropped the
    connection, that publish raises in the worker's thread, and nameko kills the whole container for it:
    the process stayed up (its metrics answered) but served no RPC and consumed no event until restarted
    by hand. The caller's own timeout already covers a reply that never comes, so the request is
    acknowledged if the connection still allows it, and the service goes on.
    """

    def handle_result(self, message: Any, result: Any, exc_info: Any) -> tuple[Any, Any]:
        try:
            answer: tuple[Any, Any] = super().handle_result(message, result, exc_info)
            return answer
        except (OSError, kombu.exceptions.OperationalError, amqp.exceptions.ConnectionError) as exc:
            log.warning("could not reply to an RPC call, the broker connection is gone (%s); the caller "
                        "times out", exc)
            with contextlib.suppress(OSError):  # a dead connection: the broker puts the request back
                self.queue_consumer.ack_message(message)
            return result, exc_info


class KringRpc(Rpc):  # type: ignore[misc]  # nameko ships no types
    rpc_consumer = KringRpcConsumer()

    def unpack_message_headers(self, message: Any) -> dict[str, Any]:
        """The caller's context, with a request id for every request: the caller's own (the gateway sends one
        derived from an ``Idempotency-Key``), or else the message's correlation id, which a redelivery keeps."""
        data: dict[str, Any] = super().unpack_message_headers(message)
        if not data.get(REQUEST_ID_KEY):
            data[REQUEST_ID_KEY] = message.properties.get("correlation_id")
        return data


class EntrypointDecorator(Protocol):
    """A nameko entrypoint decorator: it registers the method as an entrypoint and returns it unchanged."""

    def __call__(self, method: F, /) -> F: ...


#: nameko's ``rpc`` with the kit's consumer: ``@rpc`` or ``@rpc(expected_exceptions=...)``.
rpc: Callable[..., Any] = KringRpc.decorator

#: An RPC entrypoint that only reads: a typed error is the caller's answer, not the service's failure.
query: EntrypointDecorator = rpc(expected_exceptions=KringError)

_Method = Callable[Concatenate[S, P], R]  # an entrypoint: the service, then the call's arguments


@overload
def command(method: _Method[S, P, R], /) -> _Method[S, P, R]: ...


@overload
def command(*, shown_once: tuple[str, ...] = ()) -> Callable[[_Method[S, P, R]], _Method[S, P, R]]: ...


def command(method: _Method[S, P, R] | None = None, *,
            shown_once: tuple[str, ...] = ()) -> _Method[S, P, R] | Callable[[_Method[S, P, R]], _Method[S, P, R]]:
    """An RPC entrypoint that changes state, applied once per request id (:mod:`services.common.commands`).

    The request id arrives with the call; the entrypoint runs in one transaction with the record of the request,
    and a repeat of the request (redelivered by the broker, or retried by a client with its key) is answered from
    that record instead of acting again. ``shown_once`` names answer fields that must never be kept (a new
    token). The service needs exactly one :class:`ServiceDatabase`. Use as ``@command`` or
    ``@command(shown_once=("token",))``.
    """
    def decorate(method: _Method[S, P, R]) -> _Method[S, P, R]:
        @wraps(method)
        def run(service: S, /, *args: P.args, **kwargs: P.kwargs) -> R:
            factory: UnitOfWorkFactory[SqlUnitOfWork] = getattr(service, _database_attribute(type(service)))
            return factory.run_command(method.__name__, args, kwargs, partial(method, service, *args, **kwargs),
                                       shown_once)

        return query(run)

    return decorate if method is None else decorate(method)


@cache
def _database_attribute(service_class: type) -> str:
    found = [name for name in dir(service_class) if isinstance(getattr(service_class, name, None), ServiceDatabase)]
    if len(found) != 1:
        raise TypeError(f"{service_class.__name__} needs exactly one ServiceDatabase to run commands, has {found}")
    return found[0]
