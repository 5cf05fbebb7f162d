"""The effects of the events that keep the read models of networks, people and memberships. The kit applies each
event once (its id recorded with the effect); only newer revisions change anything, so reordering is harmless."""

from __future__ import annotations

from services.common.catalogue import MembershipJoined, MembershipLeft, MemberSnapshot, NetworkSnapshot
from services.sessions.domain.outputs import appears_differently_outside
from services.sessions.domain.read_models import joined_update, left_update, network_update, person_update
from services.sessions.handlers.attribution import outputs_authored_by, reattribute
from services.sessions.ports import SessionsUoW


def network_changed(payload: NetworkSnapshot, uow: SessionsUoW) -> None:
    updated = network_update(uow.read_models.network(payload.network_id), payload)
    if updated is not None:
        uow.read_models.put_network(updated)


def member_changed(payload: MemberSnapshot, uow: SessionsUoW) -> None:
    """Keep the person read model; if the change shows the member differently outside their network (their
    name while they consent to it, their consent, their perspective's role), the copies of what they
    authored are told."""
    current = uow.read_models.person(payload.member_id)
    updated = person_update(current, payload)
    if updated is not None:
        uow.read_models.put_person(updated)
        if appears_differently_outside(current, updated):
            reattribute(uow, outputs_authored_by(uow, payload.member_id))


def membership_joined(payload: MembershipJoined, uow: SessionsUoW) -> None:
    current = uow.read_models.membership(payload.network_id, payload.member_id)
    updated = joined_update(current, uow.read_models.person(payload.member_id), payload)
    if updated is not None:
        uow.read_models.put_membership(updated)


def membership_left(payload: MembershipLeft, uow: SessionsUoW) -> None:
    updated = left_update(uow.read_models.membership(payload.network_id, payload.member_id), payload)
    if updated is not None:
        uow.read_models.put_membership(updated)
