"""Federation in the admin API: links between networks, blocks, partners and their keys, a network's feed
and an output's delivery log.

Each route passes the caller and the request to the federation service, which owns the rules (who may do what
with links, partners and feeds: services/federation/domain/access.py; a link's life cycle, which visibilities a
policy may carry, one partner per network) and answers 403, 404, 409 or 422 itself.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query, Request, Response
from pydantic import BaseModel, Field, StringConstraints

from services.common.schemas import Command, OutputId
from services.common.vocabulary import LinkStatus
from services.federation.relay.peer_links import request_peer_link
from services.federation.schemas import (
    BlockSubject,
    DeliveryLog,
    FeedPage,
    InstanceId,
    LinkOut,
    NetworkId,
    PartnerKey,
    PartnerOut,
    RegisterPartner,
    SharingPolicyIn,
)
from services.gateway.admin.deps import Caller, PartnerKeyCache, PartnerKeys, Rpc
from services.gateway.admin.errors import ERROR_RESPONSES, Responses, documented_error
from services.gateway.admin.routes.peers import peer_connector

router = APIRouter(prefix="/v1", tags=["federation"], responses=ERROR_RESPONSES)

Id100 = Annotated[str, StringConstraints(min_length=1, max_length=100)]
LinkIdPath = Annotated[Id100, Path(description="the link's id")]
PartnerIdPath = Annotated[Id100, Path(description="the partner's id")]
OutputIdPath = Annotated[OutputId, Path(description="the output's id")]
NetworkIdPath = Annotated[NetworkId, Path(description="the network's id")]

LINK_NOT_FOUND: Responses = {404: documented_error("no such link")}
TRANSITION: Responses = {409: documented_error("the link's status does not allow this (e.g. accepting a revoked link)")}
PARTNER_NOT_FOUND: Responses = {404: documented_error("no such partner")}


class LinkRequestIn(Command):
    requester_network_id: NetworkId = Field(description="the asking network (you coordinate it)")
    target_network_id: NetworkId = Field(description="the network asked to link")
    policy: SharingPolicyIn | None = Field(None, description="what flows from the requester; default: linked, "
                                                             "federation and public, any theme")
    peer: InstanceId | None = Field(None, description="the peer instance hosting the target network (a network "
                                                      "registered here for that instance's partner): the peer is "
                                                      "asked too, and its coordinator answers there")


class AcceptIn(Command):
    policy: SharingPolicyIn | None = Field(None, description="what flows from the accepting side; default: linked, "
                                                             "federation and public, any theme")


class PolicyIn(Command):
    network_id: NetworkId = Field(description="the side whose outgoing flow this policy governs")
    policy: SharingPolicyIn


class LinkList(BaseModel):
    items: list[LinkOut]


class NetworkBlocked(BaseModel):
    network_id: str
    ended_links: list[LinkOut] = Field(description="the links the block ended")


class PartnerList(BaseModel):
    items: list[PartnerOut]




def dumped(model: BaseModel | None) -> dict[str, Any]:
    return model.model_dump(mode="json", exclude_none=True) if model is not None else {}


# --- links -------------------------------------------------------------------------------------------------------


@router.post("/links", status_code=201, response_model=LinkOut, summary="Ask to link two networks",
             description="For the requesting network's coordinators. 201 with a new request; 200 with the open "
                         "link (requested or active, asked by either side) when there is one already. With `peer`, "
                         "the target is a network of that peer instance: the peer is asked as well (502 when it "
                         "refuses, 503 when it cannot be reached; no link is left behind then), its coordinator "
                         "answers there, and the relay brings the answer here.",
             responses={200: {"model": LinkOut, "description": "the open link between the two networks"},
                        404: documented_error("no such network or peer"),
                        502: documented_error("the peer instance refused the request")})
def request_link(body: LinkRequestIn, caller: Caller, rpc: Rpc, response: Response,
                 request: Request) -> dict[str, Any]:
    if body.peer is not None:
        link, created = request_peer_link(caller.wire(), body, rpc, peer_connector(request))
    else:
        answer: dict[str, Any] = rpc.call("federation", "request_link", caller.wire(), dumped(body))
        link, created = answer["link"], answer["created"]
    response.status_code = 201 if created else 200
    return link


@router.get("/links/{link_id}", response_model=LinkOut, summary="Get a link",
            description="For the coordinators of either side.", responses=LINK_NOT_FOUND)
def get_link(link_id: LinkIdPath, caller: Caller, rpc: Rpc) -> dict[str, Any]:
    answer: dict[str, Any] = rpc.call("federation", "get_link", caller.wire(), link_id)
    return answer


@router.get("/networks/{network_id}/links", response_model=LinkList, summary="A network's links",
            description="For the network's coordinators; oldest first, optionally only those with `status`.")
def network_links(network_id: NetworkIdPath, caller: Caller, rpc: Rpc,
                  status: LinkStatus | None = None) -> dict[str, Any]:
    return {"items": rpc.call("federation", "list_links", caller.wire(), network_id, status.value if status else None)}


@router.post("/links/{link_id}/accept", response_model=LinkOut, summary="Accept a requested link",
             description="For the target network's coordinators. The link becomes active and each side receives "
                         "a bounded backfill of the other's earlier outputs its policy admits.",
             responses={**LINK_NOT_FOUND, **TRANSITION})
def accept_link(link_id: LinkIdPath, caller: Caller, rpc: Rpc,
                body: Annotated[AcceptIn | None, Body()] = None) -> dict[str, Any]:
    answer: dict[str, Any] = rpc.call("federation", "accept_link", caller.wire(), link_id, dumped(body))
    return answer


@router.post("/links/{link_id}/reject", response_model=LinkOut, summary="Reject a requested link",
             description="For the target network's coordinators.", responses={**LINK_NOT_FOUND, **TRANSITION})
def reject_link(link_id: LinkIdPath, caller: Caller, rpc: Rpc) -> dict[str, Any]:
    answer: dict[str, Any] = rpc.call("federation", "reject_link", caller.wire(), link_id)
    return answer


@router.post("/links/{link_id}/revoke", response_model=LinkOut, summary="End a link",
             description="For the coordinators of either side; nothing new flows over it afterwards.",
             responses={**LINK_NOT_FOUND, **TRANSITION})
def revoke_link(link_id: LinkIdPath, caller: Caller, rpc: Rpc) -> dict[str, Any]:
    answer: dict[str, Any] = rpc.call("federation", "revoke_link", caller.wire(), link_id)
    return answer


@router.put("/links/{link_id}/policy", response_model=LinkOut, summary="Set what flows from one side",
            description="For the coordinators of `network_id`, which must be a side of the link. Applies to "
                        "outputs shared from now on.", responses={**LINK_NOT_FOUND, **TRANSITION})
def set_link_policy(link_id: LinkIdPath, body: PolicyIn, caller: Caller, rpc: Rpc) -> dict[str, Any]:
    answer: dict[str, Any] = rpc.call("federation", "set_link_policy", caller.wire(), link_id, dumped(body))
    return answer


@router.post("/networks/{network_id}/block", response_model=NetworkBlocked, summary="Block a network",
             description="Operator only. Ends the network's open links, keeps it out of every audience from now "
                         "on and refuses its link requests.", responses={404: documented_error("no such network")})
def block_network(network_id: NetworkIdPath, caller: Caller, rpc: Rpc,
                  body: Annotated[BlockSubject | None, Body()] = None) -> dict[str, Any]:
    return {"network_id": network_id, "ended_links": rpc.call("federation", "block_network", caller.wire(),
                                                              network_id, dumped(body))}


# --- partners ----------------------------------------------------------------------------------------------------


@router.post("/partners", status_code=201, response_model=PartnerKey, summary="Register a partner",
             description="Operator only. The answer holds the partner's API key, shown this once (only its hash "
                         "is stored). A network belongs to one partner at most (409).",
             responses={404: documented_error("no such network"), 409: documented_error("network already taken")})
def register_partner(body: RegisterPartner, caller: Caller, rpc: Rpc) -> dict[str, Any]:
    answer: dict[str, Any] = rpc.call("federation", "register_partner", caller.wire(), body.model_dump(mode="json"))
    return answer


@router.get("/partners", response_model=PartnerList, summary="List partners", description="Operator only.")
def list_partners(caller: Caller, rpc: Rpc) -> dict[str, Any]:
    return {"items": rpc.call("federation", "list_partners", caller.wire())}


@router.get("/partners/{partner_id}", response_model=PartnerOut, summary="Get a partner",
            description="Operator only.", responses=PARTNER_NOT_FOUND)
def get_partner(partner_id: PartnerIdPath, caller: Caller, rpc: Rpc) -> dict[str, Any]:
    answer: dict[str, Any] = rpc.call("federation", "get_partner", caller.wire(), partner_id)
    return answer


@router.post("/partners/{partner_id}/revoke", response_model=PartnerOut, summary="Revoke a partner's key",
             description="Operator only. Its calls are refused (UNAUTHENTICATED) at once on this gateway, within "
                         "10 seconds on others. `rotate-key` issues a new one.", responses=PARTNER_NOT_FOUND)
def revoke_partner(partner_id: PartnerIdPath, caller: Caller, rpc: Rpc, keys: PartnerKeys) -> dict[str, Any]:
    return forgetting(keys, partner_id, rpc.call("federation", "revoke_partner", caller.wire(), partner_id))


@router.post("/partners/{partner_id}/rotate-key", status_code=201, response_model=PartnerKey,
             summary="Issue a new key", description="Operator only. The old key stops working; the new one is "
                                                    "shown this once. Refused (403) for a blocked partner.",
             responses=PARTNER_NOT_FOUND)
def rotate_partner_key(partner_id: PartnerIdPath, caller: Caller, rpc: Rpc, keys: PartnerKeys) -> dict[str, Any]:
    return forgetting(keys, partner_id, rpc.call("federation", "rotate_partner_key", caller.wire(), partner_id))


@router.post("/partners/{partner_id}/block", response_model=PartnerOut, summary="Block a partner",
             description="Operator only. Refuses its key (PERMISSION_DENIED), ends the links of its networks and "
                         "keeps them out of every audience.", responses=PARTNER_NOT_FOUND)
def block_partner(partner_id: PartnerIdPath, caller: Caller, rpc: Rpc, keys: PartnerKeys,
                  body: Annotated[BlockSubject | None, Body()] = None) -> dict[str, Any]:
    return forgetting(keys, partner_id, rpc.call("federation", "block_partner", caller.wire(), partner_id,
                                                 dumped(body)))


def forgetting(keys: PartnerKeyCache | None, partner_id: str, answer: dict[str, Any]) -> dict[str, Any]:
    if keys is not None:
        keys.forget_partner(partner_id)
    return answer


# --- feeds and deliveries -------------------------------------------------------------------------------------------


@router.get("/networks/{network_id}/feed", response_model=FeedPage, summary="What was shared with a network",
            description="For the operator and the people inside the network. In order of sharing, with the origin "
                        "network and session; a retracted output appears as its tombstone; `backfill` marks what "
                        "arrived when a link became active.", responses={404: documented_error("no such network")})
def network_feed(network_id: NetworkIdPath, caller: Caller, rpc: Rpc,
                 page_size: Annotated[int, Query(ge=1, le=200)] = 50,
                 page_token: Annotated[str | None, Query(max_length=200)] = None) -> dict[str, Any]:
    query: dict[str, Any] = {"network_id": network_id, "page_size": page_size}
    if page_token:
        query["page_token"] = page_token
    answer: dict[str, Any] = rpc.call("federation", "feed", caller.wire(), query)
    return answer


@router.get("/outputs/{output_id}/deliveries", response_model=DeliveryLog, summary="Who received an output",
            description="For the operator and the coordinators of the network the output came from.",
            responses={404: documented_error("no such output")})
def output_deliveries(output_id: OutputIdPath, caller: Caller, rpc: Rpc) -> dict[str, Any]:
    answer: dict[str, Any] = rpc.call("federation", "delivery_log", caller.wire(), output_id)
    return answer
