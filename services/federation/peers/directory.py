"""The directory of a peer instance: the networks its partner API lists, read by the relay
(:mod:`services.federation.relay.directory`) and kept here in sync, and the operator's approval of which of them
may link with networks of this instance.

A network the peer lists appears ``offered``. The operator approves it: it then becomes one of the networks of
the peer's partner here (the partner of kind instance with its instance id), exactly as a network typed into
``remote_networks`` when registering the partner, so its key may stream, publish and link for it. A rename or a
new theme there is applied here at the next reading (to the approved network too). A network the peer no longer
lists (archived there, or gone) is ``withdrawn``: if it was approved, it leaves the partner's networks and is
kept as archived, so no new link with it is accepted and nothing flows through its existing links (which stay,
as for an archived network of this instance). Listed again, it is offered again, to be approved again.
Reading the same directory twice changes nothing and records no event.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from services.common.caller import Caller
from services.common.catalogue import PartnerNetworksChanged
from services.common.errors import Conflict, NotFound, violation
from services.federation.domain import access
from services.federation.partners.handlers import record_partner
from services.federation.partners.ports import PartnerRow
from services.federation.peers.handlers import PEERS_ARE_THE_OPERATORS, check_remote_network
from services.federation.peers.ports import PeerNetworkRow
from services.federation.peers.schemas import (
    DirectoryNetwork,
    DirectorySynced,
    PeerNetworkOut,
    PeerNetworkQuery,
    SyncPeerDirectory,
)
from services.federation.ports import FederationUoW, NetworkLookup

DESCRIBED = ("name", "theme", "level", "kind")  # what a reading of the directory updates in place


def now() -> datetime:
    return datetime.now(UTC)


# --- the relay's readings ------------------------------------------------------------------------------------------


def held_directory(instance_id: str, uow: FederationUoW) -> list[str]:
    """The ids of the peer's networks held here as listed there (offered or approved): the relay asks the peer
    about those it no longer lists, to tell archived from gone."""
    with uow:
        return [n["network_id"] for n in uow.peer_directory.of_instance(instance_id) if n["status"] != "withdrawn"]


def sync_peer_directory(instance_id: str, cmd: SyncPeerDirectory, uow: FederationUoW) -> DirectorySynced:
    """Bring the peer's directory here in line with what the relay just read there (its whole directory)."""
    with uow:
        if uow.peers.get(instance_id) is None:
            raise NotFound(f"peer {instance_id} is not configured here")
        at = now()
        partner = uow.partners.of_instance(instance_id)
        owned = set(partner["network_ids"]) if partner is not None else set()
        held = {n["network_id"]: n for n in uow.peer_directory.of_instance(instance_id)}
        read = {n.id: n for n in cmd.networks}
        added = changed = unchanged = 0
        dropped: list[str] = []  # approved networks withdrawn by the peer: they leave the partner's networks
        for network_id, network in read.items():
            entry = held.get(network_id)
            if network.status == "archived":
                if entry is None or entry["status"] == "withdrawn":
                    unchanged += entry is not None
                    continue
                changed += 1
                dropped += _withdraw(uow, entry, "archived", owned, at)
                continue
            listed = "approved" if network_id in owned else "offered"
            described = _described(network)
            if entry is None:
                added += 1
                uow.peer_directory.add(PeerNetworkRow(
                    instance_id=instance_id, network_id=network_id, status=listed, withdrawn_reason=None,
                    first_seen_at=at, last_seen_at=at, changed_at=at, approved_at=at if listed == "approved" else None,
                    **described))  # type: ignore[typeddict-item]
                continue
            differs = {k: v for k, v in described.items() if entry[k] != v}  # type: ignore[literal-required]
            if entry["status"] != listed:
                differs.update(status=listed, withdrawn_reason=None,
                               approved_at=at if listed == "approved" else None)
            if differs:
                changed += 1
                uow.peer_directory.change(instance_id, network_id, last_seen_at=at, changed_at=at, **differs)
                if listed == "approved" and set(differs) & set(DESCRIBED):
                    uow.remote_networks.put(instance_id, {"id": network_id, **described})
            else:
                unchanged += 1
                uow.peer_directory.change(instance_id, network_id, last_seen_at=at)
        for network_id, entry in held.items():
            if network_id not in read and entry["status"] != "withdrawn":
                changed += 1
                dropped += _withdraw(uow, entry, "gone", owned, at)
        if dropped and partner is not None:
            uow.partners.set_networks(partner["id"], sorted(owned - set(dropped)))
            record_partner(uow, PartnerNetworksChanged, partner["id"])
        uow.commit()
        return DirectorySynced(added=added, changed=changed, unchanged=unchanged)


def _described(network: DirectoryNetwork) -> dict[str, Any]:
    return {"name": network.name, "theme": network.theme,
            "level": network.level.value if network.level else None,
            "kind": network.kind.value if network.kind else None}


def _withdraw(uow: FederationUoW, entry: PeerNetworkRow, reason: str, owned: set[str], at: datetime) -> list[str]:
    """Mark the entry withdrawn; an approved network stops taking part here. The ids the partner must drop."""
    uow.peer_directory.change(entry["instance_id"], entry["network_id"], status="withdrawn", withdrawn_reason=reason,
                              approved_at=None, changed_at=at)
    if entry["network_id"] not in owned:
        return []
    uow.remote_networks.close(entry["network_id"])
    return [entry["network_id"]]


# --- the operator's view and approval -------------------------------------------------------------------------------


def list_peer_networks(caller: Caller, instance_id: str, query: PeerNetworkQuery,
                       uow: FederationUoW) -> list[PeerNetworkOut]:
    access.require_operator(caller, PEERS_ARE_THE_OPERATORS)
    with uow:
        _peer_exists(uow, instance_id)
        partner = uow.partners.of_instance(instance_id)
        return [_view(n, partner) for n in uow.peer_directory.of_instance(instance_id)
                if query.status is None or n["status"] == query.status]


def approve_peer_network(caller: Caller, instance_id: str, network_id: str, uow: FederationUoW,
                         lookup: NetworkLookup) -> PeerNetworkOut:
    """The network may link here: it joins the networks of the peer's partner (as ``remote_networks`` do when the
    partner is registered). Approving an approved network changes nothing."""
    access.require_operator(caller, PEERS_ARE_THE_OPERATORS)
    with uow:
        entry = _entry(uow, instance_id, network_id)
        if entry["status"] == "approved":
            return _view(entry, uow.partners.of_instance(instance_id))
        if entry["status"] == "withdrawn":
            raise Conflict(f"network {network_id} was withdrawn by {instance_id} ({entry['withdrawn_reason']})",
                           [violation("network_id", "offered", "only a network the peer lists now can be approved")])
        partner = _partner_of(uow, instance_id)
        check_remote_network(uow, lookup, network_id, "network_id")
        at = now()
        uow.partners.set_networks(partner["id"], sorted({*partner["network_ids"], network_id}))
        uow.remote_networks.put(instance_id, {"id": network_id, "name": entry["name"], "theme": entry["theme"],
                                              "level": entry["level"], "kind": entry["kind"]})
        uow.peer_directory.change(instance_id, network_id, status="approved", approved_at=at, changed_at=at)
        record_partner(uow, PartnerNetworksChanged, partner["id"])
        uow.commit()
        return _view(_entry(uow, instance_id, network_id), partner)


def withdraw_approval(caller: Caller, instance_id: str, network_id: str, uow: FederationUoW) -> PeerNetworkOut:
    """The network may no longer link here: it leaves the partner's networks and is kept as archived (its
    existing links stay, carrying nothing; no new one is accepted). It stays offered, to be approved again."""
    access.require_operator(caller, PEERS_ARE_THE_OPERATORS)
    with uow:
        entry = _entry(uow, instance_id, network_id)
        partner = uow.partners.of_instance(instance_id)
        if entry["status"] != "approved":
            return _view(entry, partner)
        at = now()
        uow.peer_directory.change(instance_id, network_id, status="offered", approved_at=None, changed_at=at)
        uow.remote_networks.close(network_id)
        if partner is not None and network_id in partner["network_ids"]:
            uow.partners.set_networks(partner["id"], [n for n in partner["network_ids"] if n != network_id])
            record_partner(uow, PartnerNetworksChanged, partner["id"])
        uow.commit()
        return _view(_entry(uow, instance_id, network_id), partner)


def _peer_exists(uow: FederationUoW, instance_id: str) -> None:
    if uow.peers.get(instance_id) is None:
        raise NotFound(f"peer {instance_id} not found",
                       [violation("instance_id", "exists", "no such peer (POST /v1/peers configures one)")])


def _entry(uow: FederationUoW, instance_id: str, network_id: str) -> PeerNetworkRow:
    _peer_exists(uow, instance_id)
    entry = uow.peer_directory.get(instance_id, network_id)
    if entry is None:
        raise NotFound(f"network {network_id} is not in the directory of {instance_id}",
                       [violation("network_id", "exists", "not listed by the peer (the relay reads its directory "
                                                          "on start and periodically)")])
    return entry


def _partner_of(uow: FederationUoW, instance_id: str) -> PartnerRow:
    partner = uow.partners.of_instance(instance_id)
    if partner is None:
        raise Conflict(f"instance {instance_id} is not registered as a partner here",
                       [violation("instance_id", "registered_partner",
                                  "register the instance first: POST /v1/partners with kind instance and its "
                                  "instance_id")])
    if partner["status"] == "blocked":
        raise Conflict(f"the partner of instance {instance_id} is blocked",
                       [violation("instance_id", "not_blocked", "its partner here is blocked")])
    return partner


def _view(row: PeerNetworkRow, partner: PartnerRow | None) -> PeerNetworkOut:
    return PeerNetworkOut.model_validate({**row, "partner_id": partner["id"] if partner is not None else None})
