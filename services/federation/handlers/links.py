"""Link commands: request, accept, reject, revoke, set a policy, block; and the hierarchy's links, which
follow each network's parent."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from services.common.audit import AuditAction, Subject
from services.common.caller import Caller, require
from services.common.catalogue import NetworkBlocked, NetworkSnapshot
from services.common.errors import NotFound, PermissionDenied, ValidationFailed, violation
from services.common.vocabulary import LinkStatus
from services.federation.domain import access
from services.federation.domain.links import OPEN, Link, LinkKind, policy_from, policy_to_wire
from services.federation.handlers.sharing import backfill
from services.federation.ports import FederationUoW, NetworkLookup, NetworkValues
from services.federation.schemas import AcceptLink, BlockSubject, LinkOut, LinkRequested, RequestLink, SetLinkPolicy


def now() -> datetime:
    return datetime.now(UTC)


def request_link(caller: Caller, cmd: RequestLink, uow: FederationUoW, lookup: NetworkLookup, *,
                 across: bool = False) -> LinkRequested:
    """Ask to link two networks; asking again while a link between them is open returns that link. A network
    of this instance asks one of another instance's only ``across`` instances (peers/links.py), so that the
    other instance is asked too."""
    with uow:
        owner = uow.partners.owner_of(cmd.requester_network_id)
        if caller.kind == "partner" and not access.acts_for(caller, cmd.requester_network_id, owner):
            _ensure_exists(uow, lookup, "requester_network_id", cmd.requester_network_id)
        access.require_acts_for(caller, cmd.requester_network_id, owner, "requester_network_id")
        for field, network_id in (("requester_network_id", cmd.requester_network_id),
                                  ("target_network_id", cmd.target_network_id)):
            _ensure_linkable(uow, lookup, field, network_id)
        if not across and uow.remote_networks.instance_of(cmd.target_network_id) is not None \
                and uow.remote_networks.instance_of(cmd.requester_network_id) is None:
            raise ValidationFailed.single("target_network_id", "peer_required",
                                          "a network of another instance: ask with peer set to its instance id")
        existing = uow.links.open_between(cmd.requester_network_id, cmd.target_network_id)
        if existing:
            return LinkRequested(link=link_view(existing), created=False)
        link = Link.request(str(uuid.uuid4()), LinkKind.PEER, cmd.requester_network_id, cmd.target_network_id,
                            now=now(), policy=policy_from(cmd.policy))
        uow.links.add(link)
        uow.commit()
        return LinkRequested(link=link_view(link), created=True)


def accept_link(caller: Caller, link_id: str, cmd: AcceptLink, uow: FederationUoW) -> LinkOut:
    with uow:
        link = _get(uow, link_id)
        require(access.can_answer_link(caller, link.target),
                "only the asked network's coordinators (or the operator) accept")
        if uow.blocks.networks() & {link.requester, link.target}:
            raise PermissionDenied("a blocked network cannot link", [violation("link_id", "not_blocked", "blocked")])
        link.accept(now=now(), policy=policy_from(cmd.policy) if cmd.policy else None)
        uow.links.save(link)
        backfill(uow, link)
        audit_link(uow, "link.accepted", caller, link, link.target)
        uow.commit()
        return link_view(link)


def reject_link(caller: Caller, link_id: str, uow: FederationUoW) -> LinkOut:
    def reject(link: Link) -> None:
        require(access.can_answer_link(caller, link.target),
                "only the asked network's coordinators (or the operator) reject")
        link.reject(now=now())
        audit_link(uow, "link.rejected", caller, link, link.target)
    return _change(link_id, uow, reject)


def revoke_link(caller: Caller, link_id: str, uow: FederationUoW) -> LinkOut:
    def revoke(link: Link) -> None:
        require(access.can_read_link(caller, _sides(uow, link)), "you coordinate neither side of this link")
        link.revoke(now=now())
        audit_link(uow, "link.revoked", caller, link, _side_of(caller, link))
    return _change(link_id, uow, revoke)


def set_link_policy(caller: Caller, link_id: str, cmd: SetLinkPolicy, uow: FederationUoW) -> LinkOut:
    def set_policy(link: Link) -> None:
        require(access.can_read_link(caller, _sides(uow, link)), "you coordinate neither side of this link")
        if cmd.network_id not in (link.requester, link.target):
            raise ValidationFailed.single("network_id", "side_of_link", "the network is not a side of this link")
        require(access.can_set_link_policy(caller, cmd.network_id), f"you do not coordinate network {cmd.network_id}")
        link.set_policy(cmd.network_id, policy_from(cmd.policy), now=now())
        audit_link(uow, "link.policy_set", caller, link, cmd.network_id,
                   visibilities=sorted(v.value for v in cmd.policy.visibilities or []),
                   themes_count=len(cmd.policy.themes or []))
    return _change(link_id, uow, set_policy)


def get_link(caller: Caller, link_id: str, uow: FederationUoW) -> LinkOut:
    with uow:
        link = _get(uow, link_id)
        require(access.can_read_link(caller, _sides(uow, link)),
                "this link does not involve any of your networks" if caller.kind == "partner"
                else "you coordinate neither side of this link")
        return link_view(link)


def list_links(caller: Caller, network_id: str, status: str | None, uow: FederationUoW) -> list[LinkOut]:
    require(access.can_list_links(caller, network_id), f"you do not coordinate network {network_id}")
    with uow:
        statuses = [LinkStatus(status)] if status else None
        return [link_view(link) for link in uow.links.of_network(network_id, statuses)]


def block_network(caller: Caller, network_id: str, cmd: BlockSubject, uow: FederationUoW,
                  lookup: NetworkLookup) -> list[LinkOut]:
    """End every open link of the network, and keep it out of every audience from now on."""
    access.require_operator(caller)
    with uow:
        _ensure_exists(uow, lookup, "network_id", network_id)  # a typo is a 404, not a block of nothing
        if uow.blocks.add("network", network_id, cmd.reason, now()):
            uow.add_event(NetworkBlocked(network_id=network_id, blocked_at=now()))
        ended = _block_links(uow, network_id)
        # the reason is words an operator typed: not in the log (it stays with the block)
        uow.audit.record("network.blocked", caller, Subject.network(network_id), detail={"links_ended": len(ended)})
        uow.commit()
        return [link_view(link) for link in ended]


def _block_links(uow: FederationUoW, network_id: str) -> list[Link]:
    ended = uow.links.of_network(network_id, list(OPEN))
    for link in ended:
        link.block(now=now())
        uow.links.save(link)
    return ended


def on_network_changed(event: NetworkSnapshot, uow: FederationUoW) -> None:
    """Keep the read model, and the parent/child link, in step with the network's parent."""
    values = NetworkValues(name=event.name, theme=event.theme, status=event.status.value, parent_id=event.parent_id)
    held = uow.read_models.network(event.network_id)
    if not uow.read_models.apply_network(event.network_id, event.revision, values):
        return  # an older snapshot than the one held
    if held is not None and held.parent_id == event.parent_id:
        return  # the parent did not change: its link stays as it is, a revoked or blocked one too
    current = uow.links.parent_link_of(event.network_id)
    if current is not None and current.requester != event.parent_id:
        current.revoke(now=now())
        uow.links.save(current)
        current = None
    blocked = uow.blocks.networks() & {event.parent_id, event.network_id}
    if current is None and event.parent_id and not blocked:
        link = Link.request(str(uuid.uuid4()), LinkKind.PARENT_CHILD, event.parent_id, event.network_id,
                            now=now(), active=True)
        uow.links.add(link)
        backfill(uow, link)


def link_view(link: Link) -> LinkOut:
    return LinkOut(link_id=link.id, kind=link.kind.value, requester_network_id=link.requester,
                   target_network_id=link.target, status=link.status.value,
                   requester_policy=policy_to_wire(link.requester_policy),
                   target_policy=policy_to_wire(link.target_policy), requested_at=link.requested_at,
                   updated_at=link.updated_at, revision=link.revision)


def audit_link(uow: FederationUoW, action: AuditAction, caller: Caller, link: Link, side: str | None,
               *, for_instance: str | None = None, **detail: str | int | bool | list[str]) -> None:
    """Record a change of a link, made by ``caller`` for the network ``side`` (a coordinator's or a partner's; the
    operator acts for neither), or by a service following another instance (``for_instance``)."""
    acted_for = Subject.instance(for_instance) if for_instance is not None else \
        Subject.network(side) if side is not None and caller.kind in ("member", "partner") else None
    uow.audit.record(action, caller, Subject.link(link.id), on_behalf_of=acted_for,
                     detail={"status": link.status.value, "requester_network_id": link.requester,
                             "target_network_id": link.target, **detail})


def _side_of(caller: Caller, link: Link) -> str | None:
    """The side of the link the caller acted for: one they coordinate, or their partner's."""
    for side in (link.requester, link.target):
        if side in caller.administers or side in caller.partner_networks:
            return side
    return None


def _change(link_id: str, uow: FederationUoW, change: Callable[[Link], None]) -> LinkOut:
    with uow:
        link = _get(uow, link_id)
        change(link)
        uow.links.save(link)
        uow.commit()
        return link_view(link)


def _sides(uow: FederationUoW, link: Link) -> list[tuple[str, str | None]]:
    """Each side of the link with the partner it is registered to, if any."""
    return [(side, uow.partners.owner_of(side)) for side in (link.requester, link.target)]


def _ensure_exists(uow: FederationUoW, lookup: NetworkLookup, field: str, network_id: str) -> None:
    if uow.read_models.network(network_id) is None and lookup.get(network_id) is None:
        raise NotFound(f"network {network_id} not found", [violation(field, "exists", "no such network")])


def _get(uow: FederationUoW, link_id: str) -> Link:
    link = uow.links.get(link_id)
    if link is None:
        raise NotFound(f"link {link_id} not found")
    return link


def _ensure_linkable(uow: FederationUoW, lookup: NetworkLookup, field: str, network_id: str) -> None:
    if uow.blocks.is_blocked("network", network_id):
        raise PermissionDenied(f"network {network_id} is blocked", [violation(field, "not_blocked", "blocked")])
    known = uow.read_models.network(network_id)
    status = known.status if known is not None else (lookup.get(network_id) or {}).get("status")
    if status is None:
        raise NotFound(f"network {network_id} not found", [violation(field, "exists", "no such network")])
    if status != "active":
        raise ValidationFailed.single(field, "active", "the network is archived")
