"""Who am I, and the operator's management of members' API tokens."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel, Field

from services.gateway.admin.deps import Auth, Caller, Rpc
from services.gateway.admin.errors import ERROR_RESPONSES, documented_error
from services.members.schemas import IssueToken, TokenIssued

router = APIRouter(prefix="/v1", tags=["access"], responses=ERROR_RESPONSES)

class WhoAmI(BaseModel):
    operator: bool = Field(description="true for the operator token from configuration")
    member_id: str | None = Field(description="the member the token was issued to; null for the operator")
    administers: list[str] = Field(description="networks this caller coordinates")
    facilitates: list[str] = Field(description="networks this caller facilitates")


@router.get("/whoami", response_model=WhoAmI, summary="The principal behind the bearer token")
def whoami(caller: Caller) -> WhoAmI:
    return WhoAmI(operator=caller.operator, member_id=caller.member_id, administers=sorted(caller.administers),
                  facilitates=sorted(caller.facilitates))


@router.post("/members/{member_id}/tokens", status_code=201, response_model=TokenIssued, tags=["members"],
             summary="Issue an API token to a member",
             description="The token is in this response only; Kring stores its hash.",
             responses={404: documented_error("no such member")})
def issue_token(member_id: Annotated[str, Path(min_length=1, max_length=64)], body: IssueToken, caller: Caller,
                rpc: Rpc, response: Response) -> dict[str, Any]:
    response.headers["Cache-Control"] = "no-store"  # a plaintext secret must not sit in a proxy cache
    answer: dict[str, Any] = rpc.call("members", "issue_token", caller.wire(), member_id, body.model_dump(mode="json"))
    return answer


@router.delete("/tokens/{token_id}", status_code=204, response_class=Response, summary="Revoke a token",
               responses={404: documented_error("no such token")})
def revoke_token(token_id: Annotated[str, Path(min_length=1, max_length=64)], caller: Caller, rpc: Rpc,
                 auth: Auth) -> Response:
    rpc.call("members", "revoke_token", caller.wire(), token_id)
    auth.forget_all()  # stop honouring it here at once, not after the cache's lifetime
    return Response(status_code=204)
