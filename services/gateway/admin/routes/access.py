"""Who am I; the sign-in exchange; the management of members' API tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel, Field

from services.gateway.admin.deps import Auth, Caller, OperatorEmails, Rpc, SignInBroker, TokenSession
from services.gateway.admin.errors import ERROR_RESPONSES, documented_error
from services.members.schemas import IssueToken, SignedIn, SignIn, SignInRequest, TokenIssued

router = APIRouter(prefix="/v1", tags=["access"], responses=ERROR_RESPONSES)


class WhoAmI(BaseModel):
    operator: bool = Field(description="true for the operator token from configuration, and for a token an "
                                       "operator's sign-in gave")
    member_id: str | None = Field(description="the member the token was issued to; null for the operator token "
                                              "from configuration")
    administers: list[str] = Field(description="networks this caller coordinates")
    facilitates: list[str] = Field(description="networks this caller facilitates")
    member_of: list[str] = Field(description="every network this caller belongs to, in any role")
    token_id: str | None = Field(description="the token's id (revoke it with DELETE /v1/tokens/{token_id}); "
                                             "null for the operator token from configuration")
    expires_at: datetime | None = Field(description="when the token stops working; null: until revoked")


@router.get("/whoami", response_model=WhoAmI, summary="The principal behind the bearer token")
def whoami(caller: Caller, session: TokenSession) -> WhoAmI:
    return WhoAmI(operator=caller.operator, member_id=caller.member_id, administers=sorted(caller.administers),
                  facilitates=sorted(caller.facilitates), member_of=sorted(caller.member_of),
                  token_id=session.token_id, expires_at=session.expires_at)


@router.post("/sign-in/tokens", status_code=201, response_model=SignedIn,
             summary="Exchange a verified sign-in for a member's short-lived token",
             description="For the sign-in broker (the console) only, with its own token "
                         "(`KRING_SIGN_IN_BROKER_TOKEN`), after it verified the person's e-mail address (OpenID "
                         "Connect). Issues a token for the active member with that address (compared without "
                         "case), expiring after `ttl_seconds` (60 to 43200, default 28800). When the address is "
                         "in `KRING_OPERATOR_EMAILS`, the token carries the operator's authority (`operator`: "
                         "true). The token is in this response only; Kring stores its hash. Revoke it at sign-out "
                         "with `DELETE /v1/tokens/{token_id}`, with the token itself.",
             responses={403: documented_error("not the sign-in broker's token, or sign-in is not enabled"),
                        404: documented_error("no active member has this e-mail address: the violation names field "
                                                      "`email`, rule `active_member`")})
def sign_in(body: SignInRequest, broker: SignInBroker, rpc: Rpc, operator_emails: OperatorEmails,
            response: Response) -> dict[str, Any]:
    response.headers["Cache-Control"] = "no-store"  # a plaintext secret must not sit in a proxy cache
    # The gateway decides the operator's authority from its configuration; the members service only records it.
    request = SignIn(email=body.email, ttl_seconds=body.ttl_seconds, operator=body.email in operator_emails)
    answer: dict[str, Any] = rpc.call("members", "sign_in", request.model_dump(mode="json"))
    return answer


@router.post("/members/{member_id}/tokens", status_code=201, response_model=TokenIssued, tags=["members"],
             summary="Issue an API token to a member",
             description="The token is in this response only; Kring stores its hash. With `ttl_seconds` it "
                         "expires; without, it works until revoked.",
             responses={404: documented_error("no such member")})
def issue_token(member_id: Annotated[str, Path(min_length=1, max_length=64)], body: IssueToken, caller: Caller,
                rpc: Rpc, response: Response) -> dict[str, Any]:
    response.headers["Cache-Control"] = "no-store"  # a plaintext secret must not sit in a proxy cache
    answer: dict[str, Any] = rpc.call("members", "issue_token", caller.wire(), member_id, body.model_dump(mode="json"))
    return answer


@router.delete("/tokens/{token_id}", status_code=204, response_class=Response, summary="Revoke a token",
               description="A member revokes their own tokens (signing out); the operator anyone's.",
               responses={403: documented_error("another member's token, and you are not the operator"),
                          404: documented_error("no such token")})
def revoke_token(token_id: Annotated[str, Path(min_length=1, max_length=64)], caller: Caller, rpc: Rpc,
                 auth: Auth) -> Response:
    rpc.call("members", "revoke_token", caller.wire(), token_id)
    # Stop honouring it here at once, not after the cache's lifetime: a member's own token is theirs alone.
    if caller.is_member and caller.member_id is not None:
        auth.forget_member(caller.member_id)
    else:
        auth.forget_all()
    return Response(status_code=204)
