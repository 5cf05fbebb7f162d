"""The Grafana dashboard (deploy/grafana/kring-dashboard.json) is built on the metric names the code defines,
and has a panel for everything an operator watches."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest

from tests.ops.metric_names import known_names, metric_names

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "deploy" / "grafana" / "kring-dashboard.json"

# Panel titles an operator relies on (issue 6): the test fails when one goes missing.
REQUIRED_PANELS = {
    "HTTP requests by route", "HTTP errors by route and status", "HTTP latency p50 / p99 by route",
    "gRPC calls by method", "gRPC errors by method and code", "gRPC latency p50 / p99 by method",
    "RPC calls by service and method", "RPC errors by type", "RPC latency p50 / p99 by method",
    "Events published", "Events consumed by outcome", "Events failed and redelivered",
    "Outbox pending", "Outbox oldest pending age", "Dead letters",
    "Federation delivery lag p50 / p99", "Relay peer connected", "Relay cursor lag by peer", "Open partner streams",
    "Active networks by level and kind", "Active members by perspective",
    "Sessions held in the last 30 days by format", "Outputs shared beyond their network",
    "Processes up",
    # the broker and the database (issue 15)
    "Dead-letter queue depth", "Event queue depth by queue", "Unacknowledged messages by queue",
    "Consumers per queue", "Broker connections", "Database connections by state", "Replication lag by instance",
    "WAL archiving: time since last archival",
}
# Every replica reports these from the same database: summing them over replicas would double count.
REPLICATED_GAUGES = re.compile(r"kring_(outbox_pending_events|outbox_oldest_pending_age_seconds|networks_active|"
                               r"members_active|sessions_held_last_month|outputs_shared_beyond_network|"
                               r"domain_gauges_last_success_timestamp_seconds)\b")


def load() -> dict:
    return json.loads(DASHBOARD.read_text())


def panels(dashboard: dict) -> list[dict]:
    found = []
    for panel in dashboard["panels"]:
        found.append(panel)
        found.extend(panel.get("panels", []))  # panels inside collapsed rows
    return found


def rows(dashboard: dict) -> dict[str, list[dict]]:
    """The panels under each row, in the order they appear on the grid (top to bottom, left to right)."""
    found: dict[str, list[dict]] = {}
    current = None
    for panel in sorted(dashboard["panels"], key=lambda p: (p["gridPos"]["y"], p["gridPos"]["x"])):
        if panel["type"] == "row":
            current = panel["title"]
            found[current] = list(panel.get("panels", []))
        elif current is not None:
            found[current].append(panel)
    return found


def problems(dashboard: dict) -> list[str]:
    known = known_names()
    found = []
    ids = [p["id"] for p in panels(dashboard)]
    if len(ids) != len(set(ids)):
        found.append("panel ids are not unique")
    for panel in panels(dashboard):
        if panel["type"] == "row":
            continue
        title = panel.get("title", "?")
        if not panel.get("targets"):
            found.append(f"{title}: no query")
        for target in panel.get("targets", []):
            expr = target.get("expr", "")
            for name in sorted(metric_names(expr) - known):
                found.append(f"{title}: {name} is not a metric the code defines")
            if target.get("datasource", panel.get("datasource", {})).get("uid") != "${datasource}":
                found.append(f"{title}: query does not use the ${{datasource}} variable")
            if REPLICATED_GAUGES.search(expr) and not re.search(r"\bmax\b", expr):
                found.append(f"{title}: aggregate replicated gauges with max(), not sum(): {expr}")
    broker_row = [p.get("title") for p in rows(dashboard).get("Broker (RabbitMQ)", [])]
    if broker_row and broker_row[0] != "Dead-letter queue depth":
        found.append(f"the broker row starts with {broker_row[0]!r}: the dead-letter queue comes first")
    missing = REQUIRED_PANELS - {p.get("title") for p in panels(dashboard)}
    found.extend(f"missing panel: {title}" for title in sorted(missing))
    return found


def test_every_panel_query_uses_only_metrics_the_code_defines_and_every_required_panel_is_there():
    assert problems(load()) == []


def test_every_panel_has_a_place_on_the_grid_and_the_dashboard_a_prometheus_datasource_variable():
    dashboard = load()
    assert {"uid", "title", "panels", "templating", "schemaVersion"} <= dashboard.keys()
    assert [v["name"] for v in dashboard["templating"]["list"]] == ["datasource"]
    for panel in panels(dashboard):
        assert {"h", "w", "x", "y"} <= panel["gridPos"].keys(), panel["title"]
        assert panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24, panel["title"]


@pytest.mark.parametrize(("mutate", "expected"), [
    (lambda expr: expr.replace("kring_outbox_pending_events", "kring_outbox_pending"),
     "kring_outbox_pending is not a metric the code defines"),
    (lambda expr: expr.replace("kring_relay_peer_cursor_lag", "kring_relay_cursor_lag"),
     "kring_relay_cursor_lag is not a metric the code defines"),
    (lambda expr: expr.replace("max by (service) (kring_outbox_pending_events)",
                               "sum by (service) (kring_outbox_pending_events)"),
     "aggregate replicated gauges with max()"),
])
def test_a_renamed_metric_or_a_summed_replicated_gauge_in_a_panel_is_reported(mutate, expected):
    dashboard = copy.deepcopy(load())
    for panel in panels(dashboard):
        for target in panel.get("targets", []):
            target["expr"] = mutate(target["expr"])
    assert any(expected in problem for problem in problems(dashboard)), problems(dashboard)


def test_a_missing_panel_is_reported():
    dashboard = copy.deepcopy(load())
    dashboard["panels"] = [p for p in dashboard["panels"] if p.get("title") != "Relay cursor lag by peer"]
    assert "missing panel: Relay cursor lag by peer" in problems(dashboard)


def test_a_broker_row_that_does_not_start_with_the_dead_letter_queue_is_reported():
    dashboard = copy.deepcopy(load())
    first = next(p for p in dashboard["panels"] if p.get("title") == "Dead-letter queue depth")
    second = next(p for p in dashboard["panels"] if p.get("title") == "Event queue depth by queue")
    first["gridPos"]["x"], second["gridPos"]["x"] = second["gridPos"]["x"], first["gridPos"]["x"]
    assert "the broker row starts with 'Event queue depth by queue': the dead-letter queue comes first" in problems(
        dashboard)
