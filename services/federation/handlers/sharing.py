"""Sharing, retraction, attribution changes and backfill: how outputs reach feeds and leave them."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import islice

from services.common import metrics
from services.common.catalogue import (
    MemberErased,
    OutputAttributionChanged,
    OutputPublished,
    OutputRetracted,
)
from services.common.vocabulary import Visibility
from services.federation.domain.audience import Shareable, audience
from services.federation.domain.copies import PUBLIC_FEED, copy_of
from services.federation.domain.links import Link
from services.federation.domain.outputs import SharedOutput
from services.federation.ports import FederationUoW

BACKFILL_LIMIT = 50  # earlier outputs a newly linked network receives from the other side


def share(uow: FederationUoW, output: SharedOutput) -> set[str] | None:
    """Deliver a newly published output to its audience, once. None if it was already known (a duplicate, or
    retracted before it arrived: the tombstone wins). An attribution change that came first applies."""
    assert output.copy is not None and output.visibility is not None and output.published_at is not None
    held = uow.outputs.lock_or_add(output)
    if held is not None:
        if not held.publish(output.copy, output.visibility, output.published_at, output.source):
            return None
        uow.outputs.save(held)
        output = held
    assert output.copy is not None and output.visibility is not None and output.published_at is not None
    now = datetime.now(UTC)
    blocked = uow.blocks.networks()
    reached = audience(Shareable(output.origin_network_id, output.visibility, tuple(output.copy["themes"])),
                       uow.links.active_hops(), blocked=blocked, closed=uow.read_models.closed_networks())
    uow.feeds.deliver_many(sorted(reached), output.output_id, now)
    if output.visibility == Visibility.PUBLIC and output.origin_network_id not in blocked:
        uow.feeds.deliver(PUBLIC_FEED, output.output_id, now)
    if reached:
        metrics.FEDERATION_DELIVERY_LAG.observe(max(0.0, (now - output.published_at).total_seconds()))
    return reached


def on_output_published(event: OutputPublished, uow: FederationUoW) -> None:
    share(uow, SharedOutput.published(event.output_id, event.network_id, copy_of(event),
                                      [a.member_id for a in event.authors], event.visibility, event.published_at,
                                      "sessions"))


def retract(uow: FederationUoW, retraction: SharedOutput) -> bool:
    """Replace every copy with a tombstone; a retraction that comes first keeps the output out for good."""
    assert retraction.retracted_at is not None
    held = uow.outputs.lock_or_add(retraction)
    if held is None:
        return True
    if not held.retract(retraction.retracted_at):
        return False
    uow.outputs.save(held)
    uow.feeds.tombstone(held.output_id, datetime.now(UTC))
    return True


def on_output_retracted(event: OutputRetracted, uow: FederationUoW) -> None:
    retract(uow, SharedOutput.retracted(event.output_id, event.network_id, event.retracted_at, "sessions"))


def on_attribution_changed(event: OutputAttributionChanged, uow: FederationUoW) -> None:
    """Every copy shows the authors as given from now on (see :class:`SharedOutput` for the orders)."""
    held = uow.outputs.lock_or_add(SharedOutput.awaiting(event.output_id, event.network_id, event.authors,
                                                         event.changed_at))
    if held is None:
        return
    applied_before = held.attributed_at
    announce = held.change_attribution(event.authors, event.changed_at)
    if held.attributed_at != applied_before:
        uow.outputs.save(held)
    if announce:
        uow.feeds.announce_change(held.output_id, datetime.now(UTC))


def on_member_erased(event: MemberErased, uow: FederationUoW) -> None:
    """Every copy an erased member authored shows "a former member" in their place from now on, and the audit
    log's entries about them no longer lead to them."""
    now = datetime.now(UTC)
    uow.forget_answers_about(event.member_id)
    uow.audit.forget_member(event.member_id)
    for output in uow.outputs.authored_by(event.member_id):
        if output.erase_author(event.member_id):
            uow.outputs.save(output)
            uow.feeds.announce_change(output.output_id, now)


def backfill(uow: FederationUoW, link: Link) -> int:
    """Give each side of a newly active link the other side's recent outputs that its policy admits."""
    now = datetime.now(UTC)
    shut = uow.blocks.networks() | uow.read_models.closed_networks()
    delivered = 0
    for sender in (link.requester, link.target):
        receiver = link.other_side(sender)
        if receiver in shut or sender in shut:
            continue
        policy = link.policy_from(sender)
        admitted = islice((output for output in uow.outputs.latest_from(sender, [v.value for v in policy.visibilities])
                           if output.visibility is not None and output.copy is not None
                           and policy.admits(output.visibility, output.copy["themes"])), BACKFILL_LIMIT)
        for output in reversed(list(admitted)):  # oldest first, as they were shared
            delivered += uow.feeds.deliver(receiver, output.output_id, now, backfill=True)
    return delivered
