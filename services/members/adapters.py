"""The members service's ports (:mod:`services.members.ports`) over nameko RPC."""

from __future__ import annotations

from typing import Any

from services.common.errors import Conflict, NotFound, violation
from services.common.nameko_kit import call_service


class RpcNetworkDirectory:
    """Asks the networks service; a command needs the network as it is now, not as a read model last saw it."""

    def __init__(self, networks_rpc: Any) -> None:
        self.networks_rpc = networks_rpc  # a nameko RPC proxy (untyped): its answers are JSON

    def ensure_open(self, network_id: str) -> None:
        try:
            network: dict[str, Any] = call_service("networks", lambda: self.networks_rpc.get_network(network_id))
        except NotFound as exc:
            raise NotFound(f"network {network_id} not found",
                           [violation("network_id", "exists", "no such network")]) from exc
        if network["status"] != "active":
            raise Conflict(f"network {network_id} is archived",
                           [violation("network_id", "active", "the network is archived")])
