"""The admin API: FastAPI app for network coordinators, members and the operator.

Built by :func:`create_app` from its collaborators, so tests pass fakes and the process entry point
(:mod:`services.gateway.main`) passes the real RPC pool.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI

from services.common import tracing
from services.common.config import Settings
from services.common.rpc_client import RpcCaller
from services.gateway.admin.auth import Authenticator
from services.gateway.admin.deps import CHANGING_METHODS
from services.gateway.admin.errors import install_error_handlers
from services.gateway.admin.middleware import MAX_BODY_BYTES, RequestContextMiddleware
from services.gateway.admin.routes import (
    access,
    audit,
    expertise,
    federation,
    health,
    loops,
    members,
    memberships,
    networks,
    outputs,
    peers,
    questions,
    sessions,
)
from services.gateway.shared import idempotency
from services.gateway.shared.rate_limit import Limit, TokenBuckets
from services.gateway.shared.readiness import Readiness
from services.gateway.shared.version import kring_version

DESCRIPTION = """
Admin API of Kring, the backbone of a federation of learning networks.

Authenticate with `Authorization: Bearer <token>`: the operator's token, or a token issued to a member (by the
operator, or by a sign-in: the sign-in broker exchanges a verified e-mail address at `POST /v1/sign-in/tokens`,
the one route its own token opens). A token may expire (`expires_at` in `GET /v1/whoami`); a member revokes their
own at sign-out. A member's token reaches their own record; a coordinator's also the members of the networks they
administer, a facilitator's (to read) those of the networks they facilitate.

Who may do what: the operator may do everything. A network's coordinators administer it (its members,
settings, child networks, links); its coordinators and facilitators run its sessions (schedule, hold, close,
cancel, registrations, attendance, outputs) and read its health and learning reports. Members register
themselves for sessions of the networks they belong to (and read their own registration: a seat or a place on
the waitlist) and record their own reflections and learning questions
(seen by them and their network's coordinators and facilitators, and by the network's other members only if
they share them). The network
directory, sessions and shared outputs are readable by every authenticated caller; meeting links, and outputs
kept within a network, only by the people inside it. Outside a network, an author who did not consent to be
named appears as their perspective ("a participant with lived experience").

Every error has the shape `{"error": {"code", "message", "violations": [{"field", "rule", "message"}]}}`.
Each member's token may make a limited number of requests per second (429 with `Retry-After` beyond it);
request bodies are limited to 1 MiB (413).
Send `X-Correlation-ID` to trace a request through the services; every response echoes it.

Send `Idempotency-Key` with a request that changes something, and retry it with the same key after a timeout,
a 503 or a lost connection: you get the first answer, and the request is never applied twice.
"""

# Each module holds one resource's routes and its own APIRouter; a new resource is one module added here.
ROUTERS = (health, access, members, expertise, questions, networks, memberships, sessions, outputs, loops, federation,
           peers, audit)


def create_app(settings: Settings, rpc: RpcCaller, *, services: Sequence[str] = (),
               authenticator: Authenticator | None = None, readiness: Readiness | None = None,
               max_body_bytes: int = MAX_BODY_BYTES, token_limit: Limit | None = None) -> FastAPI:
    """``token_limit``: requests per bearer token on /v1 (:mod:`services.gateway.shared.rate_limit`); None: no limit."""
    app = FastAPI(title="Kring admin API", version=kring_version(), description=DESCRIPTION,
                  openapi_url="/openapi.json", docs_url="/docs", redoc_url=None)
    app.state.rpc = rpc
    broker = settings.sign_in_broker_token.get_secret_value() if settings.sign_in_broker_token else None
    app.state.authenticator = authenticator or Authenticator(settings.operator_token, rpc, broker_token=broker or None)
    app.state.operator_emails = settings.operator_email_set
    app.state.readiness = readiness or Readiness(settings.amqp_uri, rpc, services)
    install_error_handlers(app)
    token_requests = TokenBuckets(token_limit, what="requests") if token_limit is not None else None
    app.add_middleware(RequestContextMiddleware, max_body_bytes=max_body_bytes, token_requests=token_requests,
                       unlimited=app.state.authenticator.is_operator)
    for module in ROUTERS:
        app.include_router(module.router)
    _document_idempotency_key(app)
    tracing.instrument_fastapi(app)  # a span per request, continuing its traceparent; nothing when off
    return app


def _document_idempotency_key(app: FastAPI) -> None:
    """Every /v1 operation that changes something takes ``Idempotency-Key`` (read by :mod:`.deps`, not a route)."""
    make_schema = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = make_schema()
        for path, operations in schema["paths"].items():
            for method, operation in operations.items():
                if path.startswith("/v1/") and method.upper() in CHANGING_METHODS:
                    operation.setdefault("parameters", []).append(IDEMPOTENCY_KEY_PARAMETER)
                    responses = operation["responses"]
                    error_content = responses["422"]["content"]  # every /v1 route documents the error shape
                    conflict = responses.setdefault("409", {"description": "", "content": error_content})
                    conflict["description"] = " ".join(filter(None, (conflict["description"], KEY_CONFLICT)))
        return schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to extend its OpenAPI document


KEY_CONFLICT = ("(`Idempotency-Key`) the key was used before for another request (`same_request_for_same_key`), "
                "or for a request whose answer was shown once (`shown_once`)")
IDEMPOTENCY_KEY_PARAMETER = {
    "name": idempotency.HEADER, "in": "header", "required": False,
    "description": "Optional: your own unique key for this request (1 to 255 visible ASCII characters, a UUID "
                   "will do). Sending the request again with the same key gives the first answer and changes "
                   "nothing more, for 24 hours (KRING_COMMAND_RETENTION_HOURS); the same key with another "
                   "request is 409. Keys are yours alone: another caller's same key is another request.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
}
