"""Asking a peer instance for its side of a link, for ``POST /v1/links`` with ``peer``.

Part of the federation service's non-eventlet side, like the relay: it calls the peer's partner API (grpcio, which
hangs under eventlet) and this instance's federation service (standalone RPC), so it runs in the process that
serves the request (the gateway) on the federation service's behalf. The rules stay in the federation service:
which networks may be linked across instances, what our copy of the link is, when the peer need not be asked.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from services.common.errors import KringError
from services.common.rpc_client import RpcCaller
from services.federation.relay.peer_client import PeerClient

# (the peer's instance id, its address, the key it issued us) -> a client of its partner API
PeerConnector = Callable[[str, str, str], PeerClient]


def request_peer_link(caller: dict[str, Any], body: Any, rpc: RpcCaller,
                      connect: PeerConnector | None = None) -> tuple[dict[str, Any], bool]:
    """Our copy of the link, then the peer's side (its ``RequestLink``, with the key it issued us), then the id
    the peer gave its copy attached to ours. When the peer refuses or cannot be reached, our new copy is revoked
    and the error answers the request (502 for a refusal, 503 when unreachable). True when the link is new.
    ``connect(instance_id, address, api_key)`` reaches the peer's partner API: the relay's client unless a test
    passes a fake."""
    start = rpc.call("federation", "begin_peer_link", caller, body.model_dump(mode="json", exclude_none=True))
    link = start["link"]
    if start["remote_link_id"] or not start["call_peer"]:
        return link, False  # asked already (or the peer asked first: accept its request instead)
    contact = rpc.call("federation", "peer_contact", body.peer)
    client = (connect or PeerClient)(body.peer, contact["address"], contact["api_key"])
    try:
        remote = client.request_link(body.requester_network_id, body.target_network_id, link["requester_policy"])
    except KringError:
        rpc.call("federation", "abandon_peer_link", link["link_id"])
        raise
    finally:
        client.close()
    return rpc.call("federation", "attach_peer_link", link["link_id"], body.peer, remote), True
