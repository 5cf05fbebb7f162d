"""``/v1/members``: register, search, read, update, export and erase members.

Each route passes the caller and the request to the members service, which decides what the caller may do
(services/members/domain/access.py), and returns its answer. Requests are validated here with the members
service's own models (so OpenAPI shows them) and again by the service.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from services.common.vocabulary import Perspective
from services.gateway.admin.deps import Auth, Caller, Rpc
from services.gateway.admin.errors import ERROR_RESPONSES, Responses, documented_error
from services.members.schemas import (
    ErasureReceipt,
    ExpertiseTag,
    MemberExport,
    MemberId,
    MemberOut,
    MemberPage,
    NetworkId,
    Organisation,
    RegisterMember,
    UpdateMember,
)
from services.sessions.schemas.views import SessionsMemberExport

router = APIRouter(prefix="/v1/members", tags=["members"], responses=ERROR_RESPONSES)

MemberIdPath = Annotated[MemberId, Path(description="the member's id")]
NOT_FOUND: Responses = {404: documented_error("no such member")}


@router.post("", status_code=201, response_model=MemberOut, summary="Register a member",
             responses={409: documented_error("email already registered")})
def register_member(body: RegisterMember, caller: Caller, rpc: Rpc) -> dict[str, Any]:
    answer: dict[str, Any] = rpc.call("members", "register_member", caller.wire(),
                                      body.model_dump(mode="json", exclude_unset=True))
    return answer


@router.get("", response_model=MemberPage, summary="Search members",
            description="Coordinators see only members of the networks they administer.")
def search_members(
    caller: Caller,
    rpc: Rpc,
    perspective: Perspective | None = None,
    expertise: Annotated[ExpertiseTag | None, Query(description="one expertise tag")] = None,
    organisation: Organisation | None = None,
    network_id: NetworkId | None = None,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
    page_token: Annotated[str | None, Query(max_length=500)] = None,
) -> dict[str, Any]:
    query: dict[str, Any] = {"page_size": page_size}
    for key, value in (("perspective", perspective), ("expertise", expertise), ("organisation", organisation),
                       ("network_id", network_id), ("page_token", page_token)):
        if value is not None:
            query[key] = str(value.value if isinstance(value, Perspective) else value)
    answer: dict[str, Any] = rpc.call("members", "search_members", caller.wire(), query)
    return answer


@router.get("/{member_id}", response_model=MemberOut, summary="Get a member", responses=NOT_FOUND)
def get_member(member_id: MemberIdPath, caller: Caller, rpc: Rpc) -> dict[str, Any]:
    answer: dict[str, Any] = rpc.call("members", "get_member", caller.wire(), member_id)
    return answer


@router.patch("/{member_id}", response_model=MemberOut, summary="Update a member's profile or consent",
              description="Only the fields sent change. Consent fields only by the member or the operator.",
              responses={**NOT_FOUND, 409: documented_error("email already registered")})
def update_member(member_id: MemberIdPath, body: UpdateMember, caller: Caller, rpc: Rpc) -> dict[str, Any]:
    answer: dict[str, Any] = rpc.call("members", "update_member", caller.wire(), member_id,
                                      body.model_dump(mode="json", exclude_unset=True))
    return answer


class MemberDataExport(BaseModel):
    """Everything Kring holds about one person, one part per service that holds it."""

    members: MemberExport = Field(description="the profile, consents, memberships, tokens and events")
    sessions: SessionsMemberExport = Field(
        description="registrations, attendance, contributions, authorship and reflections"
    )


@router.get("/{member_id}/export", response_model=MemberDataExport, summary="Export everything held about a member",
            description="One document with what the members service and the sessions service hold.",
            responses=NOT_FOUND)
def export_member(member_id: MemberIdPath, caller: Caller, rpc: Rpc) -> dict[str, Any]:
    # first: unknown is a 404
    held_by_members: dict[str, Any] = rpc.call("members", "export_member", caller.wire(), member_id)
    return {"members": held_by_members, "sessions": rpc.call("sessions", "export_member", caller.wire(), member_id)}


@router.delete("/{member_id}", response_model=ErasureReceipt, summary="Erase a member",
               description="Personal data is removed or pseudonymised; other services follow the event.",
               responses=NOT_FOUND)
def erase_member(member_id: MemberIdPath, caller: Caller, rpc: Rpc, auth: Auth) -> dict[str, Any]:
    receipt: dict[str, Any] = rpc.call("members", "erase_member", caller.wire(), member_id)
    auth.forget_all()  # the member's tokens died with them
    return receipt
