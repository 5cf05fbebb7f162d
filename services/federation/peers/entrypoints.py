"""nameko entrypoints for federation between instances: peers (for the admin API and the relay), the entries the
relay brings in, and links whose other side is on a peer. :class:`services.federation.service.FederationService`
inherits them, so they are methods of the one ``federation`` service."""

from __future__ import annotations

from typing import Any

from services.common.nameko_kit import command, parse_request, query
from services.federation.adapters import RpcNetworkLookup
from services.federation.peers import handlers as peers
from services.federation.peers import ingest
from services.federation.peers import links as peer_links
from services.federation.peers.schemas import (
    ConfigurePeer,
    IngestEntries,
    LogHeadQuery,
    RemoteLink,
    ReportPeerState,
    RequestPeerLink,
)


class PeerEntrypoints:
    uow: Any
    networks_rpc: Any

    # --- peers -------------------------------------------------------------------------------------------------

    @command
    def configure_peer(self, request: dict[str, Any]) -> dict[str, Any]:
        peer, created = peers.configure_peer(parse_request(ConfigurePeer, request), self.uow(),
                                             RpcNetworkLookup(self.networks_rpc))
        return {"peer": peer.model_dump(mode="json"), "created": created}

    @query
    def list_peers(self) -> list[dict[str, Any]]:
        return [p.model_dump(mode="json") for p in peers.list_peers(self.uow())]

    @query
    def get_peer(self, instance_id: str) -> dict[str, Any]:
        return peers.get_peer(instance_id, self.uow()).model_dump(mode="json")

    @command
    def remove_peer(self, instance_id: str) -> None:
        peers.remove_peer(instance_id, self.uow())

    @query
    def relay_peers(self) -> list[dict[str, Any]]:
        """For the relay only: every peer with the key it presents there."""
        return [p.model_dump(mode="json") for p in peers.relay_peers(self.uow())]

    @command
    def report_peer_state(self, instance_id: str, request: dict[str, Any]) -> bool:
        return peers.report_peer_state(instance_id, parse_request(ReportPeerState, request), self.uow())

    @command
    def ingest_from_peer(self, instance_id: str, request: dict[str, Any]) -> dict[str, Any]:
        return ingest.ingest_from_peer(instance_id, parse_request(IngestEntries, request),
                                       self.uow()).model_dump(mode="json")

    @query
    def log_head(self, query: dict[str, Any]) -> dict[str, Any]:
        parsed = parse_request(LogHeadQuery, query)
        return peers.log_head(parsed.network_ids, parsed.cursor, self.uow()).model_dump(mode="json")

    # --- links with a peer's networks ----------------------------------------------------------------------------

    @command
    def begin_peer_link(self, request: dict[str, Any]) -> dict[str, Any]:
        start = peer_links.begin_peer_link(parse_request(RequestPeerLink, request), self.uow(),
                                           RpcNetworkLookup(self.networks_rpc))
        return start.model_dump(mode="json")

    @query
    def peer_contact(self, instance_id: str) -> dict[str, Any]:
        """For the gateway only: how to reach the peer (its address, and the key it issued to this instance)."""
        return peers.peer_contact(instance_id, self.uow()).model_dump(mode="json")

    @command
    def attach_peer_link(self, link_id: str, instance_id: str, remote: dict[str, Any]) -> dict[str, Any]:
        return peer_links.attach_peer_link(link_id, instance_id, parse_request(RemoteLink, remote),
                                           self.uow()).model_dump(mode="json")

    @command
    def abandon_peer_link(self, link_id: str) -> dict[str, Any]:
        return peer_links.abandon_peer_link(link_id, self.uow()).model_dump(mode="json")

    @query
    def open_peer_links(self, instance_id: str) -> list[dict[str, Any]]:
        return [link.model_dump(mode="json") for link in peer_links.open_peer_links(instance_id, self.uow())]

    @command
    def follow_peer_link(self, link_id: str, remote: dict[str, Any]) -> dict[str, Any]:
        return peer_links.follow_peer_link(link_id, parse_request(RemoteLink, remote), self.uow()).model_dump(
            mode="json")
