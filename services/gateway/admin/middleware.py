"""Around every admin API request: correlation id, rate per token, body size limit, RED metrics, and the 500 of
last resort.

A plain ASGI middleware rather than ``BaseHTTPMiddleware``: the correlation id set here must be visible
to the endpoint (context variables flow into the worker thread FastAPI runs sync endpoints in), and the
body limit must apply while the body streams in, not after it was buffered.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.common.errors import InternalError
from services.common.logs import correlation_id
from services.gateway.admin.errors import error_content
from services.gateway.shared import observability
from services.gateway.shared.correlation import CORRELATION_HEADER, incoming_correlation_id
from services.gateway.shared.rate_limit import TokenBuckets, TooManyCalls

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024


class BodyTooLarge(StarletteHTTPException):
    """An HTTPException so FastAPI's body parsing lets it through instead of turning it into a 400."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body is larger than {limit} bytes")


@dataclass
class _Progress:
    """What the response got to: the status it started with (500 until it starts)."""

    status: int = 500
    response_started: bool = False


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, max_body_bytes: int = MAX_BODY_BYTES,
                 token_requests: TokenBuckets | None = None, unlimited: Callable[[str], bool] | None = None) -> None:
        """``token_requests``: the request rate of each bearer token on ``/v1`` (None: no limit), except for the
        tokens ``unlimited`` names (the operator's)."""
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.token_requests = token_requests
        self.unlimited = unlimited or (lambda _token: False)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", ())}
        cid = incoming_correlation_id(headers.get(CORRELATION_HEADER))
        token = correlation_id.set(cid)
        started = time.perf_counter()
        progress = _Progress()

        async def send_with_context(message: Message) -> None:
            if message["type"] == "http.response.start":
                progress.status = message["status"]
                progress.response_started = True
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (CORRELATION_HEADER.encode(), cid.encode())]
            await send(message)

        try:
            declared = _declared_length(headers.get("content-length"))
            limited = self._rate_limited(scope, headers.get("authorization"))
            if limited is not None:
                await self._send_error(send_with_context, limited.http_status, limited.code, limited.message,
                                       [(b"retry-after", str(limited.retry_after).encode())])
            elif declared is not None and declared > self.max_body_bytes:
                await self._send_error(send_with_context, 413, "payload_too_large",
                                       BodyTooLarge(self.max_body_bytes).detail)
            else:
                await self.app(scope, self._limited(receive), send_with_context)
        except Exception:  # a bug: log it in full, tell the client only that it happened
            log.exception("unhandled error in %s %s", scope.get("method"), _route_label(scope))
            if not progress.response_started:
                error = InternalError.safe()
                await self._send_error(send_with_context, 500, error.code, error.message)
        finally:
            method = observability.http_method_label(scope.get("method", ""))
            route = _route_label(scope)
            observability.HTTP_REQUESTS.labels(method=method, route=route, status=str(progress.status)).inc()
            observability.HTTP_DURATION.labels(method=method, route=route).observe(time.perf_counter() - started)
            correlation_id.reset(token)

    def _limited(self, receive: Receive) -> Receive:
        """Count body bytes as they arrive: a chunked upload has no Content-Length to check up front."""
        received = 0

        async def receive_limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise BodyTooLarge(self.max_body_bytes)
            return message

        return receive_limited

    def _rate_limited(self, scope: Scope, authorization: str | None) -> TooManyCalls | None:
        """Each bearer token spends one request of its rate on /v1; probes and the docs are not counted, a
        request without a token is refused (401) without any cost to the services, and the operator (who loads
        data in bulk, and whose token is configuration, not issued) is not limited."""
        if self.token_requests is None or not str(scope.get("path", "")).startswith("/v1/"):
            return None
        scheme, _, token = (authorization or "").strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token or self.unlimited(token):
            return None
        try:
            self.token_requests.take(token)
        except TooManyCalls as refused:
            return refused
        return None

    @staticmethod
    async def _send_error(send: Send, status: int, code: str, message: str,
                          headers: list[tuple[bytes, bytes]] | None = None) -> None:
        body = json.dumps(error_content(code, message)).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode()), *(headers or [])]})
        await send({"type": "http.response.body", "body": body})


def _declared_length(value: str | None) -> int | None:
    if value is None or not value.strip().isdigit():
        return None  # absent or malformed: the server (uvicorn) rejects malformed lengths itself
    return int(value)


def _route_label(scope: Scope) -> str:
    # The router stores the matched route in the scope; its path is the template, never the raw path.
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"
