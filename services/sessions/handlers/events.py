"""Consumers that keep the read models of networks, people and memberships. Each is idempotent: the
processed-event row and the effect commit together, and only newer revisions are applied."""

from __future__ import annotations

from typing import Any

from services.common.catalogue import MembershipJoined, MembershipLeft, MemberSnapshot, NetworkSnapshot
from services.common.events import Envelope
from services.sessions.domain.outputs import appears_differently_outside
from services.sessions.domain.readmodels import joined_update, left_update, network_update, person_update
from services.sessions.handlers.attribution import outputs_authored_by, reattribute


def network_changed(envelope: Envelope, payload: NetworkSnapshot, uow: Any, consumer: str) -> None:
    with uow:
        if not uow.begin_consuming(envelope.id, consumer):
            return
        updated = network_update(uow.known.network(payload.network_id), payload)
        if updated is not None:
            uow.known.put_network(updated)
        uow.commit()


def member_changed(envelope: Envelope, payload: MemberSnapshot, uow: Any, consumer: str) -> None:
    """Keep the person read model; if the change shows the member differently outside their network (their
    name while they consent to it, their consent, their perspective's role), the copies of what they
    authored are told."""
    with uow:
        if not uow.begin_consuming(envelope.id, consumer):
            return
        current = uow.known.person(payload.member_id)
        updated = person_update(current, payload)
        if updated is not None:
            uow.known.put_person(updated)
            if appears_differently_outside(current, updated):
                reattribute(uow, outputs_authored_by(uow, payload.member_id))
        uow.commit()


def membership_joined(envelope: Envelope, payload: MembershipJoined, uow: Any, consumer: str) -> None:
    with uow:
        if not uow.begin_consuming(envelope.id, consumer):
            return
        current = uow.known.membership(payload.network_id, payload.member_id)
        updated = joined_update(current, uow.known.person(payload.member_id), payload)
        if updated is not None:
            uow.known.put_membership(updated)
        uow.commit()


def membership_left(envelope: Envelope, payload: MembershipLeft, uow: Any, consumer: str) -> None:
    with uow:
        if not uow.begin_consuming(envelope.id, consumer):
            return
        updated = left_update(uow.known.membership(payload.network_id, payload.member_id), payload)
        if updated is not None:
            uow.known.put_membership(updated)
        uow.commit()
