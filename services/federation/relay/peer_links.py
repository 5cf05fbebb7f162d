"""Asking a peer instance for its side of a link, for ``POST /v1/links`` with ``peer``.

Part of the federation service's non-eventlet side, like the relay: it calls the peer's partner API (grpcio, which
hangs under eventlet) and this instance's federation service (standalone RPC), so it runs in the process that
serves the request (the gateway) on the federation service's behalf. The rules stay in the federation service:
which networks may be linked across instances, what our copy of the link is, when the peer need not be asked.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from services.common.config import get_settings
from services.common.errors import KringError
from services.common.rpc_client import RpcCaller
from services.federation.relay.peer_client import PeerClient
from services.federation.relay.transport import ClientIdentity

# (the peer's instance id, its address, the key it issued us, its connection settings) -> a client of its API
PeerConnector = Callable[[str, str, str, dict[str, Any]], PeerClient]


def connect_peer(instance_id: str, address: str, api_key: str, transport: dict[str, Any]) -> PeerClient:
    """The peer's partner API as the relay reaches it: its connection settings, this instance's client
    certificate (KRING_PEER_TLS_CERT_FILE) where they ask for it."""
    settings = get_settings()
    return PeerClient(instance_id, address, api_key, timeout=settings.rpc_timeout, transport=transport,
                      identity=ClientIdentity.from_settings(settings))


def request_peer_link(caller: dict[str, Any], body: Any, rpc: RpcCaller,
                      connect: PeerConnector | None = None) -> tuple[dict[str, Any], bool]:
    """Our copy of the link, then the peer's side (its ``RequestLink``, with the key it issued us), then the id
    the peer gave its copy attached to ours. When the peer refuses or cannot be reached, our new copy is revoked
    and the error answers the request (502 for a refusal, 503 when unreachable). True when the link is new.
    ``connect(instance_id, address, api_key, transport)`` reaches the peer's partner API: :func:`connect_peer`
    unless a test passes a fake."""
    start = rpc.call("federation", "begin_peer_link", caller, body.model_dump(mode="json", exclude_none=True))
    link = start["link"]
    if start["remote_link_id"] or not start["call_peer"]:
        return link, False  # asked already (or the peer asked first: accept its request instead)
    contact = rpc.call("federation", "peer_contact", body.peer)
    client = (connect or connect_peer)(body.peer, contact["address"], contact["api_key"], contact["transport"])
    try:
        remote = client.request_link(body.requester_network_id, body.target_network_id, link["requester_policy"])
    except KringError:
        rpc.call("federation", "abandon_peer_link", link["link_id"])
        raise
    finally:
        client.close()
    return rpc.call("federation", "attach_peer_link", link["link_id"], body.peer, remote), True
