"""``/v1/networks/{network_id}/members``: who belongs to a network, and in which role.

PUT because setting a member's role in a network is idempotent: sending the same role again changes nothing.
The members service asks the networks service whether the network exists and is active before it admits
anyone, so an unknown network is a 404 and an archived one a 409.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Response

from services.gateway.admin.deps import Auth, Caller, Rpc
from services.gateway.admin.errors import ERROR_RESPONSES, documented_error
from services.members.schemas import JoinNetwork, MemberId, MembershipOut, NetworkId

router = APIRouter(prefix="/v1/networks", tags=["memberships"], responses=ERROR_RESPONSES)

NetworkIdPath = Annotated[NetworkId, Path(description="the network's id")]
MemberIdPath = Annotated[MemberId, Path(description="the member's id")]


@router.put("/{network_id}/members/{member_id}", response_model=MembershipOut,
            summary="Add a member to a network, or change their role",
            responses={404: documented_error("no such member or network"),
                       409: documented_error("the network is archived")})
def set_membership(network_id: NetworkIdPath, member_id: MemberIdPath, body: JoinNetwork, caller: Caller,
                   rpc: Rpc, auth: Auth) -> dict[str, Any]:
    membership: dict[str, Any] = rpc.call("members", "join_network", caller.wire(), member_id, network_id,
                                          body.model_dump(mode="json"))
    auth.forget_all()  # a new coordinator's cached scope is stale now
    return membership


@router.delete("/{network_id}/members/{member_id}", status_code=204, response_class=Response,
               summary="Remove a member from a network (or leave it yourself)",
               responses={404: documented_error("no such member or membership")})
def remove_membership(network_id: NetworkIdPath, member_id: MemberIdPath, caller: Caller, rpc: Rpc,
                      auth: Auth) -> Response:
    rpc.call("members", "leave_network", caller.wire(), member_id, network_id)
    auth.forget_all()
    return Response(status_code=204)
