"""Schemathesis against an OpenAPI document: generated requests for one operation, every answer checked.

Kept apart from the test so that tests/security/test_checks_can_fail.py can point the same function at a tiny
app that breaks its own document, and see it report the breakage.

For each operation it draws ``examples`` requests from four sources: valid (positive) and invalid (negative)
data, each with generated path ids (mostly unknown: 404s) and with the real ids given in ``ids`` (so the
request reaches the services). Every answer must pass the checks: no 5xx, a status code the document lists
for the operation, a body that matches the document's schema for that status, and its content type. Failures
are collected, not raised, so one run reports every distinct one (with a curl command to reproduce it).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance, content_type_conformance]
# `make test` sends this many requests per operation, the same ones every run; KRING_SCHEMATHESIS_EXAMPLES=200
# (or more) explores further, with a new random seed each run.
BOUNDED_EXAMPLES = 25
LONG_RUN = "KRING_SCHEMATHESIS_EXAMPLES"


def examples_per_operation() -> tuple[int, bool]:
    """(examples, derandomize): bounded and repeatable unless the long run is asked for."""
    asked = os.environ.get(LONG_RUN, "").strip()
    if not asked:
        return BOUNDED_EXAMPLES, True
    if not asked.isdigit() or int(asked) < 1:
        raise ValueError(f"{LONG_RUN} must be a positive number of examples, got {asked!r}")
    return int(asked), False


def case_strategy(operation: Any, ids: Mapping[str, str]) -> st.SearchStrategy:
    names = [parameter.name for parameter in operation.path_parameters]
    strategies = [operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE)]
    if names and all(name in ids for name in names):
        real = {name: ids[name] for name in names}
        strategies += [operation.as_strategy(GenerationMode.POSITIVE, path_parameters=real),
                       operation.as_strategy(GenerationMode.NEGATIVE, path_parameters=real)]
    return st.one_of(strategies)


def fuzz(operation: Any, *, examples: int, derandomize: bool = True, headers: Mapping[str, str] | None = None,
         ids: Mapping[str, str] | None = None, adjust: Callable[[Any], None] | None = None,
         call: Callable[[Any], Any] | None = None) -> tuple[list[str], int]:
    """Distinct failures found for ``operation``, and how many requests were sent.

    ``adjust(case)`` may change a drawn case before it is sent; ``call(case)`` sends it (default: over HTTP to the
    schema's base URL, or to the ASGI app a schema was loaded from).
    """
    failures: dict[str, str] = {}
    sent = 0
    send = call or (lambda case: case.call(headers=dict(headers or {}), timeout=30))

    @settings(max_examples=examples, derandomize=derandomize, deadline=None, database=None, print_blob=False,
              suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
    @given(case=case_strategy(operation, ids or {}))
    def run(case: Any) -> None:
        nonlocal sent
        if adjust is not None:
            adjust(case)
        _drop_framing_headers(case)
        response = send(case)
        sent += 1
        try:
            case.validate_response(response, checks=CHECKS, headers=dict(headers or {}))
        except (AssertionError, BaseExceptionGroup) as found:
            titles = sorted({getattr(f, "title", type(f).__name__) for f in _failures_of(found)})
            key = f"{response.status_code} {'; '.join(titles)}"
            if key not in failures:
                failures[key] = f"{operation.label}: {key}\n    {_first_line(found)}\n    " \
                                f"{case.as_curl_command(headers={'Authorization': '[operator token]'})}"

    run()
    return list(failures.values()), sent


# Headers that frame the HTTP message itself. A malformed one (a Content-Length that is not a number) is refused by
# the HTTP server with 400 before the request is a request at all, as RFC 9112 requires; README "Errors" says so.
# Negative generation draws such headers now and then: they say nothing about the admin API.
FRAMING_HEADERS = frozenset({"content-length", "transfer-encoding", "host"})


def _drop_framing_headers(case: Any) -> None:
    if case.headers:
        for name in [n for n in case.headers if n.lower() in FRAMING_HEADERS]:
            del case.headers[name]


def _failures_of(found: BaseException) -> list[BaseException]:
    return list(found.exceptions) if isinstance(found, BaseExceptionGroup) else [found]


def _first_line(found: BaseException) -> str:
    text = "; ".join(str(getattr(f, "message", f)).strip().replace("\n", " ")[:300] for f in _failures_of(found))
    return text[:600]
