"""The federation service's ports (:mod:`services.federation.ports`) over nameko RPC."""

from __future__ import annotations

from typing import Any

from services.common.errors import NotFound
from services.common.nameko_kit import call_service


class RpcNetworkLookup:
    """For commands that name a network the federation's read model has not heard of yet (it follows
    events a few milliseconds behind)."""

    def __init__(self, networks_rpc: Any) -> None:
        self.networks_rpc = networks_rpc

    def get(self, network_id: str) -> dict[str, Any] | None:
        try:
            found: dict[str, Any] = call_service("networks", lambda: self.networks_rpc.get_network(network_id))
        except NotFound:
            return None
        return found
