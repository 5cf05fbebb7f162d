"""Metric names and labels follow Prometheus' conventions, checked by promtool and by our own rules."""

from __future__ import annotations

import subprocess

import pytest
from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.metrics import MetricWrapperBase

from tests.ops.metric_names import import_metric_modules, metric_names, registered_families

# Every label a Kring metric may carry. Each has a bounded set of values: a code path, a vocabulary value, a
# status, or a configured federation peer. A new label belongs here only if that holds; an id, an email or a
# name never does.
BOUNDED_LABELS = frozenset({
    "service", "method", "outcome", "handler", "event_type", "reason", "source",  # code paths and outcomes
    "route", "status", "code",  # route templates, HTTP status, gRPC status code
    "level", "kind", "perspective", "format", "visibility",  # the domain vocabulary
    "peer",  # a configured federation peer instance
})
DEFAULT_COLLECTORS = ("process_", "python_")  # prometheus_client's own, on every process


def promtool_check(promtool: str, exposition: str) -> subprocess.CompletedProcess:
    return subprocess.run([promtool, "check", "metrics"], input=exposition, capture_output=True, text=True,
                          timeout=30)


def every_kring_metric() -> list[MetricWrapperBase]:
    import sys

    import_metric_modules()
    found = {}
    for name, module in list(sys.modules.items()):
        if name.startswith("services.") and module is not None:
            for value in vars(module).values():
                if isinstance(value, MetricWrapperBase):
                    found[id(value)] = value
    return list(found.values())


def label_problems(registry_families: dict[str, list[str]]) -> list[str]:
    return [f"{family}: label {label!r} is not a bounded label" for family, labels in registry_families.items()
            for label in labels if label not in BOUNDED_LABELS]


def kring_labels() -> dict[str, list[str]]:
    return {metric._name: list(metric._labelnames) for metric in every_kring_metric()}


def test_every_metric_is_named_kring_something_except_the_client_libraries_own():
    strays = [name for name in registered_families()
              if not name.startswith("kring_") and not name.startswith(DEFAULT_COLLECTORS)]
    assert strays == []


def test_every_label_of_every_kring_metric_is_a_bounded_one():
    assert label_problems(kring_labels()) == []


def test_a_metric_labelled_by_member_id_or_email_is_reported():
    assert label_problems({"kring_logins_total": ["member_id", "email", "service"]}) == [
        "kring_logins_total: label 'member_id' is not a bounded label",
        "kring_logins_total: label 'email' is not a bounded label",
    ]


def test_promtool_finds_nothing_in_the_exposition_of_every_metric_the_code_defines(promtool):
    for metric in every_kring_metric():  # one sample of each, so labelled metrics are exposed too
        child = metric.labels(*["x"] * len(metric._labelnames)) if metric._labelnames else metric
        if metric._type == "counter":
            child.inc()
        elif metric._type == "gauge":
            child.set(1)
        elif metric._type == "histogram":
            child.observe(0.2)
    from prometheus_client import REGISTRY

    exposition = generate_latest(REGISTRY).decode()
    assert "kring_relay_peer_cursor_lag{" in exposition  # the labelled federation gauges are in it
    result = promtool_check(promtool, exposition)
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_promtool_reports_a_counter_without_total_and_a_unit_that_is_not_a_base_unit(promtool):
    broken = (
        "# HELP kring_sessions_held Sessions held\n# TYPE kring_sessions_held counter\nkring_sessions_held 3\n"
        "# HELP kring_rpc_latency_milliseconds RPC time\n# TYPE kring_rpc_latency_milliseconds gauge\n"
        "kring_rpc_latency_milliseconds 12\n"
    )
    result = promtool_check(promtool, broken)
    complaints = result.stdout + result.stderr
    assert result.returncode != 0
    assert 'kring_sessions_held counter metrics should have "_total" suffix' in complaints
    assert 'kring_rpc_latency_milliseconds use base unit "seconds" instead of "milliseconds"' in complaints


def test_a_counter_defined_without_total_is_still_exposed_with_it_so_promtool_stays_quiet(promtool):
    registry = CollectorRegistry()
    Counter("kring_things_done", "Things done", registry=registry).inc()  # prometheus_client adds _total
    result = promtool_check(promtool, generate_latest(registry).decode())
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


@pytest.mark.parametrize(("expr", "names"), [
    ('sum by (service) (rate(kring_rpc_requests_total{outcome!="ok"}[$__rate_interval]))',
     {"kring_rpc_requests_total"}),
    ("histogram_quantile(0.99, sum by (le) (rate(kring_federation_delivery_lag_seconds_bucket[10m]))) > 300",
     {"kring_federation_delivery_lag_seconds_bucket"}),
    ("time() - max by (peer) (kring_relay_peer_last_success_timestamp_seconds) > 3600",
     {"kring_relay_peer_last_success_timestamp_seconds"}),
    ("x_total unless x_total offset 1h", {"x_total"}),
    ('up{job="kring"} == 0 and on (instance) process_open_fds > 1e3', {"up", "process_open_fds"}),
])
def test_the_promql_reader_finds_the_metric_names_and_nothing_else(expr, names):
    assert metric_names(expr) == names
