"""Reading the admin API's answers in tests that drive it over HTTP (e2e, security, faults)."""

from __future__ import annotations

from typing import Any

import httpx


def ok(response: httpx.Response, *status: int) -> Any:
    """The JSON body of an answer with one of ``status`` (by default 200 or 201); None when it has no body.

    Any other status fails the test with the request and the answer, so a failed step names itself.
    """
    expected = status or (200, 201)
    assert response.status_code in expected, \
        f"{response.request.method} {response.request.url}: {response.status_code} {response.text[:500]}"
    return response.json() if response.content else None


def error(response: httpx.Response) -> tuple[int, str, set[tuple[str, str]]]:
    """An error answer as (status, code, {(field, rule)}): the parts of the uniform error body a test checks."""
    body = response.json()["error"]
    return response.status_code, body["code"], {(v["field"], v["rule"]) for v in body["violations"]}
