"""Between instances, the configuration side: another instance registered as a partner of kind instance (with
the networks it hosts), the peers this instance follows (address and the key the peer issued), the state the
relay reports, and how far behind a reader of the feed log is."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime

from services.common.audit import Subject
from services.common.caller import Caller
from services.common.catalogue import PartnerRegistered
from services.common.errors import Conflict, NotFound, violation
from services.federation.domain import access
from services.federation.partners.handlers import KEY_PREFIX, _view, _written, hash_key, record_partner
from services.federation.peers.ports import PeerConfig, PeerRow
from services.federation.peers.schemas import (
    ConfigurePeer,
    FeedHead,
    PeerContact,
    PeerOut,
    PeerState,
    PeerTransport,
    RelayPeer,
    ReportPeerState,
    SkippedEntry,
)
from services.federation.ports import FederationUoW, NetworkLookup
from services.federation.schemas import PartnerKey, RegisterPartner

PEERS_ARE_THE_OPERATORS = "only the operator manages peer instances"

def now() -> datetime:
    return datetime.now(UTC)


def register_instance(caller: Caller, cmd: RegisterPartner, uow: FederationUoW, lookup: NetworkLookup) -> PartnerKey:
    """Another Kring instance as a partner: its networks join this instance's directory of federation networks
    (marked with its instance id), owned by the partner, so its key may publish, stream and link for them. Without
    ``remote_networks`` it owns none yet: the operator approves them from the peer's directory
    (:mod:`services.federation.peers.directory`)."""
    access.require_operator(caller)
    assert cmd.instance_id is not None
    with uow:
        if uow.partners.of_instance(cmd.instance_id) is not None:
            raise Conflict(f"instance {cmd.instance_id} already has a partner here: rotate its key instead",
                           [violation("instance_id", "unique", "one partner per instance")])
        for index, network in enumerate(cmd.remote_networks):
            check_remote_network(uow, lookup, network.id, f"remote_networks.{index}.id")
        key, partner_id = KEY_PREFIX + secrets.token_urlsafe(32), str(uuid.uuid4())
        network_ids = sorted({n.id for n in cmd.remote_networks})
        uow.partners.add(partner_id, cmd.name, hash_key(key), network_ids, now(), kind="instance",
                         instance_id=cmd.instance_id)
        for network in cmd.remote_networks:
            uow.remote_networks.put(cmd.instance_id, network.model_dump(mode="json"))
        record_partner(uow, PartnerRegistered, partner_id)
        uow.audit.record("partner.registered", caller, Subject.partner(partner_id),
                         detail={"kind": "instance", "instance_id": cmd.instance_id, "network_ids": network_ids})
        uow.commit()
        return PartnerKey(api_key=key, **_view(_written(uow, partner_id)).model_dump())


def check_remote_network(uow: FederationUoW, lookup: NetworkLookup, network_id: str, field: str) -> None:
    """A network of another instance may join the directory of federation networks here, owned by that instance's
    partner: it is not one of this instance's, and no partner owns it yet (``remote_networks`` given when the
    partner is registered, or a network of a peer's directory approved)."""
    hosted_here = uow.read_models.network(network_id) is not None and \
        uow.remote_networks.instance_of(network_id) is None
    if hosted_here or lookup.get(network_id) is not None:
        raise Conflict(f"network {network_id} is a network of this instance",
                       [violation(field, "remote", "a network of this instance")])
    if uow.partners.owner_of(network_id):
        raise Conflict(f"network {network_id} already belongs to a partner",
                       [violation(field, "unowned", "each network has one partner at most")])


def configure_peer(caller: Caller, cmd: ConfigurePeer, uow: FederationUoW,
                   lookup: NetworkLookup) -> tuple[PeerOut, bool]:
    """Add a peer, or change how it is reached (its cursor stays). True when it is new."""
    access.require_operator(caller, PEERS_ARE_THE_OPERATORS)
    with uow:
        for index, network_id in enumerate(cmd.local_network_ids or []):
            if uow.remote_networks.instance_of(network_id) is not None:
                raise Conflict(f"network {network_id} is hosted by another instance",
                               [violation(f"local_network_ids.{index}", "local", "not a network of this instance")])
            if uow.read_models.network(network_id) is None and lookup.get(network_id) is None:
                raise NotFound(f"network {network_id} not found",
                               [violation(f"local_network_ids.{index}", "exists", "no such network")])
        config = PeerConfig(name=cmd.name, address=cmd.address, api_key=cmd.api_key,
                            transport=cmd.transport.model_dump(mode="json"), network_ids=cmd.local_network_ids)
        created = uow.peers.get(cmd.instance_id) is None
        if created:
            uow.peers.add(cmd.instance_id, config, now())
        else:
            uow.peers.reconfigure(cmd.instance_id, config, now())
        uow.audit.record("peer.configured", caller, Subject.instance(cmd.instance_id),
                         detail={"status": "added" if created else "changed", "transport": cmd.transport.mode,
                                 "network_ids": sorted(cmd.local_network_ids or [])})
        uow.commit()
        configured = uow.peers.get(cmd.instance_id)
        assert configured is not None, cmd.instance_id  # added or changed just above
        return peer_view(configured), created


def list_peers(caller: Caller, uow: FederationUoW) -> list[PeerOut]:
    access.require_operator(caller, PEERS_ARE_THE_OPERATORS)
    with uow:
        return [peer_view(p) for p in uow.peers.all()]


def get_peer(caller: Caller, instance_id: str, uow: FederationUoW) -> PeerOut:
    access.require_operator(caller, PEERS_ARE_THE_OPERATORS)
    with uow:
        return peer_view(_get(uow, instance_id))


def remove_peer(caller: Caller, instance_id: str, uow: FederationUoW) -> None:
    """Stop following the peer (the relay lets go at its next reload); links and what arrived stay."""
    access.require_operator(caller, PEERS_ARE_THE_OPERATORS)
    with uow:
        if not uow.peers.remove(instance_id):
            raise NotFound(f"peer {instance_id} not found")
        uow.peer_links.forget_instance(instance_id)
        uow.audit.record("peer.removed", caller, Subject.instance(instance_id))
        uow.commit()


def relay_peers(uow: FederationUoW) -> list[RelayPeer]:
    with uow:
        return [RelayPeer(instance_id=p["instance_id"], name=p["name"], address=p["address"], api_key=p["api_key"],
                          transport=PeerTransport.model_validate(p["transport"]),
                          local_network_ids=p["network_ids"], cursor=p["cursor"],
                          config_revision=p["config_revision"]) for p in uow.peers.all()]


def peer_contact(instance_id: str, uow: FederationUoW) -> PeerContact:
    with uow:
        peer = uow.peers.get(instance_id)
        if peer is None:
            raise NotFound(f"peer {instance_id} is not configured here")
        return PeerContact(address=peer["address"], api_key=peer["api_key"],
                           transport=PeerTransport.model_validate(peer["transport"]))


def report_peer_state(instance_id: str, cmd: ReportPeerState, uow: FederationUoW) -> bool:
    """The relay's view of a peer; False when the peer is no longer configured."""
    with uow:
        state = PeerState(**cmd.model_dump(), updated_at=now()).model_dump(mode="json")
        reported = uow.peers.report(instance_id, state)
        uow.commit()
        return reported


def log_head(network_ids: list[str], cursor: int, uow: FederationUoW) -> FeedHead:
    with uow:
        if not network_ids:
            return FeedHead(head_cursor=0, pending=0)
        return FeedHead(head_cursor=uow.feed_heads.head(network_ids),
                        pending=uow.feed_heads.pending(network_ids, cursor))


def peer_view(row: PeerRow) -> PeerOut:
    return PeerOut(instance_id=row["instance_id"], name=row["name"], address=row["address"],
                   transport=PeerTransport.model_validate(row["transport"]),
                   local_network_ids=row["network_ids"], cursor=row["cursor"], last_ingest_at=row["last_ingest_at"],
                   refused_entries=row["refused_entries"],
                   skipped=[SkippedEntry.model_validate(s) for s in row["skipped"] or []],
                   state=PeerState.model_validate(row["state"] or {}), created_at=row["created_at"],
                   changed_at=row["changed_at"])


def _get(uow: FederationUoW, instance_id: str) -> PeerRow:
    peer = uow.peers.get(instance_id)
    if peer is None:
        raise NotFound(f"peer {instance_id} not found")
    return peer
