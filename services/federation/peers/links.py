"""Links whose other side is on a peer instance.

A coordinator here asks to link one of this instance's networks with one of the peer's (a network the peer's
partner owns here). This instance keeps its copy of the link, ``requested``; the gateway asks the peer for its
side (the peer's ``RequestLink``) and attaches the id the peer gave it. The peer's coordinator answers there;
the relay reads the peer's copy (``GetLink``) and makes ours follow: accepted there → active here (with the
usual backfill, and the peer side's policy), rejected, revoked or blocked there → the same here.
"""

from __future__ import annotations

from datetime import UTC, datetime

from services.common.audit import AuditAction
from services.common.caller import Caller
from services.common.errors import NotFound, ValidationFailed, violation
from services.common.vocabulary import LinkStatus
from services.federation.domain import access
from services.federation.domain.crossing import follow_remote
from services.federation.domain.links import OPEN, Link, policy_from
from services.federation.handlers.links import audit_link, link_view, request_link
from services.federation.handlers.sharing import backfill
from services.federation.peers.schemas import OpenPeerLink, PeerLinkStart, RemoteLink, RequestPeerLink
from services.federation.ports import FederationUoW, NetworkLookup
from services.federation.schemas import LinkOut, RequestLink

# The relay follows a peer's answer on this instance's behalf: the audit log records it as that service.
RELAY = Caller.internal("relay")
WITHDRAWN = Caller.internal("federation")
FOLLOWED: dict[str, AuditAction] = {"accept": "link.accepted", "reject": "link.rejected", "revoke": "link.revoked"}


def now() -> datetime:
    return datetime.now(UTC)


def begin_peer_link(caller: Caller, cmd: RequestPeerLink, uow: FederationUoW, lookup: NetworkLookup) -> PeerLinkStart:
    """Our copy of the link (an open one between the two networks if there is one).
    ``remote_link_id`` is None while the peer has not been asked; ``call_peer`` is False when the peer asked
    first (accept its request here instead)."""
    access.require_acts_for(caller, cmd.requester_network_id, None, "requester_network_id")
    with uow:
        peer = uow.peers.get(cmd.peer)
        if peer is None:
            raise NotFound(f"peer {cmd.peer} is not configured here",
                           [violation("peer", "exists", "no such peer (POST /v1/peers configures one)")])
        partner = uow.partners.of_instance(cmd.peer)
        if partner is None or cmd.target_network_id not in partner["network_ids"]:
            raise ValidationFailed.single("target_network_id", "peer_network",
                                          f"not one of {cmd.peer}'s networks registered here")
        if uow.remote_networks.instance_of(cmd.requester_network_id) is not None:
            raise ValidationFailed.single("requester_network_id", "local", "not a network of this instance")
    link = request_link(caller, RequestLink(requester_network_id=cmd.requester_network_id,
                                            target_network_id=cmd.target_network_id, policy=cmd.policy),
                        uow, lookup, across=True).link
    with uow:
        held = uow.peer_links.get(link.link_id)
    return PeerLinkStart(link=link, remote_link_id=held["remote_link_id"] if held else None,
                         call_peer=link.requester_network_id == cmd.requester_network_id)


def attach_peer_link(link_id: str, instance_id: str, remote: RemoteLink, uow: FederationUoW) -> LinkOut:
    """Remember the peer's id for its copy, and follow its status at once (asking again may find it active)."""
    with uow:
        _get(uow, link_id)
        uow.peer_links.attach(link_id, instance_id, remote.link_id, remote.status, now())
        uow.commit()
    return follow_peer_link(link_id, remote, uow)


def abandon_peer_link(link_id: str, uow: FederationUoW) -> LinkOut:
    """The peer refused or could not be asked: revoke our requested copy, unless the peer holds its side."""
    with uow:
        link = _get(uow, link_id)
        if link.status == LinkStatus.REQUESTED and uow.peer_links.get(link_id) is None:
            link.revoke(now=now())
            uow.links.save(link)
            # the other instance refused the request, or could not be asked: this instance withdraws it
            audit_link(uow, "link.revoked", WITHDRAWN, link, None, from_peer=True,
                       for_instance=uow.remote_networks.instance_of(link.target))
            uow.commit()
        return link_view(link)


def open_peer_links(instance_id: str, uow: FederationUoW) -> list[OpenPeerLink]:
    with uow:
        found = []
        for row in uow.peer_links.of_instance(instance_id):
            link = uow.links.get(row["link_id"])
            if link is not None and link.status in OPEN:
                found.append(OpenPeerLink(link_id=link.id, remote_link_id=row["remote_link_id"],
                                          status=link.status.value, remote_status=row["remote_status"]))
        return found


def follow_peer_link(link_id: str, remote: RemoteLink, uow: FederationUoW) -> LinkOut:
    """Make our copy follow the peer's: the peer's network is the target of a link asked from here."""
    with uow:
        link = _get(uow, link_id)
        action, before = follow_remote(link.status.value, remote.status), link.status.value
        remote_policy = policy_from(remote.target_policy) if remote.target_policy else None
        changed = action != "accept"
        if action == "accept" and not uow.blocks.networks() & {link.requester, link.target}:
            link.accept(now=now(), policy=remote_policy)
            uow.links.save(link)
            backfill(uow, link)
        elif action == "reject":
            link.reject(now=now())
        elif action == "revoke":
            link.revoke(now=now())
        elif action == "block":
            link.block(now=now())
        elif link.status == LinkStatus.ACTIVE and remote_policy is not None and remote_policy != link.target_policy:
            link.set_policy(link.target, remote_policy, now=now())
        else:
            changed = False
        if changed:  # an acceptance is saved above
            uow.links.save(link)
        if action in FOLLOWED and link.status.value != before:
            # the peer's side answered there: recorded here as the relay following it
            held = uow.peer_links.get(link_id)
            audit_link(uow, FOLLOWED[action], RELAY, link, None, from_peer=True,
                       for_instance=held["instance_id"] if held is not None else None)
        uow.peer_links.seen(link_id, remote.status, now())
        uow.commit()
        return link_view(link)


def _get(uow: FederationUoW, link_id: str) -> Link:
    link = uow.links.get(link_id)
    if link is None:
        raise NotFound(f"link {link_id} not found")
    return link
