"""Between instances in the admin API: the peer instances this instance follows (operator only). Links with a
network of a peer (``POST /v1/links`` with ``peer``) are asked by :mod:`services.federation.relay.peer_links`.

A peer is configured with the key its operator issued to this instance. The key is stored encrypted in the
federation database (KRING_FEDERATION_KEYS) for the relay, which must present it; no answer ever shows it again.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel

from services.federation.peers.schemas import ConfigurePeer, PeerOut
from services.federation.relay.peer_links import PeerConnector
from services.federation.schemas import InstanceId
from services.gateway.admin.deps import Caller, Rpc
from services.gateway.admin.errors import ERROR_RESPONSES, Responses, documented_error

router = APIRouter(prefix="/v1", tags=["peers"], responses=ERROR_RESPONSES)

PeerIdPath = Annotated[InstanceId, Path(description="the peer's instance id")]
PEER_NOT_FOUND: Responses = {404: documented_error("no such peer")}


class PeerList(BaseModel):
    items: list[PeerOut]


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
