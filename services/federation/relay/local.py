"""This instance's federation service, as the relay calls it (nameko standalone RPC, pooled, with timeouts)."""

from __future__ import annotations

from typing import Any

from services.common.rpc_client import RpcCaller

INGEST_TIMEOUT = 30.0  # a batch of shares may reach many networks


class LocalFederation:
    """Each method answers what the federation service's entrypoint returns: JSON, typed here as it is sent."""

    def __init__(self, rpc: RpcCaller, timeout: float = 10.0) -> None:
        self.rpc = rpc
        self.timeout = timeout

    def peers(self) -> list[dict[str, Any]]:
        answer: list[dict[str, Any]] = self.rpc.call("federation", "relay_peers", timeout=self.timeout)
        return answer

    def ingest(self, instance_id: str, entries: list[dict[str, Any]]) -> dict[str, Any]:
        answer: dict[str, Any] = self.rpc.call("federation", "ingest_from_peer", instance_id, {"entries": entries},
                                               timeout=max(self.timeout, INGEST_TIMEOUT))
        return answer

    def report(self, instance_id: str, state: dict[str, Any]) -> bool:
        answer: bool = self.rpc.call("federation", "report_peer_state", instance_id, state, timeout=self.timeout)
        return answer

    def open_peer_links(self, instance_id: str) -> list[dict[str, Any]]:
        answer: list[dict[str, Any]] = self.rpc.call("federation", "open_peer_links", instance_id,
                                                     timeout=self.timeout)
        return answer

    def follow_peer_link(self, link_id: str, remote: dict[str, Any]) -> dict[str, Any]:
        answer: dict[str, Any] = self.rpc.call("federation", "follow_peer_link", link_id, remote,
                                               timeout=self.timeout)
        return answer

    def held_directory(self, instance_id: str) -> list[str]:
        answer: list[str] = self.rpc.call("federation", "held_peer_directory", instance_id, timeout=self.timeout)
        return answer

    def sync_directory(self, instance_id: str, networks: list[dict[str, Any]]) -> dict[str, Any]:
        answer: dict[str, Any] = self.rpc.call("federation", "sync_peer_directory", instance_id,
                                               {"networks": networks}, timeout=max(self.timeout, INGEST_TIMEOUT))
        return answer
