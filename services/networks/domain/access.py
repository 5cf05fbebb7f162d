"""Who may do what with networks: plain functions of a :class:`Caller`.

The directory (list, read, tree) is open to every caller; a network's coordinators and facilitators are listed
there by member id only to readers inside the network and the operator, to everyone else by role and perspectives
(docs/decisions/0012-who-is-named-outside-a-network.md). The operator may everything. A coordinator acts on
the networks they coordinate, not on the networks below them (each has its own coordinators): they update and
archive their network and create child networks under it; moving a network under another parent also needs
that parent's coordinator, and top-level networks (creating one, or detaching one) are the operator's. The
health report is for the network's coordinators and facilitators.
"""

from __future__ import annotations

from services.common.caller import Caller


def not_coordinated(network_id: str) -> str:
    return f"you do not administer network {network_id}"


def can_create_network(caller: Caller, parent_id: str | None) -> bool:
    """A coordinator creates child networks under a network they coordinate; a top-level one is the operator's."""
    return caller.operator or (parent_id is not None and parent_id in caller.administers)


def can_update_network(caller: Caller, network_id: str) -> bool:
    return caller.coordinates(network_id)


def can_move_network(caller: Caller, current_parent_id: str | None, new_parent_id: str | None) -> bool:
    """Putting a network under another one needs that parent's coordinator as well. Detaching it (``None``) makes
    it a top-level network, which only the operator creates, so only the operator detaches."""
    if new_parent_id == current_parent_id:
        return True
    if new_parent_id is None:
        return caller.operator
    return caller.coordinates(new_parent_id)


def can_archive_network(caller: Caller, network_id: str) -> bool:
    return caller.coordinates(network_id)


def can_read_health_report(caller: Caller, network_id: str) -> bool:
    return caller.staffs(network_id)


def sees_staff_ids(caller: Caller | None, network_id: str) -> bool:
    """Whether the directory shows this reader the member ids of the network's staff: inside the network (any
    role) and the operator. ``None``: a reader outside every network (the partner directory, which lists no staff).
    Nobody consented to being identifiable by an id outside their network, and taking on a role is no consent."""
    return caller is not None and caller.inside(network_id)
