"""Tracing across the bus: one OpenTelemetry trace from an edge (admin API, partner API) through RPC calls, outbox
events and their consumers.

Off unless configured: :func:`configure_tracing` installs the SDK's tracer provider only when an OTLP endpoint is
set (``OTEL_EXPORTER_OTLP_ENDPOINT`` or ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``) and ``KRING_TRACING`` is not
``off``. Otherwise nothing here imports the SDK, no instrumentation is installed, and every helper returns at its
first line (:func:`enabled` is false): a request costs one boolean test per hop.

The W3C trace context (``traceparent``, ``tracestate``) travels

- into the gateway: HTTP headers (FastAPI instrumentation) and gRPC metadata (grpcio instrumentation);
- with a nameko RPC: as context data, which nameko sends as the message headers ``nameko.traceparent`` and
  ``nameko.tracestate`` and hands to the service's worker (:func:`inject_into` on the caller's side,
  :func:`start_worker_span` on the service's);
- with an event: stored in the outbox row beside the event (:func:`event_trace_context`, written in the same
  transaction), and sent by the outbox relay as the same two headers, so a consumer's span is a child of the
  event's creation however long the event waited in the outbox, and whichever process published it.

Spans are made by the official instrumentations where one fits (FastAPI, grpcio, SQLAlchemy) and here for
nameko's RPC (client and server) and event handlers, which have none. Context lives in context variables: under
eventlet each green thread (each nameko worker) has its own, so concurrent workers never see each other's trace.
"""

from __future__ import annotations

import logging
import os
import random
from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.propagate import extract, inject
from opentelemetry.trace import NonRecordingSpan, Span, SpanContext, SpanKind, Status, StatusCode, TraceFlags

__all__ = ["SpanKind", "configure_tracing", "enabled", "span"]  # SpanKind: for callers of span()

from services.common.logs import add_context_field, remove_context_field

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter
    from sqlalchemy import Engine

log = logging.getLogger(__name__)

TRACEPARENT = "traceparent"
TRACESTATE = "tracestate"
CARRIER_KEYS = (TRACEPARENT, TRACESTATE)
# What an event's consumer and the outbox relay send as AMQP headers: nameko's prefix for context data.
HEADER_PREFIX = "nameko."
ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")

_enabled = False
_provider: TracerProvider | None = None  # the SDK's provider while tracing is on
_tracer: trace.Tracer = trace.NoOpTracer()


def enabled() -> bool:
    return _enabled


def wanted(mode: str, environ: Mapping[str, str] | None = None) -> bool:
    """Whether tracing should run: ``KRING_TRACING`` (``auto``, ``on``, ``off``) and the standard variables.

    ``auto``: when an OTLP endpoint is configured; ``on``: always (the exporter's default endpoint,
    http://localhost:4318); ``off``: never. ``OTEL_SDK_DISABLED=true`` turns it off whatever the mode.
    """
    env = os.environ if environ is None else environ
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true" or mode == "off":
        return False
    return mode == "on" or any(env.get(name) for name in ENDPOINT_VARIABLES)


def configure_tracing(process: str, mode: str = "auto", *, instance_id: str | None = None,
                      exporter: SpanExporter | None = None) -> bool:
    """Install the SDK's tracer provider for this process if tracing is wanted; return whether it is on.

    ``exporter`` (tests: an in-memory exporter) replaces OTLP and turns tracing on whatever the environment; spans
    are then exported as each ends. Otherwise they go in batches to the OTLP/HTTP exporter, which reads the
    standard ``OTEL_EXPORTER_OTLP_*`` variables (endpoint, headers, timeout, certificate); the sampler follows
    ``OTEL_TRACES_SAMPLER`` (parent-based, always on, by default), the resource ``OTEL_RESOURCE_ATTRIBUTES``.
    Called once per process, before any instrumented object (app, server, engine) is made.
    """
    global _enabled, _provider, _tracer
    if exporter is None and not wanted(mode):
        return False
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

    attributes = {"service.name": f"kring-{process}", "service.namespace": "kring"}
    if instance_id:
        attributes["service.instance.id"] = f"{instance_id}/{process}/{os.getpid()}"
    provider = TracerProvider(resource=Resource.create(attributes))
    if exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        trace.set_tracer_provider(provider)  # for any library's own spans; once per process
    _provider, _tracer = provider, provider.get_tracer("kring")
    add_context_field("trace_id", current_trace_id)
    add_context_field("span_id", current_span_id)
    _enabled = True
    log.info("tracing on: spans of %s exported over OTLP", process if exporter is None else "tests")
    return True


def shutdown_tracing() -> None:
    """Export what is still buffered and turn tracing off (a process stopping; a test done)."""
    global _enabled, _provider, _tracer
    if _provider is not None:
        _provider.shutdown()
    _enabled, _provider, _tracer = False, None, trace.NoOpTracer()
    remove_context_field("trace_id")
    remove_context_field("span_id")


def current_trace_id() -> str | None:
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else None


def current_span_id() -> str | None:
    context = trace.get_current_span().get_span_context()
    return format(context.span_id, "016x") if context.is_valid else None


# --- carrying the context ----------------------------------------------------------------------------------


def inject_into(data: MutableMapping[str, Any]) -> None:
    """Write the current trace context into ``data`` (nameko context data: sent as headers), or drop stale keys."""
    if not _enabled:
        return
    for key in CARRIER_KEYS:
        data.pop(key, None)
    inject(data)


def event_trace_context() -> dict[str, str] | None:
    """The carrier stored with an outbox row: the current context (an event's ``create`` span), or None."""
    if not _enabled:
        return None
    carrier: dict[str, str] = {}
    inject(carrier)
    return carrier or None


def event_headers(stored: Mapping[str, str] | None) -> dict[str, str]:
    """The AMQP headers the outbox relay sends an event with, from the context stored with its row."""
    if not stored:
        return {}
    return {f"{HEADER_PREFIX}{key}": value for key, value in stored.items() if key in CARRIER_KEYS and value}


def _carrier(data: Mapping[str, Any]) -> dict[str, str]:
    return {key: str(data[key]) for key in CARRIER_KEYS if data.get(key)}


# --- spans ---------------------------------------------------------------------------------------------------


@contextmanager
def span(name: str, *, kind: SpanKind = SpanKind.INTERNAL, attributes: Mapping[str, Any] | None = None,
         parent: Mapping[str, Any] | None = None) -> Iterator[Span | None]:
    """A span around a block, current inside it (None and nothing done when tracing is off).

    ``parent``: a carrier (``traceparent``...) to continue instead of the current context.
    """
    if not _enabled:
        yield None
        return
    context = extract(_carrier(parent)) if parent is not None else None
    with _tracer.start_as_current_span(name, context=context, kind=kind, attributes=attributes) as current:
        yield current


@contextmanager
def rpc_client_span(service: str, method: str) -> Iterator[Span | None]:
    """The span of an RPC call made through the gateway's pool (or the relay's) within a trace.

    A call outside any trace (readiness probes, the feed hub's polling, the relay reading its peers) is sent with
    a context marked not sampled, so the services record nothing of it (the default sampler follows the parent's
    decision): background chatter does not flood the tracing backend with one-span traces.
    """
    if not trace.get_current_span().get_span_context().is_valid:
        unsampled = SpanContext(trace_id=random.getrandbits(128) or 1, span_id=random.getrandbits(64) or 1,
                                is_remote=False, trace_flags=TraceFlags(TraceFlags.DEFAULT))
        token = otel_context.attach(trace.set_span_in_context(NonRecordingSpan(unsampled)))
        try:
            yield None
        finally:
            otel_context.detach(token)
        return
    with span(f"{service}.{method}", kind=SpanKind.CLIENT,
              attributes={"rpc.system": "nameko", "rpc.service": service, "rpc.method": method}) as current:
        yield current


class WorkerSpan:
    """The span of one nameko worker, current in the worker's green thread until :meth:`end`."""

    def __init__(self, current: Span, token: object) -> None:
        self.span = current
        self._token = token

    def fail(self, exc: BaseException, expected: bool) -> None:
        """Record the worker's exception; an expected one (a typed error the caller is answered with) is not a
        failure of the span."""
        if expected:
            self.span.set_attribute("kring.error", getattr(exc, "code", type(exc).__name__))
        else:
            self.span.record_exception(exc)
            self.span.set_status(Status(StatusCode.ERROR, type(exc).__name__))

    def end(self) -> None:
        self.span.end()
        otel_context.detach(self._token)  # type: ignore[arg-type]  # the token attach returned


def start_worker_span(service: str, data: MutableMapping[str, Any], *, rpc_method: str | None = None,
                      event: tuple[str, str] | None = None) -> WorkerSpan | None:
    """Start the span of a nameko worker, child of the caller's or producer's context in ``data`` (its context
    data), make it current, and put its own context in ``data`` so onward calls and events continue from it.

    ``rpc_method``: an RPC entrypoint (a SERVER span); ``event``: (producer, event type) of an event handler (a
    CONSUMER span). None when tracing is off.
    """
    if not _enabled:
        return None
    parent = extract(_carrier(data))
    if rpc_method is not None:
        name, kind = f"{service}.{rpc_method}", SpanKind.SERVER
        attributes: dict[str, Any] = {"rpc.system": "nameko", "rpc.service": service, "rpc.method": rpc_method}
    else:
        producer, event_type = event or ("", "")
        name, kind = f"{event_type} process", SpanKind.CONSUMER
        attributes = {"messaging.system": "rabbitmq", "messaging.operation.type": "process",
                      "messaging.destination.name": f"{producer}.events", "messaging.rabbitmq.routing_key": event_type,
                      "messaging.consumer.group.name": service}
    current = _tracer.start_span(name, context=parent, kind=kind, attributes=attributes)
    token = otel_context.attach(trace.set_span_in_context(current, parent))
    inject_into(data)
    return WorkerSpan(current, token)


@contextmanager
def event_created(producer: str, event_type: str, event_id: str) -> Iterator[None]:
    """The PRODUCER span of one event written to the outbox: the context its consumers continue."""
    with span(f"{event_type} create", kind=SpanKind.PRODUCER,
              attributes={"messaging.system": "rabbitmq", "messaging.operation.type": "create",
                          "messaging.destination.name": f"{producer}.events", "messaging.message.id": event_id}):
        yield


def event_sent(producer: str, event_type: str, event_id: str, stored: Mapping[str, str] | None) -> None:
    """A SEND span for an event the outbox relay published, child of its stored context (the wait in the outbox
    shows as the gap between the two)."""
    if not _enabled or not stored:
        return
    with span(f"{event_type} send", kind=SpanKind.PRODUCER, parent=stored,
              attributes={"messaging.system": "rabbitmq", "messaging.operation.type": "send",
                          "messaging.destination.name": f"{producer}.events", "messaging.message.id": event_id}):
        pass


# --- instrumentations ----------------------------------------------------------------------------------------


def instrument_engine(engine: Engine) -> None:
    """Spans for the statements of a service's database engine (SQLAlchemy instrumentation)."""
    if _provider is None:
        return
    # The instrumentation's per-engine tracer: its instrumentor is a once-per-process switch (a second engine,
    # another service's in the same process, would not be traced) and patches create_engine globally.
    from opentelemetry.instrumentation.sqlalchemy import engine as sqlalchemy_tracing
    from opentelemetry.metrics import get_meter

    usage = get_meter("kring.sqlalchemy").create_up_down_counter("db.client.connections.usage", unit="connections")
    sqlalchemy_tracing.EngineTracer(_provider.get_tracer(sqlalchemy_tracing.__name__), engine,  # type: ignore[no-untyped-call]
                                    usage)


def instrument_fastapi(app: Any) -> None:
    """Spans for the admin API's requests, continuing an incoming ``traceparent`` (FastAPI instrumentation)."""
    if _provider is None:
        return
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(app, excluded_urls="healthz,readyz", tracer_provider=_provider)


def grpc_server_interceptors() -> list[Any]:
    """The partner API's span interceptor (grpcio instrumentation), or none when tracing is off."""
    if _provider is None:
        return []
    from opentelemetry.instrumentation.grpc import aio_server_interceptor

    # The partner server is grpc.aio's.
    return [aio_server_interceptor(tracer_provider=_provider)]  # type: ignore[no-untyped-call]  # the instrumentation is untyped


def grpc_client_interceptors() -> list[Any]:
    """Spans and an outgoing ``traceparent`` for the relay's calls to a peer, or none when tracing is off."""
    if _provider is None:
        return []
    from opentelemetry.instrumentation.grpc import client_interceptor

    return [client_interceptor(tracer_provider=_provider)]  # type: ignore[no-untyped-call]  # the instrumentation is untyped
