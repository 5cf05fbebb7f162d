"""A stand-in for the admin API in the console's unit tests: canned answers per route, every call recorded.

The console's claim in these tests is about the console (what it draws, what it sends, how it handles each
answer); the admin API itself is tested in its own layers and, with the console, in tests/browser.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi.testclient import TestClient

from services.console.app import create_app
from services.console.settings import ConsoleSettings

Answer = tuple[int, Any]  # status and JSON body (None: no body)
Handler = Callable[[httpx.Request], Answer]

BROKER = "broker-secret"
TOKEN = "member-token"


@dataclass
class Call:
    method: str
    path: str
    token: str | None
    body: Any
    headers: httpx.Headers
    params: dict[str, str] = field(default_factory=dict)  # the query string
    raw_path: str = ""  # the path as sent, still quoted (``path`` is decoded, as the API's router sees it)


@dataclass
class FakeAdminApi:
    routes: dict[tuple[str, str], Handler | Answer] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)

    def on(self, method: str, pattern: str, answer: Handler | Answer) -> None:
        """Answer ``method`` on paths matching ``pattern`` (a regular expression, whole path) with ``answer``."""
        self.routes[(method, pattern)] = answer

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        auth = request.headers.get("authorization", "")
        self.calls.append(Call(request.method, request.url.path, auth.removeprefix("Bearer ") or None, body,
                               request.headers, dict(request.url.params),
                               request.url.raw_path.decode("ascii").partition("?")[0]))
        for (method, pattern), answer in reversed(list(self.routes.items())):
            if method == request.method and re.fullmatch(pattern, request.url.path):
                status, payload = answer(request) if callable(answer) else answer
                return httpx.Response(status, json=payload) if payload is not None else httpx.Response(status)
        return httpx.Response(404, json={"error": {"code": "not_found", "message": "no such route in the fake",
                                                   "violations": []}})

    def called(self, method: str, path: str) -> list[Call]:
        return [call for call in self.calls if call.method == method and call.path == path]


def api_error(status: int, code: str, message: str, violations: list[dict[str, str]] | None = None) -> Answer:
    return status, {"error": {"code": code, "message": message, "violations": violations or []}}


def console(api: FakeAdminApi, **settings: Any) -> TestClient:
    values: dict[str, Any] = {"console_dev_sign_in": True, "sign_in_broker_token": BROKER, **settings}
    app = create_app(ConsoleSettings(**values), api_transport=httpx.MockTransport(api))
    return TestClient(app, follow_redirects=False)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def a_member_api(member_id: str = "m-1", name: str = "Anouk de Vries", *, administers: tuple[str, ...] = (),
                 facilitates: tuple[str, ...] = (), member_of: tuple[str, ...] = ()) -> FakeAdminApi:
    """An API where the broker's exchange signs in one member, with whoami and their record."""
    api = FakeAdminApi()
    api.on("POST", "/v1/sign-in/tokens", (201, {"token": TOKEN, "token_id": "tok-1", "member_id": member_id,
                                                 "expires_at": "2999-01-01T00:00:00Z", "operator": False}))
    api.on("GET", f"/v1/members/{member_id}", (200, {"id": member_id, "name": name}))
    api.on("GET", "/v1/whoami", (200, {"operator": False, "member_id": member_id, "administers": list(administers),
                                       "facilitates": list(facilitates),
                                       "member_of": sorted({*member_of, *administers, *facilitates})}))
    api.on("DELETE", "/v1/tokens/tok-1", (204, None))
    api.on("GET", r"/v1/networks/[^/]+/sessions", (200, {"items": [], "next_page_token": None}))  # the start page
    return api


def signed_in(client: TestClient, email: str = "anouk.devries@movisie.example") -> TestClient:
    """Sign in through the development sign-in (the exchange answered by the fake)."""
    page = client.get("/sign-in")
    answer = client.post("/sign-in/dev", data={"csrf": csrf_of(page.text), "email": email, "next": "/"})
    assert answer.status_code == 303, answer.text
    return client
