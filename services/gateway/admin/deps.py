"""FastAPI dependencies: the RPC caller, the authenticator and the calling principal.

Everything lives on ``app.state`` (set by :func:`services.gateway.admin.app.create_app`), so tests build
the app with fakes and nothing is a module-level singleton.
"""

from __future__ import annotations

from typing import Annotated, Protocol

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.common.caller import Caller as Principal
from services.common.rpc_client import RpcCaller
from services.gateway.admin.auth import Authenticator
from services.gateway.shared import idempotency, input_guard
from services.gateway.shared.readiness import Readiness

CHANGING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

# auto_error=False: a missing token must give our 401 body (with WWW-Authenticate), not FastAPI's.
_bearer = HTTPBearer(auto_error=False, description="the operator token or a token issued to a member")


# Starlette's app.state holds anything (its attributes are untyped): each getter names what create_app put there.
def get_rpc(request: Request) -> RpcCaller:
    rpc: RpcCaller = request.app.state.rpc
    return rpc


def get_authenticator(request: Request) -> Authenticator:
    authenticator: Authenticator = request.app.state.authenticator
    return authenticator


def get_readiness(request: Request) -> Readiness:
    readiness: Readiness = request.app.state.readiness
    return readiness


def current_principal(
    authenticator: Annotated[Authenticator, Depends(get_authenticator)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    # Sync on purpose: authenticating may call the members service, which blocks a worker thread.
    return authenticator.authenticate(credentials.credentials if credentials else None)


async def checked_caller(request: Request, principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
    """The caller, once the request carries nothing a service cannot take (:mod:`services.gateway.shared.input_guard`).

    Who is asking is settled first (401 before 422). FastAPI has parsed a JSON body before dependencies run,
    and ``request.json()`` returns that parse; the route's own models validate it after this.
    """
    body = await _json_body(request)
    input_guard.raise_if(input_guard.request_violations(request.path_params, request.query_params.multi_items(),
                                                        body))
    key = request.headers.get(idempotency.HEADER)
    if key is not None and request.method in CHANGING_METHODS:
        # Set here, in the request's own task, so that the endpoint's thread sees it (a copy of this context).
        idempotency.begin(idempotency.keyed_request(principal.scope, idempotency.check_key(key), request.method,
                                                    request.url.path, sorted(request.query_params.multi_items()),
                                                    body if body is not None else (await request.body()).hex()))
    return principal


async def _json_body(request: Request) -> object:
    if "json" not in request.headers.get("content-type", "json"):
        return None
    if not await request.body():
        return None
    try:
        return await request.json()
    except ValueError:  # not JSON: FastAPI has answered already where a body is expected
        return None


Rpc = Annotated[RpcCaller, Depends(get_rpc)]
Auth = Annotated[Authenticator, Depends(get_authenticator)]
Caller = Annotated[Principal, Depends(checked_caller)]


class PartnerKeyCache(Protocol):
    def forget_partner(self, partner_id: str) -> None: ...


def partner_keys(request: Request) -> PartnerKeyCache | None:
    """The partner API's key cache, when this process serves it too (see services.gateway.main)."""
    keys: PartnerKeyCache | None = getattr(request.app.state, "partner_keys", None)
    return keys


PartnerKeys = Annotated[PartnerKeyCache | None, Depends(partner_keys)]
