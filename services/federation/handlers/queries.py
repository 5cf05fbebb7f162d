"""Reading feeds: a network's feed page by page, the log partners stream from, and the delivery log."""

from __future__ import annotations

from services.common.audit import AuditPage, AuditQuery, read_entries
from services.common.caller import Caller, require
from services.common.errors import NotFound, PermissionDenied, violation
from services.common.paging import decode_page_token, encode_page_token
from services.federation.domain import access
from services.federation.domain.copies import PUBLIC_FEED, tombstone, with_author_roles
from services.federation.log_pages import log_page, shared_log_page, shown
from services.federation.ports import FederationUoW, NetworkLookup
from services.federation.schemas import (
    DeliveryLog,
    DeliveryOut,
    FeedItem,
    FeedPage,
    FeedQuery,
    HeldCopy,
    LogPage,
    LogQuery,
    ServiceHealth,
    SharedLogPage,
)


def feed_page(caller: Caller, query: FeedQuery, uow: FederationUoW, lookup: NetworkLookup) -> FeedPage:
    """The network's feed in order of sharing; a retracted output appears as its tombstone. Authors carry their
    ``role`` code beside ``shown_as`` (clients say it in their language)."""
    after = int(decode_page_token(query.page_token, parts=1)[0]) if query.page_token else 0
    with uow:
        _require_feed_reader(caller, query.network_id, uow, lookup, "network_id")
        rows = uow.feeds.page(query.network_id, after, query.page_size + 1)
        if not rows and not query.page_token:
            _ensure_exists(uow, lookup, query.network_id)  # an unknown network is a 404, not an empty feed
    items = [FeedItem(position=r["position"], network_id=r["network_id"], delivered_at=r["delivered_at"],
                      backfill=r["backfill"], output=with_author_roles(shown(r))) for r in rows[: query.page_size]]
    more = len(rows) > query.page_size
    return FeedPage(items=items, next_page_token=encode_page_token(str(items[-1].position)) if more else None)


def feed_scope(caller: Caller, network_ids: list[str], uow: FederationUoW, lookup: NetworkLookup) -> list[str]:
    """The networks a stream or a feed head of ``caller`` covers: those asked for, each one the caller may read;
    none asked: all of a partner's own. The service that streams (the gateway) reads for every network and
    passes on only these."""
    with uow:
        if not network_ids and caller.kind == "partner":
            return sorted(caller.partner_networks)
        for index, network_id in enumerate(network_ids):
            _require_feed_reader(caller, network_id, uow, lookup, f"network_ids.{index}")
        return sorted(set(network_ids))


def log_after(caller: Caller, query: LogQuery, uow: FederationUoW,
              lookup: NetworkLookup) -> LogPage | SharedLogPage:
    """Entries after the cursor for the given networks (all of them only for a service: the gateway's hub). A
    share whose output was retracted since is passed over, its retraction entry follows; ``next_cursor`` moves
    past everything read, so a caller never reads the same entries twice."""
    if query.network_ids is None:
        require(caller.kind == "service", "give the networks to read")
        networks = None
    else:
        networks = feed_scope(caller, query.network_ids, uow, lookup)
    with uow:
        rows = uow.feeds.log_after(query.cursor, networks, query.limit)
    return shared_log_page(rows, query.cursor) if query.outputs_once else log_page(rows, query.cursor)


def delivery_log(caller: Caller, output_id: str, uow: FederationUoW) -> DeliveryLog:
    """Who received an output, and when its tombstone replaced it: for the coordinators of its network."""
    with uow:
        known = uow.outputs.get(output_id)
        if known is None:
            raise NotFound(f"output {output_id} not found")
        require(access.can_read_deliveries(caller, known.origin_network_id),
                f"you do not coordinate network {known.origin_network_id}")
        items = [DeliveryOut(network_id=r["network_id"], delivered_at=r["delivered_at"], backfill=r["backfill"],
                             tombstoned_at=r["tombstoned_at"]) for r in uow.feeds.deliveries_of(output_id)]
        return DeliveryLog(output_id=output_id, origin_network_id=known.origin_network_id, items=items)


def held_copy(caller: Caller, output_id: str, uow: FederationUoW) -> HeldCopy:
    """The output as it is in a feed ``caller`` may read (the people inside a network that received it, the
    partner owning such a network, the operator): its copy, or its tombstone once retracted. So a reader who sees
    a feed item can open its output (the sessions service asks here when the original is not for this reader)."""
    with uow:
        known = uow.outputs.get(output_id)
        if known is None:
            return HeldCopy()
        for row in uow.feeds.deliveries_of(output_id):
            network_id = row["network_id"]
            if access.can_read_feed(caller, network_id, uow.partners.owner_of(network_id)):
                if known.copy is None:
                    return HeldCopy(output=dict(tombstone(output_id, known.origin_network_id, known.retracted_at)))
                return HeldCopy(output=dict(known.copy))
        return HeldCopy()


def _require_feed_reader(caller: Caller, network_id: str, uow: FederationUoW, lookup: NetworkLookup,
                         field: str) -> None:
    owner = uow.partners.owner_of(network_id)
    if access.can_read_feed(caller, network_id, owner):
        return
    if caller.kind == "partner":
        _ensure_exists(uow, lookup, network_id)  # a partner is told an unknown network is unknown
        access.require_acts_for(caller, network_id, owner, field)
    raise PermissionDenied(f"you are not inside network {network_id}")


def _ensure_exists(uow: FederationUoW, lookup: NetworkLookup, network_id: str) -> None:
    if network_id == PUBLIC_FEED:
        return
    if uow.read_models.network(network_id) is None and lookup.get(network_id) is None:
        raise NotFound(f"network {network_id} not found", [violation("network_id", "exists", "no such network")])


def audit_entries(caller: Caller, query: AuditQuery, uow: FederationUoW) -> AuditPage:
    """A page of the federation's audit log: the operator's only."""
    with uow:
        return read_entries(caller, query, uow.audit, "federation")


def health(uow: FederationUoW) -> ServiceHealth:
    with uow:
        uow.ping()
        return ServiceHealth(service="federation", database="ok")
