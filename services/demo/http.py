"""The admin API as the demo loader uses it: a client, expected statuses, and paging."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx


class DemoDataError(RuntimeError):
    """The admin API answered something the demo loader cannot work with."""


CHANGING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
RETRY_PAUSES = (0.5, 1.0, 2.0, 4.0)  # seconds before each retry of a request the stack could not take
RETRIED_STATUSES = frozenset({429, 503})


class RetryingTransport(httpx.BaseTransport):
    """Sends every request that changes something with an ``Idempotency-Key`` of its own, and sends it again with
    the same key when the stack answers 503 or 429 or the connection fails: a retry of a request that got through
    after all is answered as the first attempt was, and applied once."""

    def __init__(self, inner: httpx.BaseTransport | None = None,
                 pause: Callable[[float], None] = time.sleep) -> None:
        self.inner = inner or httpx.HTTPTransport()
        self.pause = pause

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method in CHANGING_METHODS and "idempotency-key" not in request.headers:
            request.headers["Idempotency-Key"] = str(uuid.uuid4())
        request.read()  # the body is sent again on a retry
        for pause in RETRY_PAUSES:
            try:
                response = self.inner.handle_request(request)
            except httpx.TransportError:
                self.pause(pause)
                continue
            if response.status_code not in RETRIED_STATUSES:
                return response
            response.close()
            self.pause(pause)
        return self.inner.handle_request(request)  # the last attempt, whatever it answers

    def close(self) -> None:
        self.inner.close()


def admin_client(base_url: str, token: str, timeout: float = 15.0,
                 transport: httpx.BaseTransport | None = None) -> httpx.Client:
    return httpx.Client(base_url=base_url.rstrip("/"), headers={"Authorization": f"Bearer {token}"},
                        timeout=timeout, transport=RetryingTransport(transport))


def expect(response: httpx.Response, what: str, *statuses: int) -> Any:
    if response.status_code not in statuses:
        raise DemoDataError(f"{what}: {response.request.method} {response.request.url.path} answered "
                            f"{response.status_code}: {response.text[:500]}")
    return response.json() if response.content else {}


def all_pages(client: httpx.Client, path: str, query: dict[str, str],
              page_size: int = 100) -> Iterator[dict[str, Any]]:
    params: dict[str, str | int] = {**query, "page_size": page_size}
    while True:
        page = expect(client.get(path, params=params), f"list {path}", 200)
        yield from page["items"]
        if not page.get("next_page_token"):
            return
        params["page_token"] = page["next_page_token"]
