"""Joining and leaving networks."""

from __future__ import annotations

from services.common.caller import Caller, require
from services.common.vocabulary import MembershipRole
from services.members.domain import access
from services.members.handlers.members import active_member, now
from services.members.ports import MembersUoW, NetworkDirectory
from services.members.schemas import JoinNetwork, MembershipOut


def join_network(caller: Caller, member_id: str, network_id: str, cmd: JoinNetwork, uow: MembersUoW,
                 networks: NetworkDirectory) -> MembershipOut:
    require(access.can_set_membership(caller, network_id), f"you do not administer network {network_id}")
    with uow:
        member = active_member(uow, member_id)
        networks.ensure_open(network_id)
        membership = member.join(network_id, cmd.role, now=now())
        uow.members.save(member)
        uow.commit()
        return MembershipOut(network_id=membership.network_id, role=membership.role, joined_at=membership.joined_at)


def leave_network(caller: Caller, member_id: str, network_id: str, uow: MembersUoW) -> None:
    require(access.can_remove_membership(caller, network_id, member_id), f"you do not administer network {network_id}")
    with uow:
        member = active_member(uow, member_id)
        member.leave(network_id, now=now())
        uow.members.save(member)
        uow.commit()


def appoint_creator(caller: Caller, network_id: str, uow: MembersUoW,
                    networks: NetworkDirectory) -> MembershipOut | None:
    """The member who just created ``network_id`` becomes its coordinator (None: the caller is no member)."""
    if not access.creator_becomes_coordinator(caller) or caller.member_id is None:
        return None
    with uow:
        member = active_member(uow, caller.member_id)
        networks.ensure_open(network_id)
        membership = member.join(network_id, MembershipRole.COORDINATOR, now=now())
        uow.members.save(member)
        uow.commit()
        return MembershipOut(network_id=membership.network_id, role=membership.role, joined_at=membership.joined_at)
