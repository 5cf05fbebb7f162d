"""Sharing, retraction, attribution changes and backfill: how outputs reach feeds and leave them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from services.common import metrics
from services.common.catalogue import MemberErased, OutputAttributionChanged, OutputPublished, OutputRetracted
from services.common.vocabulary import Visibility
from services.federation.domain.audience import Shareable, audience
from services.federation.domain.copies import PUBLIC_FEED, copy_of, with_authors, without_author
from services.federation.domain.links import Link

BACKFILL_LIMIT = 50  # earlier outputs a newly linked network receives from the other side


def share(uow: Any, *, output_id: str, origin: str, copy: dict[str, Any], author_ids: list[str],
          visibility: Visibility, published_at: datetime, source: str) -> set[str] | None:
    """Deliver a new output to its audience, once. None if it was already known (a duplicate, or
    retracted before it arrived: the tombstone wins)."""
    if uow.outputs.get(output_id) is not None:
        return None
    now = datetime.now(UTC)
    uow.outputs.add(output_id=output_id, origin_network_id=origin, copy=copy, author_ids=author_ids,
                    visibility=visibility.value, published_at=published_at, source=source)
    blocked = uow.blocks.networks()
    reached = audience(Shareable(origin, visibility, tuple(copy["themes"])), uow.links.active_hops(),
                       blocked=blocked, closed=uow.networks.closed())
    for network_id in sorted(reached):
        uow.feeds.deliver(network_id, output_id, now)
    if visibility == Visibility.PUBLIC and origin not in blocked:
        uow.feeds.deliver(PUBLIC_FEED, output_id, now)
    if reached:
        metrics.FEDERATION_DELIVERY_LAG.observe(max(0.0, (now - published_at).total_seconds()))
    return reached


def on_output_published(event: OutputPublished, uow: Any) -> None:
    share(uow, output_id=event.output_id, origin=event.network_id, copy=copy_of(event),
          author_ids=[a.member_id for a in event.authors], visibility=event.visibility,
          published_at=event.published_at, source="sessions")


def retract(uow: Any, *, output_id: str, origin: str, retracted_at: datetime, source: str) -> bool:
    """Replace every copy with a tombstone; a retraction that comes first keeps the output out for good."""
    known = uow.outputs.get(output_id)
    if known is None:
        uow.outputs.add(output_id=output_id, origin_network_id=origin, copy=None, author_ids=[], visibility=None,
                        published_at=None, retracted_at=retracted_at, source=source)
        return True
    if known["retracted_at"] is not None:
        return False
    uow.outputs.change(output_id, copy=None, author_ids=[], retracted_at=retracted_at)
    uow.feeds.tombstone(output_id, datetime.now(UTC))
    return True


def on_output_retracted(event: OutputRetracted, uow: Any) -> None:
    retract(uow, output_id=event.output_id, origin=event.network_id, retracted_at=event.retracted_at,
            source="sessions")


def on_attribution_changed(event: OutputAttributionChanged, uow: Any) -> None:
    known = uow.outputs.get(event.output_id)
    if known is None or known["copy"] is None:
        return
    uow.outputs.change(event.output_id, copy=with_authors(known["copy"], event.authors),
                       author_ids=[a.member_id for a in event.authors])
    uow.feeds.announce_change(event.output_id, datetime.now(UTC))


def on_member_erased(event: MemberErased, uow: Any) -> None:
    """Every copy an erased member authored shows "a former member" in their place from now on."""
    now = datetime.now(UTC)
    for row in uow.outputs.authored_by(event.member_id):
        copy, author_ids = without_author(row["copy"], row["author_ids"], event.member_id)
        uow.outputs.change(row["output_id"], copy=copy, author_ids=author_ids)
        uow.feeds.announce_change(row["output_id"], now)


def backfill(uow: Any, link: Link) -> int:
    """Give each side of a newly active link the other side's recent outputs that its policy admits."""
    now = datetime.now(UTC)
    shut = uow.blocks.networks() | uow.networks.closed()
    delivered = 0
    for sender in (link.requester, link.target):
        receiver = link.other_side(sender)
        if receiver in shut or sender in shut:
            continue
        policy = link.policy_from(sender)
        for row in uow.outputs.latest_from(sender, BACKFILL_LIMIT):
            if policy.admits(Visibility(row["visibility"]), row["copy"]["themes"]):
                delivered += uow.feeds.deliver(receiver, row["output_id"], now, backfill=True)
    return delivered
