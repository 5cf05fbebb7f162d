"""RED metrics of the gateway's edges (its calls into the services: services/common/metrics.py).

Labels are bounded: the route template (``/v1/members/{member_id}``, never the raw path), the gRPC
method name of a registered service, the status. Unmatched paths share the label ``unmatched``.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import Counter, Histogram

from services.common.metrics import start_at_zero

# An edge request includes one or more RPC hops; give the histogram room above the RPC timeout.
EDGE_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

HTTP_REQUESTS = Counter(
    "kring_http_requests_total", "Admin API requests, by route template and status",
    ["method", "route", "status"],
)
HTTP_DURATION = Histogram(
    "kring_http_request_duration_seconds", "Admin API request time", ["method", "route"], buckets=EDGE_BUCKETS
)
GRPC_REQUESTS = Counter(
    "kring_grpc_requests_total", "gRPC calls handled, by full method name and status code", ["method", "code"]
)
GRPC_DURATION = Histogram(
    "kring_grpc_request_duration_seconds", "gRPC call time", ["method"], buckets=EDGE_BUCKETS
)


# The codes the partner API answers with: OK, its typed errors' (services/common/errors.py), and the edge's own.
GRPC_CODES = ("OK", "INVALID_ARGUMENT", "UNAUTHENTICATED", "PERMISSION_DENIED", "NOT_FOUND", "ALREADY_EXISTS",
              "FAILED_PRECONDITION", "RESOURCE_EXHAUSTED", "UNAVAILABLE", "DEADLINE_EXCEEDED", "CANCELLED",
              "INTERNAL")


def start_grpc_methods(methods: Iterable[str]) -> None:
    """Each method's calls by code at 0 from the start, so rate() sees the first error (metrics.start_at_zero)."""
    start_at_zero(GRPC_REQUESTS, [{"method": method, "code": code} for method in methods for code in GRPC_CODES])


def http_method_label(method: str) -> str:
    return method if method in HTTP_METHODS else "OTHER"
