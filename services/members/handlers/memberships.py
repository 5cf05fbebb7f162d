"""Joining and leaving networks."""

from __future__ import annotations

from typing import Any

from services.members.handlers.members import active_member, now
from services.members.ports import NetworkDirectory
from services.members.schemas import JoinNetwork, MembershipOut


def join_network(member_id: str, network_id: str, cmd: JoinNetwork, uow: Any,
                 networks: NetworkDirectory) -> MembershipOut:
    with uow:
        member = active_member(uow, member_id)
        networks.ensure_open(network_id)
        membership = member.join(network_id, cmd.role, now=now())
        uow.members.save(member)
        uow.commit()
        return MembershipOut(network_id=membership.network_id, role=membership.role, joined_at=membership.joined_at)


def leave_network(member_id: str, network_id: str, uow: Any) -> None:
    with uow:
        member = active_member(uow, member_id)
        member.leave(network_id, now=now())
        uow.members.save(member)
        uow.commit()
