"""nameko entrypoints of the federation service: links, partners, feeds over RPC; sharing, retraction,
erasure and the networks read model from events."""

from __future__ import annotations

from nameko.rpc import RpcProxy

from services.common.audit import AuditQuery
from services.common.caller import Caller
from services.common.catalogue import (
    MemberErased,
    NetworkSnapshot,
    OutputAttributionChanged,
    OutputPublished,
    OutputRetracted,
)
from services.common.events import Envelope
from services.common.nameko_kit import (
    Observability,
    ServiceDatabase,
    batch_event_handler,
    command,
    parse_request,
    query,
)
from services.common.schemas import answer
from services.federation.adapters import RpcNetworkLookup
from services.federation.handlers import links, queries, sharing
from services.federation.partners import handlers as partners
from services.federation.peers import handlers as peers
from services.federation.peers.entrypoints import PeerEntrypoints
from services.federation.ports import FederationUoW
from services.federation.schemas import (
    AcceptLink,
    BlockSubject,
    FeedQuery,
    Json,
    LogQuery,
    PartnerKind,
    PartnerOutput,
    PartnerOutputRetracted,
    PartnerOutputShared,
    PublishedQuery,
    RegisterPartner,
    RequestLink,
    SetLinkPolicy,
)
from services.federation.unit_of_work import FederationUnitOfWork


class FederationService(PeerEntrypoints):  # between instances: services/federation/peers/entrypoints.py
    name = "federation"

    uow = ServiceDatabase(FederationUnitOfWork)
    observability = Observability()
    networks_rpc = RpcProxy("networks")

    def _lookup(self) -> RpcNetworkLookup:
        return RpcNetworkLookup(self.networks_rpc)

    # --- links -----------------------------------------------------------------------------------------

    @command
    def request_link(self, caller: Json, request: Json) -> Json:
        cmd = parse_request(RequestLink, request)
        return answer(links.request_link(Caller.of(caller), cmd, self.uow(), self._lookup()))

    @command
    def accept_link(self, caller: Json, link_id: str, request: Json | None = None) -> Json:
        return answer(links.accept_link(Caller.of(caller), link_id, parse_request(AcceptLink, request or {}),
                                            self.uow()))

    @command
    def reject_link(self, caller: Json, link_id: str) -> Json:
        return answer(links.reject_link(Caller.of(caller), link_id, self.uow()))

    @command
    def revoke_link(self, caller: Json, link_id: str) -> Json:
        return answer(links.revoke_link(Caller.of(caller), link_id, self.uow()))

    @command
    def set_link_policy(self, caller: Json, link_id: str, request: Json) -> Json:
        cmd = parse_request(SetLinkPolicy, request)
        return answer(links.set_link_policy(Caller.of(caller), link_id, cmd, self.uow()))

    @query
    def get_link(self, caller: Json, link_id: str) -> Json:
        return answer(links.get_link(Caller.of(caller), link_id, self.uow()))

    @query
    def list_links(self, caller: Json, network_id: str, status: str | None = None) -> list[Json]:
        return answer(links.list_links(Caller.of(caller), network_id, status, self.uow()))

    @command
    def block_network(self, caller: Json, network_id: str, request: Json | None = None) -> list[Json]:
        cmd = parse_request(BlockSubject, request or {})
        return answer(links.block_network(Caller.of(caller), network_id, cmd, self.uow(), self._lookup()))

    # --- partners --------------------------------------------------------------------------------------

    @command(shown_once=("api_key",))
    def register_partner(self, caller: Json, request: Json) -> Json:
        cmd = parse_request(RegisterPartner, request)
        register = peers.register_instance if cmd.kind == PartnerKind.INSTANCE else partners.register_partner
        return answer(register(Caller.of(caller), cmd, self.uow(), self._lookup()))

    @query
    def authenticate_partner(self, key_hash: str) -> Json:
        return answer(partners.authenticate_partner(key_hash, self.uow()))

    @command
    def revoke_partner(self, caller: Json, partner_id: str) -> Json:
        return answer(partners.revoke_partner(Caller.of(caller), partner_id, self.uow()))

    @command(shown_once=("api_key",))
    def rotate_partner_key(self, caller: Json, partner_id: str) -> Json:
        return answer(partners.rotate_partner_key(Caller.of(caller), partner_id, self.uow()))

    @command
    def block_partner(self, caller: Json, partner_id: str, request: Json | None = None) -> Json:
        cmd = parse_request(BlockSubject, request or {})
        return answer(partners.block_partner(Caller.of(caller), partner_id, cmd, self.uow()))

    @query
    def list_partners(self, caller: Json) -> list[Json]:
        return answer(partners.list_partners(Caller.of(caller), self.uow()))

    @query
    def get_partner(self, caller: Json, partner_id: str) -> Json:
        return answer(partners.get_partner(Caller.of(caller), partner_id, self.uow()))

    @command
    def publish_partner_output(self, caller: Json, request: Json) -> PartnerOutputShared:
        cmd = parse_request(PartnerOutput, request)
        return partners.publish_partner_output(Caller.of(caller), cmd, self.uow(), self._lookup())

    @command
    def retract_partner_output(self, caller: Json, output_id: str) -> PartnerOutputRetracted:
        return partners.retract_partner_output(Caller.of(caller), output_id, self.uow(), self._lookup())

    @query
    def published_outputs(self, caller: Json, query: Json) -> Json:
        return answer(partners.published_outputs(Caller.of(caller), parse_request(PublishedQuery, query), self.uow(),
                                                 self._lookup()))

    # --- feeds -----------------------------------------------------------------------------------------

    @query
    def feed(self, caller: Json, query: Json) -> Json:
        return answer(queries.feed_page(Caller.of(caller), parse_request(FeedQuery, query), self.uow(),
                                            self._lookup()))

    @query
    def feed_scope(self, caller: Json, network_ids: list[str]) -> list[str]:
        return queries.feed_scope(Caller.of(caller), list(network_ids), self.uow(), self._lookup())

    @query
    def log_after(self, caller: Json, query: Json) -> Json:
        return answer(queries.log_after(Caller.of(caller), parse_request(LogQuery, query), self.uow(),
                                            self._lookup()))

    @query
    def delivery_log(self, caller: Json, output_id: str) -> Json:
        return answer(queries.delivery_log(Caller.of(caller), output_id, self.uow()))

    @query
    def held_copy(self, caller: Json, output_id: str) -> Json:
        return answer(queries.held_copy(Caller.of(caller), output_id, self.uow()))

    @query
    def audit_entries(self, caller: Json, query: Json) -> Json:
        return answer(queries.audit_entries(Caller.of(caller), parse_request(AuditQuery, query), self.uow()))

    @query
    def health(self) -> Json:
        return answer(queries.health(self.uow()))

    # --- events ----------------------------------------------------------------------------------------

    @batch_event_handler("networks", "network.created")
    def on_network_created(self, envelope: Envelope, event: NetworkSnapshot, uow: FederationUoW) -> None:
        links.on_network_changed(event, uow)

    @batch_event_handler("networks", "network.updated")
    def on_network_updated(self, envelope: Envelope, event: NetworkSnapshot, uow: FederationUoW) -> None:
        links.on_network_changed(event, uow)

    @batch_event_handler("networks", "network.archived")
    def on_network_archived(self, envelope: Envelope, event: NetworkSnapshot, uow: FederationUoW) -> None:
        links.on_network_changed(event, uow)

    @batch_event_handler("sessions", "output.published")
    def on_output_published(self, envelope: Envelope, event: OutputPublished, uow: FederationUoW) -> None:
        sharing.on_output_published(event, uow)

    @batch_event_handler("sessions", "output.retracted")
    def on_output_retracted(self, envelope: Envelope, event: OutputRetracted, uow: FederationUoW) -> None:
        sharing.on_output_retracted(event, uow)

    @batch_event_handler("sessions", "output.attribution_changed")
    def on_output_attribution_changed(self, envelope: Envelope, event: OutputAttributionChanged,
                                      uow: FederationUoW) -> None:
        sharing.on_attribution_changed(event, uow)

    @batch_event_handler("members", "member.erased")
    def on_member_erased(self, envelope: Envelope, event: MemberErased, uow: FederationUoW) -> None:
        sharing.on_member_erased(event, uow)


SERVICE = FederationService
