"""What the gateway says about itself: its counters of answers by gRPC status and HTTP status.

A test snapshots them before and after its calls: a call that ended INTERNAL or UNKNOWN (or an HTTP 5xx) is
counted there even when the client saw something else (a deadline, a cancelled stream).
"""

from __future__ import annotations

from collections import Counter

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.support.stack import Stack

BROKEN_CODES = frozenset({"INTERNAL", "UNKNOWN"})


def answers(stack: Stack) -> Counter[tuple[str, str, str]]:
    """(edge, method or route, code or status) -> how many calls the gateway answered so."""
    text = httpx.get(stack.metrics_url("gateway"), timeout=10).text
    counted: Counter[tuple[str, str, str]] = Counter()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "kring_grpc_requests_total":
                counted["grpc", sample.labels["method"], sample.labels["code"]] += int(sample.value)
            elif sample.name == "kring_http_requests_total":
                counted["http", f"{sample.labels['method']} {sample.labels['route']}",
                        sample.labels["status"]] += int(sample.value)
    return counted


def broken_since(before: Counter[tuple[str, str, str]], stack: Stack) -> dict[tuple[str, str, str], int]:
    """Calls answered INTERNAL or UNKNOWN, or with an HTTP 5xx, since ``before``."""
    return broken(before, answers(stack))


def broken(before: Counter[tuple[str, str, str]], after: Counter[tuple[str, str, str]]) -> dict[tuple[str, str, str],
                                                                                                 int]:
    return {key: after[key] - before[key] for key in after
            if after[key] > before[key] and (key[2] in BROKEN_CODES or key[2].startswith("5"))}
