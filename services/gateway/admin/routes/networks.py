"""``/v1/networks``: the network directory, the hierarchy, and each network's health report.

Each route passes the caller and the request to the networks service, which decides what the caller may do
(services/networks/domain/access.py), and returns its answer. Bodies are validated here with the networks
service's own models (so OpenAPI shows them) and again by the service, which owns the hierarchy rules (a
child's level below its parent's, no cycles, no archiving a network with active children). Memberships
(``/v1/networks/{network_id}/members``) are in :mod:`.memberships`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Response

from services.common.i18n import negotiate
from services.common.vocabulary import NetworkKind, NetworkLevel, NetworkStatus
from services.gateway.admin.deps import Auth, Caller, Rpc
from services.gateway.admin.errors import ERROR_RESPONSES, Responses, documented_error
from services.networks.schemas import (
    CreateNetwork,
    HealthReport,
    NetworkId,
    NetworkNode,
    NetworkOut,
    NetworkPage,
    UpdateNetwork,
)

router = APIRouter(prefix="/v1/networks", tags=["networks"], responses=ERROR_RESPONSES)

NetworkIdPath = Annotated[NetworkId, Path(description="the network's id")]
NOT_FOUND: Responses = {404: documented_error("no such network")}


@router.post("", status_code=201, response_model=NetworkOut, summary="Create a network",
             description="The operator creates any network; a coordinator creates child networks under a "
                         "network they administer, and becomes the new network's coordinator so they can staff "
                         "it. The child's level must be below its parent's.")
def create_network(body: CreateNetwork, caller: Caller, rpc: Rpc, auth: Auth) -> dict[str, Any]:
    network: dict[str, Any] = rpc.call("networks", "create_network", caller.wire(),
                                       body.model_dump(mode="json", exclude_unset=True))
    # The members service decides whether the caller becomes its coordinator (a member does; the operator not).
    if rpc.call("members", "appoint_creator", caller.wire(), network["id"]) is not None and caller.member_id:
        auth.forget_member(caller.member_id)  # their cached scope does not know the new network yet
        # The answer predates the membership: `coordinators` fills in once the networks service hears of it.
    return network


@router.get("", response_model=NetworkPage, summary="List and filter the network directory",
            description="Open to every authenticated caller. Only active networks unless `status=archived`.")
def list_networks(
    caller: Caller,
    rpc: Rpc,
    level: NetworkLevel | None = None,
    kind: NetworkKind | None = None,
    theme: Annotated[str | None, Query(min_length=1, max_length=100,
                                       description="words the theme contains (case-insensitive)")] = None,
    parent_id: Annotated[NetworkId | None, Query(description="only the direct children of this network")] = None,
    region: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    status: NetworkStatus = NetworkStatus.ACTIVE,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
    page_token: Annotated[str | None, Query(max_length=500)] = None,
) -> dict[str, Any]:
    query: dict[str, Any] = {"status": status.value, "page_size": page_size}
    for key, value in (("level", level), ("kind", kind), ("theme", theme), ("parent_id", parent_id),
                       ("region", region), ("page_token", page_token)):
        if value is not None:
            query[key] = str(value)  # StrEnum members are their values
    answer: dict[str, Any] = rpc.call("networks", "list_networks", query, caller.wire())
    return answer


@router.get("/{network_id}", response_model=NetworkOut, summary="Get a network", responses=NOT_FOUND)
def get_network(network_id: NetworkIdPath, caller: Caller, rpc: Rpc) -> dict[str, Any]:
    answer: dict[str, Any] = rpc.call("networks", "get_network", network_id, caller.wire())
    return answer


@router.patch("/{network_id}", response_model=NetworkOut, summary="Update a network",
              description="Only the fields sent change; optional fields are cleared with null. Moving the "
                          "network under another parent also needs that parent's administrator; making it "
                          "top-level (`parent_id: null`) is the operator's.",
              responses={**NOT_FOUND, 409: documented_error("the network is archived")})
def update_network(network_id: NetworkIdPath, body: UpdateNetwork, caller: Caller, rpc: Rpc) -> dict[str, Any]:
    answer: dict[str, Any] = rpc.call("networks", "update_network", caller.wire(), network_id,
                                      body.model_dump(mode="json", exclude_unset=True))
    return answer


@router.post("/{network_id}/archive", response_model=NetworkOut, summary="Archive a network",
             description="Refused (409) while the network has active child networks, or is archived already.",
             responses={**NOT_FOUND, 409: documented_error("active child networks, or archived already")})
def archive_network(network_id: NetworkIdPath, caller: Caller, rpc: Rpc) -> dict[str, Any]:
    answer: dict[str, Any] = rpc.call("networks", "archive_network", caller.wire(), network_id)
    return answer


@router.get("/{network_id}/tree", response_model=NetworkNode, summary="The hierarchy under a network",
            description="The network with its child networks nested, archived ones included.", responses=NOT_FOUND)
def network_tree(network_id: NetworkIdPath, caller: Caller, rpc: Rpc) -> dict[str, Any]:
    answer: dict[str, Any] = rpc.call("networks", "network_tree", network_id)
    return answer


@router.get("/{network_id}/health", response_model=HealthReport,
            summary="The network's health against the nine steps of a community of practice",
            description="Per step: `shown`, `not_shown` or `not_measurable` (the data cannot show it), with the "
                        "evidence and what is missing, and `little_data` where the step is judged from little data. "
                        "In Dutch or English, as `Accept-Language` prefers (Dutch by default; `Content-Language` "
                        "says which). For the operator and the network's coordinators and facilitators. Memberships "
                        "and learning loops reach the report asynchronously, within moments.",
            responses=NOT_FOUND)
def health_report(network_id: NetworkIdPath, caller: Caller, rpc: Rpc, response: Response,
                  accept_language: Annotated[str | None, Header(max_length=500)] = None) -> dict[str, Any]:
    language = negotiate(accept_language)
    response.headers["Content-Language"] = language
    answer: dict[str, Any] = rpc.call("networks", "health_report", caller.wire(), network_id, {"language": language})
    return answer
