"""FastAPI dependencies: the RPC caller, the authenticator and the calling principal.

Everything lives on ``app.state`` (set by :func:`services.gateway.admin_api.create_app`), so tests build
the app with fakes and nothing is a module-level singleton.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.gateway.auth import Authenticator
from services.gateway.policy import Principal
from services.gateway.readiness import Readiness
from services.gateway.rpc_pool import RpcCaller

# auto_error=False: a missing token must give our 401 body (with WWW-Authenticate), not FastAPI's.
_bearer = HTTPBearer(auto_error=False, description="the operator token or a token issued to a member")


def get_rpc(request: Request) -> RpcCaller:
    return request.app.state.rpc


def get_authenticator(request: Request) -> Authenticator:
    return request.app.state.authenticator


def get_readiness(request: Request) -> Readiness:
    return request.app.state.readiness


def current_principal(
    authenticator: Annotated[Authenticator, Depends(get_authenticator)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    # Sync on purpose: authenticating may call the members service, which blocks a worker thread.
    return authenticator.authenticate(credentials.credentials if credentials else None)


Rpc = Annotated[RpcCaller, Depends(get_rpc)]
Auth = Annotated[Authenticator, Depends(get_authenticator)]
Caller = Annotated[Principal, Depends(current_principal)]
