"""Between instances in the admin API: the peer instances this instance follows (operator only). Links with a
network of a peer (``POST /v1/links`` with ``peer``) are asked by :mod:`services.federation.relay.peer_links`.

A peer is configured with the key its operator issued to this instance. The key is stored encrypted in the
federation database (KRING_FEDERATION_KEYS) for the relay, which must present it; no answer ever shows it again.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel

from services.federation.peers.schemas import ConfigurePeer, PeerNetworkOut, PeerOut
from services.federation.relay.peer_links import PeerConnector
from services.federation.schemas import InstanceId, NetworkId
from services.gateway.admin.deps import Caller, PartnerKeyCache, PartnerKeys, Rpc
from services.gateway.admin.errors import ERROR_RESPONSES, Responses, documented_error

router = APIRouter(prefix="/v1", tags=["peers"], responses=ERROR_RESPONSES)

PeerIdPath = Annotated[InstanceId, Path(description="the peer's instance id")]
PeerNetworkPath = Annotated[NetworkId, Path(description="the network's id on the peer instance")]
PEER_NOT_FOUND: Responses = {404: documented_error("no such peer")}


class PeerList(BaseModel):
    items: list[PeerOut]


class PeerNetworkList(BaseModel):
    items: list[PeerNetworkOut]


def peer_connector(request: Request) -> PeerConnector | None:
    """A fake for reaching a peer's gRPC API, when a test put one on ``app.state.connect_peer``."""
    connect: PeerConnector | None = getattr(request.app.state, "connect_peer", None)
    return connect


@router.post("/peers", status_code=201, response_model=PeerOut, summary="Follow a peer instance",
             description="Operator only. `instance_id`, `name`, `address` (host:port of the peer's gRPC API) and "
                         "`api_key` (the key the peer's operator issued to this instance, registered there as a "
                         "partner of kind instance); `local_network_ids` limits what is followed to some of this "
                         "instance's networks; `transport` says how the peer is reached: TLS by default (`ca_bundle`: "
                         "the peer's CA, else the system's trust store; `server_name`; `client_certificate`: present "
                         "this instance's, for mutual TLS), or `plaintext` for local development. A TLS handshake "
                         "that fails shows in the peer's `state.last_error`. The relay follows the peer's stream "
                         "of outputs shared with our networks from the stored cursor. The key is stored, "
                         "encrypted, for the relay and never shown again. 201 for a new peer; 200 when the peer "
                         "was configured already: its address, key, transport and networks change, its cursor "
                         "stays, and the relay reconnects at once. 503 when KRING_FEDERATION_KEYS is not set.",
             responses={200: {"model": PeerOut, "description": "the peer, reconfigured"},
                        404: documented_error("no such network in local_network_ids"),
                        409: documented_error("a network in local_network_ids is hosted by another instance")})
def configure_peer(body: ConfigurePeer, caller: Caller, rpc: Rpc, response: Response) -> dict[str, Any]:
    answer: dict[str, Any] = rpc.call("federation", "configure_peer", caller.wire(), body.model_dump(mode="json"))
    if not answer["created"]:
        response.status_code = 200
    peer: dict[str, Any] = answer["peer"]
    return peer


@router.get("/peers", response_model=PeerList, summary="The peer instances and the relay's view of each",
            description="Operator only. Per peer: its configuration (never the key), the cursor up to which its "
                        "feed is applied here, and the state the relay reported (`state.updated_at` says when): "
                        "`status` (connecting, following, backing_off, refused), `connected`, `cursor_lag`, "
                        "`last_success_at`, `consecutive_failures`, `last_error`; and the latest entries refused "
                        "by the origin check (`skipped`).")
def list_peers(caller: Caller, rpc: Rpc) -> dict[str, Any]:
    return {"items": rpc.call("federation", "list_peers", caller.wire())}


@router.get("/peers/{instance_id}", response_model=PeerOut, summary="A peer instance", description="Operator only.",
            responses=PEER_NOT_FOUND)
def get_peer(instance_id: PeerIdPath, caller: Caller, rpc: Rpc) -> dict[str, Any]:
    answer: dict[str, Any] = rpc.call("federation", "get_peer", caller.wire(), instance_id)
    return answer


@router.delete("/peers/{instance_id}", status_code=204, summary="Stop following a peer instance",
               description="Operator only. The relay lets go within its reload interval (10 s by default). What "
                           "arrived stays; links with the peer's networks stay as they are (revoke them, or block "
                           "the peer's partner, to end them).", responses=PEER_NOT_FOUND)
def remove_peer(instance_id: PeerIdPath, caller: Caller, rpc: Rpc) -> Response:
    rpc.call("federation", "remove_peer", caller.wire(), instance_id)
    return Response(status_code=204)


# --- the peer's directory of networks -------------------------------------------------------------------------------


@router.get("/peers/{instance_id}/networks", response_model=PeerNetworkList,
            summary="The networks a peer instance offers, and which of them may link here",
            description="Operator only. The peer's directory as the relay last read it through the peer's partner "
                        "API (`ListNetworks`, on start, when the peer is reconfigured, and every "
                        "KRING_PEER_DIRECTORY_SYNC_SECONDS): per network its name, theme, level and kind there, and "
                        "`status`: `offered` (listed by the peer, not approved here), `approved` (one of the peer "
                        "partner's networks here: linkable), `withdrawn` (`withdrawn_reason` `archived` on the peer, "
                        "or `gone`: no longer listed). `status` filters. By name.",
            responses=PEER_NOT_FOUND)
def list_peer_networks(instance_id: PeerIdPath, caller: Caller, rpc: Rpc,
                       status: Annotated[Literal["offered", "approved", "withdrawn"] | None,
                                         Query(description="only networks with this status")] = None
                       ) -> dict[str, Any]:
    query = {"status": status} if status is not None else {}
    return {"items": rpc.call("federation", "list_peer_networks", caller.wire(), instance_id, query)}


@router.post("/peers/{instance_id}/networks/{network_id}/approve", response_model=PeerNetworkOut,
             summary="Let a network of a peer instance link here",
             description="Operator only. The network joins the networks of the peer's partner (kind instance) here, "
                         "as `remote_networks` do when the partner is registered: its key may stream, publish and "
                         "link for it, and links with it may be asked (`POST /v1/links` with `peer`). Approving an "
                         "approved network changes nothing. 404: no such peer, or a network its directory does not "
                         "hold (`network_id`/`exists`); 409: the instance is not registered as a partner here "
                         "(`instance_id`/`registered_partner`) or its partner is blocked (`not_blocked`), the "
                         "network was withdrawn by the peer (`network_id`/`offered`), is a network of this instance "
                         "(`remote`) or belongs to another partner (`unowned`).",
             responses={404: documented_error("no such peer, or not in its directory"),
                        409: documented_error("not registered as a partner, withdrawn, or taken")})
def approve_peer_network(instance_id: PeerIdPath, network_id: PeerNetworkPath, caller: Caller, rpc: Rpc,
                         keys: PartnerKeys) -> dict[str, Any]:
    answer: dict[str, Any] = rpc.call("federation", "approve_peer_network", caller.wire(), instance_id, network_id)
    return _forgetting(keys, answer)


@router.post("/peers/{instance_id}/networks/{network_id}/withdraw-approval", response_model=PeerNetworkOut,
             summary="Stop a network of a peer instance linking here",
             description="Operator only. The network leaves the networks of the peer's partner and is kept as "
                         "archived: no new link with it is accepted, and its existing links stay but carry nothing "
                         "(revoke them to end them). It stays `offered`, to be approved again. Withdrawing the "
                         "approval of a network that is not approved changes nothing.",
             responses={404: documented_error("no such peer, or not in its directory")})
def withdraw_peer_network_approval(instance_id: PeerIdPath, network_id: PeerNetworkPath, caller: Caller, rpc: Rpc,
                                   keys: PartnerKeys) -> dict[str, Any]:
    answer: dict[str, Any] = rpc.call("federation", "withdraw_peer_network_approval", caller.wire(), instance_id,
                                      network_id)
    return _forgetting(keys, answer)


def _forgetting(keys: PartnerKeyCache | None, answer: dict[str, Any]) -> dict[str, Any]:
    """The partner's networks changed: this gateway's partner API learns at once (others from the event)."""
    if keys is not None and answer.get("partner_id"):
        keys.forget_partner(answer["partner_id"])
    return answer
