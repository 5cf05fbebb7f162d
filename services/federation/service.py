"""nameko entrypoints of the federation service: links, partners, feeds over RPC; sharing, retraction,
erasure and the networks read model from events."""

from __future__ import annotations

from typing import Any

from nameko.rpc import RpcProxy

from services.common.catalogue import (
    MemberErased,
    NetworkSnapshot,
    OutputAttributionChanged,
    OutputPublished,
    OutputRetracted,
)
from services.common.events import Envelope
from services.common.nameko_kit import Observability, ServiceDatabase, command, event_handler, parse_request, query
from services.federation.adapters import RpcNetworkLookup
from services.federation.handlers import links, queries, sharing
from services.federation.partners import handlers as partners
from services.federation.peers import handlers as peers
from services.federation.peers.entrypoints import PeerEntrypoints
from services.federation.schemas import (
    AcceptLink,
    BlockSubject,
    FeedQuery,
    LogQuery,
    PartnerKind,
    PartnerOutput,
    RegisterPartner,
    RequestLink,
    SetLinkPolicy,
)
from services.federation.unit_of_work import FederationUnitOfWork


def dump(result: Any) -> Any:
    if isinstance(result, list):
        return [item.model_dump(mode="json") for item in result]
    return result.model_dump(mode="json")


class FederationService(PeerEntrypoints):  # between instances: services/federation/peer_entrypoints.py
    name = "federation"

    uow = ServiceDatabase(FederationUnitOfWork)
    observability = Observability()
    networks_rpc = RpcProxy("networks")

    # --- links -----------------------------------------------------------------------------------------

    @command
    def request_link(self, request: dict[str, Any]) -> dict[str, Any]:
        cmd = parse_request(RequestLink, request)
        return dump(links.request_link(cmd, self.uow(), RpcNetworkLookup(self.networks_rpc)))

    @command
    def accept_link(self, link_id: str, request: dict[str, Any] | None = None) -> dict[str, Any]:
        return dump(links.accept_link(link_id, parse_request(AcceptLink, request or {}), self.uow()))

    @command
    def reject_link(self, link_id: str) -> dict[str, Any]:
        return dump(links.reject_link(link_id, self.uow()))

    @command
    def revoke_link(self, link_id: str) -> dict[str, Any]:
        return dump(links.revoke_link(link_id, self.uow()))

    @command
    def set_link_policy(self, link_id: str, request: dict[str, Any]) -> dict[str, Any]:
        return dump(links.set_link_policy(link_id, parse_request(SetLinkPolicy, request), self.uow()))

    @query
    def get_link(self, link_id: str) -> dict[str, Any]:
        return dump(links.get_link(link_id, self.uow()))

    @query
    def list_links(self, network_id: str, status: str | None = None) -> list[dict[str, Any]]:
        return dump(links.list_links(network_id, status, self.uow()))

    @command
    def block_network(self, network_id: str, request: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        return dump(links.block_network(network_id, parse_request(BlockSubject, request or {}), self.uow()))

    # --- partners --------------------------------------------------------------------------------------

    @command(shown_once=("api_key",))
    def register_partner(self, request: dict[str, Any]) -> dict[str, Any]:
        cmd = parse_request(RegisterPartner, request)
        register = peers.register_instance if cmd.kind == PartnerKind.INSTANCE else partners.register_partner
        return dump(register(cmd, self.uow(), RpcNetworkLookup(self.networks_rpc)))

    @query
    def authenticate_partner(self, key_hash: str) -> dict[str, Any]:
        return dump(partners.authenticate_partner(key_hash, self.uow()))

    @command
    def revoke_partner(self, partner_id: str) -> dict[str, Any]:
        return dump(partners.revoke_partner(partner_id, self.uow()))

    @command(shown_once=("api_key",))
    def rotate_partner_key(self, partner_id: str) -> dict[str, Any]:
        return dump(partners.rotate_partner_key(partner_id, self.uow()))

    @command
    def block_partner(self, partner_id: str, request: dict[str, Any] | None = None) -> dict[str, Any]:
        return dump(partners.block_partner(partner_id, parse_request(BlockSubject, request or {}), self.uow()))

    @query
    def list_partners(self) -> list[dict[str, Any]]:
        return dump(partners.list_partners(self.uow()))

    @query
    def get_partner(self, partner_id: str) -> dict[str, Any]:
        return dump(partners.get_partner(partner_id, self.uow()))

    @command
    def publish_partner_output(self, partner_id: str, request: dict[str, Any]) -> dict[str, Any]:
        return partners.publish_partner_output(partner_id, parse_request(PartnerOutput, request), self.uow())

    @command
    def retract_partner_output(self, partner_id: str, output_id: str) -> dict[str, Any]:
        return partners.retract_partner_output(partner_id, output_id, self.uow())

    # --- feeds -----------------------------------------------------------------------------------------

    @query
    def feed(self, query: dict[str, Any]) -> dict[str, Any]:
        return dump(queries.feed_page(parse_request(FeedQuery, query), self.uow()))

    @query
    def log_after(self, query: dict[str, Any]) -> dict[str, Any]:
        return dump(queries.log_after(parse_request(LogQuery, query), self.uow()))

    @query
    def deliveries(self, output_id: str) -> list[dict[str, Any]]:
        return dump(queries.deliveries(output_id, self.uow()))

    @query
    def output_origin(self, output_id: str) -> str | None:
        return queries.output_origin(output_id, self.uow())

    @query
    def health(self) -> dict[str, Any]:
        return dump(queries.health(self.uow()))

    # --- events ----------------------------------------------------------------------------------------

    @event_handler("networks", "network.created")
    def on_network_created(self, envelope: Envelope, event: NetworkSnapshot, uow: FederationUnitOfWork) -> None:
        links.on_network_changed(event, uow)

    @event_handler("networks", "network.updated")
    def on_network_updated(self, envelope: Envelope, event: NetworkSnapshot, uow: FederationUnitOfWork) -> None:
        links.on_network_changed(event, uow)

    @event_handler("networks", "network.archived")
    def on_network_archived(self, envelope: Envelope, event: NetworkSnapshot, uow: FederationUnitOfWork) -> None:
        links.on_network_changed(event, uow)

    @event_handler("sessions", "output.published")
    def on_output_published(self, envelope: Envelope, event: OutputPublished, uow: FederationUnitOfWork) -> None:
        sharing.on_output_published(event, uow)

    @event_handler("sessions", "output.retracted")
    def on_output_retracted(self, envelope: Envelope, event: OutputRetracted, uow: FederationUnitOfWork) -> None:
        sharing.on_output_retracted(event, uow)

    @event_handler("sessions", "output.attribution_changed")
    def on_output_attribution_changed(self, envelope: Envelope, event: OutputAttributionChanged,
                                      uow: FederationUnitOfWork) -> None:
        sharing.on_attribution_changed(event, uow)

    @event_handler("members", "member.erased")
    def on_member_erased(self, envelope: Envelope, event: MemberErased, uow: FederationUnitOfWork) -> None:
        sharing.on_member_erased(event, uow)


SERVICE = FederationService
