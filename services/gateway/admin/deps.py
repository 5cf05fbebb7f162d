"""FastAPI dependencies: the RPC caller, the authenticator and the calling principal.

Everything lives on ``app.state`` (set by :func:`services.gateway.admin.app.create_app`), so tests build
the app with fakes and nothing is a module-level singleton.
"""

from __future__ import annotations

from typing import Annotated, Protocol

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.common.caller import Caller as Principal
from services.common.errors import PermissionDenied, Unauthenticated
from services.common.rpc_client import RpcCaller
from services.gateway.admin.auth import Authenticator, Session
from services.gateway.shared import idempotency, input_guard
from services.gateway.shared.readiness import Readiness

CHANGING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

# auto_error=False: a missing token must give our 401 body (with WWW-Authenticate), not FastAPI's.
_bearer = HTTPBearer(auto_error=False, description="the operator token or a token issued to a member; on "
                     "POST /v1/sign-in/tokens only, the sign-in broker's token")


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


def current_session(
    authenticator: Annotated[Authenticator, Depends(get_authenticator)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Session:
    # Sync on purpose: authenticating may call the members service, which blocks a worker thread.
    return authenticator.session(credentials.credentials if credentials else None)


def current_principal(session: Annotated[Session, Depends(current_session)]) -> Principal:
    return session.caller


async def checked_caller(request: Request, principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
    """The caller, once the request carries nothing a service cannot take (:mod:`services.gateway.shared.input_guard`).

    Who is asking is settled first (401 before 422). FastAPI has parsed a JSON body before dependencies run,
    and ``request.json()`` returns that parse; the route's own models validate it after this.
    """
    await _guard(request, principal.scope)
    return principal


SIGN_IN_BROKER_SCOPE = "sign-in-broker"


async def sign_in_broker(
    request: Request,
    authenticator: Annotated[Authenticator, Depends(get_authenticator)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """The sign-in exchange's only credential: the broker's token. Any other token, the operator's included, is
    refused (403) without being looked up: this route does not act for anyone who holds a token already."""
    token = credentials.credentials if credentials else None
    if not token:
        raise Unauthenticated("the sign-in broker's bearer token is required")
    if not authenticator.sign_in_enabled:
        raise PermissionDenied("sign-in is not enabled on this instance (KRING_SIGN_IN_BROKER_TOKEN is not set)")
    if not authenticator.is_broker(token):
        raise PermissionDenied("this endpoint takes only the sign-in broker's token")
    await _guard(request, SIGN_IN_BROKER_SCOPE)


async def _guard(request: Request, scope: str) -> None:
    body = await _json_body(request)
    input_guard.raise_if(input_guard.request_violations(request.path_params, request.query_params.multi_items(),
                                                        body))
    key = request.headers.get(idempotency.HEADER)
    if key is not None and request.method in CHANGING_METHODS:
        # Set here, in the request's own task, so that the endpoint's thread sees it (a copy of this context).
        idempotency.begin(idempotency.keyed_request(scope, idempotency.check_key(key), request.method,
                                                    request.url.path, sorted(request.query_params.multi_items()),
                                                    body if body is not None else (await request.body()).hex()))


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
TokenSession = Annotated[Session, Depends(current_session)]
SignInBroker = Annotated[None, Depends(sign_in_broker)]


def get_operator_emails(request: Request) -> frozenset[str]:
    emails: frozenset[str] = request.app.state.operator_emails
    return emails


OperatorEmails = Annotated[frozenset[str], Depends(get_operator_emails)]


class PartnerKeyCache(Protocol):
    def forget_partner(self, partner_id: str) -> None: ...


def partner_keys(request: Request) -> PartnerKeyCache | None:
    """The partner API's key cache, when this process serves it too (see services.gateway.main)."""
    keys: PartnerKeyCache | None = getattr(request.app.state, "partner_keys", None)
    return keys


PartnerKeys = Annotated[PartnerKeyCache | None, Depends(partner_keys)]
