"""The metric names the code defines, and the metric names a PromQL expression uses.

The dashboard and the alerting rules may only use names the code exposes (or ``up``, which Prometheus makes
itself): a renamed metric then fails a test instead of leaving an empty panel or a silent alert.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
from pathlib import Path

from prometheus_client import REGISTRY

# Modules whose import defines every metric a Kring process can expose.
METRIC_MODULES = ("services.common.metrics", "services.gateway.shared.observability", "services.common.domain_gauges")
PROMETHEUS_MADE = frozenset({"up"})  # series Prometheus adds to every target itself
SAMPLES = Path(__file__).resolve().parent / "samples"

# CloudNativePG's exporter: cnpg_<query>_<column> for its default monitoring queries (the operator's
# config/manager/default-monitoring.yaml: backends, pg_replication, pg_stat_archiver, pg_settings), and its
# collector's own metrics. What the database alerts and the dashboard's database row read.
CNPG_METRICS = frozenset({
    "cnpg_collector_up", "cnpg_collector_last_available_backup_timestamp",
    "cnpg_collector_last_failed_backup_timestamp", "cnpg_collector_first_recoverability_point",
    "cnpg_backends_total", "cnpg_backends_max_tx_duration_seconds",
    "cnpg_pg_replication_lag", "cnpg_pg_replication_in_recovery", "cnpg_pg_replication_streaming_replicas",
    "cnpg_pg_stat_archiver_archived_count", "cnpg_pg_stat_archiver_failed_count",
    "cnpg_pg_stat_archiver_seconds_since_last_archival", "cnpg_pg_stat_archiver_seconds_since_last_failure",
    "cnpg_pg_settings_setting",
})

SUFFIXES = {
    "counter": ("_total", "_created"),
    "gauge": ("",),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "gaugehistogram": ("_bucket", "_gcount", "_gsum"),
    "summary": ("", "_count", "_sum", "_created"),
    "info": ("_info",),
    "stateset": ("",),
    "unknown": ("",),
}

PROMQL_WORDS = frozenset({
    "by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool", "offset",
    "inf", "nan", "atan2",
})


def import_metric_modules() -> None:
    for module in METRIC_MODULES:
        importlib.import_module(module)
    for service in ("members", "networks", "sessions", "federation"):
        if importlib.util.find_spec(f"services.{service}.gauges") is not None:
            importlib.import_module(f"services.{service}.gauges")


def registered_families() -> dict[str, str]:
    """Family name -> type of every metric in prometheus_client's default registry."""
    import_metric_modules()
    return {family.name: family.type for family in REGISTRY.collect()}


def exposed_names() -> set[str]:
    """Every sample name the processes can expose (``x_total``, ``x_bucket``, ...), plus Prometheus' own."""
    names = set(PROMETHEUS_MADE)
    for family, kind in registered_families().items():
        names.update(family + suffix for suffix in SUFFIXES[kind])
    return names


def broker_names() -> set[str]:
    """The sample names in what RabbitMQ's Prometheus plugin served (tests/ops/samples/rabbitmq*.prom, taken from
    a real broker): the names the broker alerts and the dashboard's broker row may use."""
    names = set()
    for sample in SAMPLES.glob("rabbitmq*.prom"):
        names.update(re.findall(r"^(rabbitmq_\w+)[{ ]", sample.read_text(), re.MULTILINE))
    return names


def known_names() -> set[str]:
    """Every name the alerts and the dashboard may use: Kring's own, Prometheus', the broker's, the database's."""
    return exposed_names() | broker_names() | CNPG_METRICS


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects (not functions, keywords, labels or durations)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'', '""', expr)  # string literals
    text = re.sub(r"\{[^}]*\}", " ", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", " ", text)  # ranges and subqueries ([5m], [$__rate_interval])
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)  # label lists
    text = re.sub(r"\boffset\s+-?[0-9a-z]+", " ", text)
    names = set()
    for match in re.finditer(r"(?<![\w.:$])[a-zA-Z_:][a-zA-Z0-9_:]*", text):
        if text[match.end():].lstrip().startswith("("):
            continue  # a function or an aggregation
        if match.group(0).lower() in PROMQL_WORDS:
            continue
        names.add(match.group(0))
    return names


def unknown_names(expr: str, known: set[str]) -> set[str]:
    return metric_names(expr) - known
