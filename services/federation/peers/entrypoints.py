"""nameko entrypoints for federation between instances: peers (for the admin API and the relay), the entries the
relay brings in, and links whose other side is on a peer. :class:`services.federation.service.FederationService`
inherits them, so they are methods of the one ``federation`` service."""

from __future__ import annotations

from typing import Any, ClassVar

from services.common.caller import Caller
from services.common.nameko_kit import ServiceDatabase, command, parse_request, query
from services.common.schemas import answer
from services.federation.adapters import RpcNetworkLookup
from services.federation.handlers import queries
from services.federation.peers import directory, ingest
from services.federation.peers import handlers as peers
from services.federation.peers import links as peer_links
from services.federation.peers.schemas import (
    ConfigurePeer,
    IngestEntries,
    LogHeadQuery,
    PeerNetworkQuery,
    RemoteLink,
    ReportPeerState,
    RequestPeerLink,
    SyncPeerDirectory,
)
from services.federation.schemas import Json
from services.federation.unit_of_work import FederationUnitOfWork


class PeerEntrypoints:
    """Methods of the federation service (which sets these three)."""

    name: str
    uow: ClassVar[ServiceDatabase[FederationUnitOfWork]]
    networks_rpc: Any  # nameko's RpcProxy to the networks service: untyped

    # --- peers -------------------------------------------------------------------------------------------------

    @command
    def configure_peer(self, caller: Json, request: Json) -> Json:
        peer, created = peers.configure_peer(Caller.of(caller), parse_request(ConfigurePeer, request), self.uow(),
                                             RpcNetworkLookup(self.networks_rpc))
        return {"peer": answer(peer), "created": created}

    @query
    def list_peers(self, caller: Json) -> list[Json]:
        return answer(peers.list_peers(Caller.of(caller), self.uow()))

    @query
    def get_peer(self, caller: Json, instance_id: str) -> Json:
        return answer(peers.get_peer(Caller.of(caller), instance_id, self.uow()))

    @command
    def remove_peer(self, caller: Json, instance_id: str) -> None:
        peers.remove_peer(Caller.of(caller), instance_id, self.uow())

    # --- a peer's directory of networks, and which of them may link here ---------------------------------------

    @query
    def list_peer_networks(self, caller: Json, instance_id: str, query: Json | None = None) -> list[Json]:
        return answer(directory.list_peer_networks(Caller.of(caller), instance_id,
                                                   parse_request(PeerNetworkQuery, query or {}), self.uow()))

    @command
    def approve_peer_network(self, caller: Json, instance_id: str, network_id: str) -> Json:
        return answer(directory.approve_peer_network(Caller.of(caller), instance_id, network_id, self.uow(),
                                                     RpcNetworkLookup(self.networks_rpc)))

    @command
    def withdraw_peer_network_approval(self, caller: Json, instance_id: str, network_id: str) -> Json:
        return answer(directory.withdraw_approval(Caller.of(caller), instance_id, network_id, self.uow()))

    # --- for the relay (this instance's own process: no caller) ------------------------------------------------

    @query
    def held_peer_directory(self, instance_id: str) -> list[str]:
        """The peer's networks held here as listed there (offered or approved)."""
        return directory.held_directory(instance_id, self.uow())

    @command
    def sync_peer_directory(self, instance_id: str, request: Json) -> Json:
        return answer(directory.sync_peer_directory(instance_id, parse_request(SyncPeerDirectory, request),
                                                    self.uow()))

    @query
    def relay_peers(self) -> list[Json]:
        """Every peer with the key it presents there."""
        return answer(peers.relay_peers(self.uow()))

    @command
    def report_peer_state(self, instance_id: str, request: Json) -> bool:
        return peers.report_peer_state(instance_id, parse_request(ReportPeerState, request), self.uow())

    @command
    def ingest_from_peer(self, instance_id: str, request: Json) -> Json:
        return answer(ingest.ingest_from_peer(instance_id, parse_request(IngestEntries, request), self.uow()))

    @query
    def open_peer_links(self, instance_id: str) -> list[Json]:
        return answer(peer_links.open_peer_links(instance_id, self.uow()))

    @command
    def follow_peer_link(self, link_id: str, remote: Json) -> Json:
        return answer(peer_links.follow_peer_link(link_id, parse_request(RemoteLink, remote), self.uow()))

    # --- a partner's or another instance's feed head ---------------------------------------------------------

    @query
    def log_head(self, caller: Json, query: Json) -> Json:
        parsed = parse_request(LogHeadQuery, query)
        lookup = RpcNetworkLookup(self.networks_rpc)
        scope = queries.feed_scope(Caller.of(caller), parsed.network_ids, self.uow(), lookup)
        return answer(peers.log_head(scope, parsed.cursor, self.uow()))

    # --- links with a peer's networks, asked by the admin API (services/federation/relay/peer_links.py) --------

    @command
    def begin_peer_link(self, caller: Json, request: Json) -> Json:
        return answer(peer_links.begin_peer_link(Caller.of(caller), parse_request(RequestPeerLink, request),
                                                     self.uow(), RpcNetworkLookup(self.networks_rpc)))

    @query
    def peer_contact(self, instance_id: str) -> Json:
        """How to reach the peer (its address, and the key it issued to this instance)."""
        return answer(peers.peer_contact(instance_id, self.uow()))

    @command
    def attach_peer_link(self, link_id: str, instance_id: str, remote: Json) -> Json:
        return answer(peer_links.attach_peer_link(link_id, instance_id, parse_request(RemoteLink, remote),
                                                      self.uow()))

    @command
    def abandon_peer_link(self, link_id: str) -> Json:
        return answer(peer_links.abandon_peer_link(link_id, self.uow()))
