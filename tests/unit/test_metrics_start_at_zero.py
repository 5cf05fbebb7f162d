"""Counters whose label values are known when a process starts are exposed at 0 from then on: a series that
appears only at its first increment has no earlier sample, so ``rate()`` and ``increase()`` miss that first
error or dead letter."""

from __future__ import annotations

from prometheus_client import REGISTRY

from services.common import errors, metrics
from services.gateway.shared import observability


def value(name: str, **labels: str) -> float | None:
    return REGISTRY.get_sample_value(name, labels)


def test_an_event_handlers_dead_letters_redeliveries_and_outcomes_start_at_zero():
    metrics.start_event_handler("zero-svc", "on_thing_happened", "thing.happened")
    labels = {"service": "zero-svc", "handler": "on_thing_happened"}
    assert value("kring_events_dead_lettered_total", **labels, reason="unprocessable") == 0
    assert value("kring_events_redelivered_total", **labels) == 0
    for outcome in ("ok", "retried", "dead_lettered"):
        assert value("kring_events_consumed_total", **labels, event_type="thing.happened", outcome=outcome) == 0


def test_a_services_outbox_errors_and_each_rpc_methods_outcomes_start_at_zero():
    metrics.start_service("zero-svc")
    metrics.start_rpc_methods("zero-svc", ["get_thing", "make_thing"])
    assert value("kring_outbox_relay_errors_total", service="zero-svc") == 0
    for method in ("get_thing", "make_thing"):
        for outcome in ("ok", "internal_error", "not_found", "unavailable"):
            assert value("kring_rpc_requests_total", service="zero-svc", method=method, outcome=outcome) == 0


def test_every_typed_errors_code_is_an_rpc_outcome_started_at_zero():
    codes = {error.code for error in errors.ALL_ERRORS if error is not errors.KringError}
    assert codes <= set(metrics.RPC_OUTCOMES)


def test_the_relay_counts_for_a_peer_start_at_zero_when_it_follows_it():
    metrics.start_relay_peer("kring-zero")
    for outcome in ("applied", "duplicate", "refused"):
        assert value("kring_relay_entries_total", peer="kring-zero", outcome=outcome) == 0
    assert value("kring_federation_origin_refusals_total", peer="kring-zero") == 0


def test_each_partner_api_methods_calls_by_code_start_at_zero_and_keep_counting_from_there():
    method = "/kring.v1.Federation/ZeroMethod"
    observability.start_grpc_methods([method])
    assert value("kring_grpc_requests_total", method=method, code="PERMISSION_DENIED") == 0
    assert value("kring_grpc_requests_total", method=method, code="INTERNAL") == 0
    observability.GRPC_REQUESTS.labels(method=method, code="INTERNAL").inc()
    observability.start_grpc_methods([method])  # starting again resets nothing
    assert value("kring_grpc_requests_total", method=method, code="INTERNAL") == 1


def test_the_partner_api_codes_started_cover_every_typed_errors_status():
    statuses = {error.grpc_status for error in errors.ALL_ERRORS if error is not errors.KringError}
    assert statuses <= set(observability.GRPC_CODES)
