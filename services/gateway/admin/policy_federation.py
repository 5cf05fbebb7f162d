"""Who may do what with links, partners, feeds and deliveries: plain functions of a :class:`Principal`.

The operator may always. A link is a matter between two networks' coordinators: the requesting network's
coordinator asks, the target network's coordinator accepts or rejects, either side's coordinator reads it
and revokes it, and each side's coordinator sets the policy for what flows *from* their side. Blocking a
network and everything about partners (registration, keys, blocking) is the operator's. A network's feed is
for the people inside it (its coordinators, facilitators and members); an output's delivery log for the
coordinators of the network it came from.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.gateway.admin.policy import Principal


def coordinates(p: Principal, network_id: str) -> bool:
    return p.operator or network_id in p.administers


def sides(link: Mapping[str, Any]) -> tuple[str, str]:
    return link["requester_network_id"], link["target_network_id"]


def can_request_link(p: Principal, requester_network_id: str) -> bool:
    return coordinates(p, requester_network_id)


def can_read_link(p: Principal, link: Mapping[str, Any]) -> bool:
    return any(coordinates(p, side) for side in sides(link))


def can_list_links(p: Principal, network_id: str) -> bool:
    return coordinates(p, network_id)


def can_answer_link(p: Principal, link: Mapping[str, Any]) -> bool:
    """Accept or reject: the side that was asked."""
    return coordinates(p, link["target_network_id"])


def can_revoke_link(p: Principal, link: Mapping[str, Any]) -> bool:
    return can_read_link(p, link)


def can_set_link_policy(p: Principal, network_id: str) -> bool:
    """``network_id``: the side whose outgoing flow the policy governs."""
    return coordinates(p, network_id)


def can_block_network(p: Principal) -> bool:
    return p.operator


def can_manage_partners(p: Principal) -> bool:
    return p.operator


def can_read_feed(p: Principal, network_id: str) -> bool:
    return p.operator or network_id in p.networks


def can_read_deliveries(p: Principal, origin_network_id: str) -> bool:
    return coordinates(p, origin_network_id)
