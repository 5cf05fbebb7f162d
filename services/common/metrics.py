"""Prometheus metrics shared by every process. Labels stay bounded: service, method, event type, outcome.

Never put a member id, an email or a network id in a label.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram, start_http_server

# RPC and event handlers are internal hops: most finish in milliseconds.
FAST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

RPC_REQUESTS = Counter(
    "kring_rpc_requests_total", "RPC calls handled, by outcome (ok or the error code)",
    ["service", "method", "outcome"],
)
RPC_DURATION = Histogram(
    "kring_rpc_duration_seconds", "Time to handle an RPC call", ["service", "method"], buckets=FAST_BUCKETS
)
EVENTS_CONSUMED = Counter(
    "kring_events_consumed_total",
    "Events handled, by outcome (ok, duplicate, dead_lettered, retried)",
    ["service", "handler", "event_type", "outcome"],
)
EVENT_HANDLER_DURATION = Histogram(
    "kring_event_handler_duration_seconds", "Time to handle an event", ["service", "handler"],
    buckets=FAST_BUCKETS,
)
EVENTS_REDELIVERED = Counter(
    "kring_events_redelivered_total", "Events the broker delivered again", ["service", "handler"]
)
EVENTS_DEAD_LETTERED = Counter(
    "kring_events_dead_lettered_total", "Events sent to the dead-letter queue", ["service", "handler", "reason"]
)
EVENTS_PUBLISHED = Counter(
    "kring_events_published_total", "Events relayed from the outbox and confirmed by the broker",
    ["service", "event_type"],
)
OUTBOX_PENDING = Gauge("kring_outbox_pending_events", "Outbox rows not yet published", ["service"])
OUTBOX_OLDEST_AGE = Gauge(
    "kring_outbox_oldest_pending_age_seconds", "Age of the oldest unpublished outbox row", ["service"]
)
OUTBOX_RELAY_ERRORS = Counter(
    "kring_outbox_relay_errors_total", "Relay runs that failed (broker or database unavailable)", ["service"]
)


def serve_metrics(port: int, host: str = "127.0.0.1") -> None:
    """Expose /metrics for this process."""
    start_http_server(port, addr=host)
