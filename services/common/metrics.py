"""Prometheus metrics shared by every process. Labels stay bounded: service, method, event type, outcome,
a vocabulary value (level, kind, perspective, format, visibility) or a configured federation peer.

Never put a member id, an email or a network id in a label. Names follow Prometheus conventions: base
units in the name (``_seconds``, ``_timestamp_seconds``), ``_total`` on counters (prometheus_client adds it
to the exposed name), and ``promtool check metrics`` finds nothing (tests/ops checks every process).

The dashboard (deploy/grafana/) and the alerts (deploy/prometheus/rules.yml) use these names; tests/ops
fails when one of them names a metric that is not defined here or in the gateway's observability module.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

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


# --- federation (issues 4 and 5 record these; defined here so the dashboard and alerts use final names) --------

# From an output being shared (published with a visibility beyond its network) to its arrival in a feed: a
# partner's stream or another instance, minutes at worst when a peer was away.
DELIVERY_LAG_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)

FEDERATION_DELIVERY_LAG = Histogram(
    "kring_federation_delivery_lag_seconds",
    "Time from an output being shared to its arrival in a feed (a partner stream or a peer instance)",
    buckets=DELIVERY_LAG_BUCKETS,
)
# The relay's view of each peer instance. ``peer`` is a configured peer's instance id: operators add peers one
# by one, so the label stays bounded.
RELAY_PEER_CONNECTED = Gauge(
    "kring_relay_peer_connected", "1 while the relay holds a working connection to the peer, else 0", ["peer"]
)
RELAY_PEER_CURSOR_LAG = Gauge(
    "kring_relay_peer_cursor_lag", "Entries of the peer's feed for this instance that the relay has not applied yet",
    ["peer"],
)
RELAY_PEER_CONSECUTIVE_FAILURES = Gauge(
    "kring_relay_peer_consecutive_failures", "Failed attempts to reach the peer since the last success", ["peer"]
)
RELAY_PEER_LAST_SUCCESS = Gauge(
    "kring_relay_peer_last_success_timestamp_seconds",
    "Unix time of the last successful exchange with the peer", ["peer"],
)
RELAY_ENTRIES = Counter(
    "kring_relay_entries_total", "Entries of a peer's feed the relay handed to this instance, by outcome "
    "(applied, duplicate, refused)", ["peer", "outcome"],
)
# The origin check: an instance speaks only for the networks it hosts. Counted by the relay for entries of a
# peer's feed, and by the gateway for PublishOutput calls of a partner of kind instance.
FEDERATION_ORIGIN_REFUSALS = Counter(
    "kring_federation_origin_refusals_total",
    "Outputs refused because another instance claimed an origin network it does not host", ["peer"],
)
PARTNER_STREAMS_OPEN = Gauge(
    "kring_partner_streams_open", "Partner gRPC streams (live output subscriptions) open on this gateway"
)
FEED_HUB_UPDATES = Counter(
    "kring_partner_feed_hub_updates_total",
    "New feed log entries the gateway's feed hub handed to its streams, by batch and where they came from: carried "
    "by the feed.appended event (source=event) or read from the federation service's log (source=log)",
    ["source"],
)
PARTNER_STREAMS_FOLLOWING = Gauge(
    "kring_partner_streams_following",
    "Open partner streams that caught up and follow the feed hub (the others are still reading their past)",
)

# --- domain gauges: what an operator wants on a wall ---------------------------------------------------------
# Set every 30 s by the service that owns the data (services/common/domain_gauges.py with the query in
# services/<service>/gauges.py). Every replica reports the same figure from the shared database, so the
# dashboard and alerts aggregate them with max(), never sum().

NETWORKS_ACTIVE = Gauge("kring_networks_active", "Active (not archived) networks, by level and kind",
                        ["level", "kind"])
MEMBERS_ACTIVE = Gauge(
    "kring_members_active",
    "Registered members not erased, by perspective (a member with two perspectives counts in both)",
    ["perspective"],
)
SESSIONS_HELD_LAST_MONTH = Gauge(
    "kring_sessions_held_last_month",
    "Sessions held (held or closed) that started in the last 30 days (a rolling month), by format", ["format"],
)
OUTPUTS_SHARED_BEYOND_NETWORK = Gauge(
    "kring_outputs_shared_beyond_network",
    "Published, not retracted outputs whose visibility reaches beyond their own network, by visibility",
    ["visibility"],
)
DOMAIN_GAUGES_LAST_SUCCESS = Gauge(
    "kring_domain_gauges_last_success_timestamp_seconds", "Unix time the domain gauges were last read",
    ["service"],
)
DOMAIN_GAUGES_ERRORS = Counter(
    "kring_domain_gauges_errors_total", "Failed attempts to read the domain gauges (the database unavailable)",
    ["service"],
)


# --- counters that start at zero -----------------------------------------------------------------------------
# A labelled counter's series appears at its first increment, so rate() and increase() have no earlier sample
# and miss that first error or dead letter. Where the label values are known when a process starts (its
# handlers, its RPC methods, the outcomes the code can record), the series are created at 0 up front.

EVENT_OUTCOMES = ("ok", "retried", "dead_lettered")  # what the event handlers record (kring_events_consumed)
DEAD_LETTER_REASONS = ("unprocessable",)  # what they dead-letter for; the broker's delivery limit is its own
# RPC outcomes: ok, an unexpected failure, or the code of a typed error (services/common/errors.py).
RPC_OUTCOMES = ("ok", "internal_error", "validation_failed", "unauthenticated", "permission_denied", "not_found",
                "conflict", "illegal_transition", "rate_limited", "unavailable")


def start_at_zero(counter: Counter, label_sets: Iterable[Mapping[str, str]]) -> None:
    """Expose each of these label combinations at 0 before anything increments it."""
    for labels in label_sets:
        counter.labels(**labels)


def start_service(service: str) -> None:
    """A service's outbox relay errors, from its start."""
    start_at_zero(OUTBOX_RELAY_ERRORS, [{"service": service}])


def start_event_handler(service: str, handler: str, event_type: str) -> None:
    """An event handler's dead letters, redeliveries and outcomes, from its start."""
    labels = {"service": service, "handler": handler}
    start_at_zero(EVENTS_DEAD_LETTERED, [{**labels, "reason": reason} for reason in DEAD_LETTER_REASONS])
    start_at_zero(EVENTS_REDELIVERED, [labels])
    start_at_zero(EVENTS_CONSUMED, [{**labels, "event_type": event_type, "outcome": o} for o in EVENT_OUTCOMES])


def start_rpc_methods(service: str, methods: Iterable[str]) -> None:
    """A service's RPC calls by outcome, errors included, from its start."""
    start_at_zero(RPC_REQUESTS, [{"service": service, "method": method, "outcome": outcome}
                                 for method in methods for outcome in RPC_OUTCOMES])


def start_relay_peer(peer: str) -> None:
    """What the relay counts for a peer, from the moment it follows it."""
    start_at_zero(RELAY_ENTRIES, [{"peer": peer, "outcome": o} for o in ("applied", "duplicate", "refused")])
    start_at_zero(FEDERATION_ORIGIN_REFUSALS, [{"peer": peer}])


def serve_metrics(port: int, host: str = "127.0.0.1") -> None:
    """Expose /metrics for this process."""
    start_http_server(port, addr=host)


# --- calls into the services from processes outside nameko (the gateway, the relay: common/rpc_client.py) ---

GATEWAY_RPC_CALLS = Counter(
    "kring_gateway_rpc_calls_total", "Calls from the gateway into the services, by outcome",
    ["service", "method", "outcome"],
)
GATEWAY_RPC_DURATION = Histogram(
    "kring_gateway_rpc_duration_seconds", "Time of a gateway call into a service, waiting for a proxy included",
    ["service", "method"], buckets=FAST_BUCKETS,
)
RPC_PROXIES_REPLACED = Counter(
    "kring_gateway_rpc_proxies_replaced_total",
    "Standalone RPC proxies discarded after a timeout or a broken connection",
)
