"""Who may do what with networks: plain functions of a :class:`Caller`.

The directory (list, read, tree) is open to every caller. The operator may everything. A coordinator acts on
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
