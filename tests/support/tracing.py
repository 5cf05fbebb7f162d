"""Tracing in tests: spans kept in memory (the SDK's in-memory exporter), and helpers to read one trace."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from services.common import tracing


@contextmanager
def traced(process: str = "test") -> Iterator[InMemorySpanExporter]:
    """Tracing on in this process for the block, every finished span kept by the exporter yielded."""
    exporter = InMemorySpanExporter()
    tracing.configure_tracing(process, exporter=exporter)
    try:
        yield exporter
    finally:
        tracing.shutdown_tracing()


def new_traceparent() -> tuple[str, str, str]:
    """(traceparent header, its trace id, its parent span id), sampled, as a caller sends it."""
    trace_id, span_id = secrets.token_hex(16), secrets.token_hex(8)
    return f"00-{trace_id}-{span_id}-01", trace_id, span_id


def spans_of(exporter: InMemorySpanExporter, trace_id: str) -> list[ReadableSpan]:
    return [s for s in exporter.get_finished_spans() if s.context is not None
            and format(s.context.trace_id, "032x") == trace_id]


def hex_id(span: ReadableSpan) -> str:
    assert span.context is not None
    return format(span.context.span_id, "016x")


def parent_id(span: ReadableSpan) -> str | None:
    return format(span.parent.span_id, "016x") if span.parent is not None else None


def named(spans: list[ReadableSpan], name: str, kind: SpanKind | None = None) -> list[ReadableSpan]:
    return [s for s in spans if s.name == name and (kind is None or s.kind == kind)]


def describe(spans: list[ReadableSpan]) -> str:
    """One line per span, for assertion messages."""
    return "\n".join(f"{s.kind.name:8} {s.name} {hex_id(s)} <- {parent_id(s)}" for s in spans)
