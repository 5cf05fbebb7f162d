"""Who may do what with links, blocks, partners, peers, feeds and delivery logs: plain functions of a
:class:`Caller` and what the service holds.

A link is a matter between two networks: the requesting network's coordinator (or the partner the network is
registered to) asks, the target network's coordinator accepts or rejects, either side's coordinator (or partner)
reads it and revokes it, and each side's coordinator sets the policy for what flows *from* their side. The
operator may do each of these too (``Caller.coordinates``); a partner never accepts or rejects. A partner acts for its
own networks only: for a network that does not exist it is told so (not found), for another's that it is not
its own (permission denied). Blocking a network, and everything about partners and peer instances, is the
operator's. A network's feed is for the people inside it and for the partner it is registered to; an output's
delivery log for the coordinators of the network it came from.
"""

from __future__ import annotations

from collections.abc import Iterable

from services.common.caller import Caller, require
from services.common.errors import PermissionDenied, violation

OPERATOR_ONLY = "only the operator manages partners, peers and blocks"


def acts_for(caller: Caller, network_id: str, owner: str | None) -> bool:
    """The network's coordinator (or the operator), or the partner the network is registered to (``owner``)."""
    return caller.coordinates(network_id) or (caller.kind == "partner" and owner == caller.partner_id)


def require_acts_for(caller: Caller, network_id: str, owner: str | None, field: str) -> None:
    if not acts_for(caller, network_id, owner):
        who = "one of your networks" if caller.kind == "partner" else "a network you coordinate"
        raise PermissionDenied(f"network {network_id} is not {who}",
                               [violation(field, "own_network", f"not {who}")])


def can_read_link(caller: Caller, sides: Iterable[tuple[str, str | None]]) -> bool:
    """Either side's coordinator, or the partner of either side; ``sides``: (network id, its partner)."""
    return any(acts_for(caller, network_id, owner) for network_id, owner in sides)


def can_answer_link(caller: Caller, target_network_id: str) -> bool:
    """Accept or reject: the coordinators of the side that was asked, or the operator; never a partner."""
    return caller.coordinates(target_network_id)


def can_set_link_policy(caller: Caller, network_id: str) -> bool:
    """``network_id``: the side whose outgoing flow the policy governs."""
    return caller.coordinates(network_id)


def can_list_links(caller: Caller, network_id: str) -> bool:
    return caller.coordinates(network_id)


def require_operator(caller: Caller, message: str = OPERATOR_ONLY) -> None:
    require(caller.operator, message)


def can_read_feed(caller: Caller, network_id: str, owner: str | None) -> bool:
    return caller.inside(network_id) or (caller.kind == "partner" and owner == caller.partner_id)


def can_read_deliveries(caller: Caller, origin_network_id: str) -> bool:
    return caller.coordinates(origin_network_id)
