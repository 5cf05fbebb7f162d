"""Sharing, retraction, attribution changes and backfill: how outputs reach feeds and leave them."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import islice
from typing import Any

from services.common import metrics
from services.common.catalogue import (
    Attribution,
    MemberErased,
    OutputAttributionChanged,
    OutputPublished,
    OutputRetracted,
)
from services.common.vocabulary import Visibility
from services.federation.domain.audience import Shareable, audience
from services.federation.domain.copies import FORMER_MEMBER, PUBLIC_FEED, copy_of, with_authors, without_author
from services.federation.domain.links import Link

BACKFILL_LIMIT = 50  # earlier outputs a newly linked network receives from the other side


def share(uow: Any, *, output_id: str, origin: str, copy: dict[str, Any], author_ids: list[str],
          visibility: Visibility, published_at: datetime, source: str) -> set[str] | None:
    """Deliver a new output to its audience, once. None if it was already known (a duplicate, or
    retracted before it arrived: the tombstone wins). An attribution change that came first applies."""
    known = uow.outputs.lock_or_add(output_id, origin_network_id=origin, copy=copy, author_ids=author_ids,
                                    visibility=visibility.value, published_at=published_at, source=source)
    if known is not None and known["pending_authors"] is None:
        return None
    now = datetime.now(UTC)
    if known is not None:
        authors = [Attribution.model_validate(a) for a in known["pending_authors"]]
        copy, author_ids = with_authors(copy, authors), [a.member_id for a in authors]
        uow.outputs.change(output_id, copy=copy, author_ids=author_ids, visibility=visibility.value,
                           published_at=published_at, source=source, pending_authors=None)
    blocked = uow.blocks.networks()
    reached = audience(Shareable(origin, visibility, tuple(copy["themes"])), uow.links.active_hops(),
                       blocked=blocked, closed=uow.networks.closed())
    uow.feeds.deliver_many(sorted(reached), output_id, now)
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
    known = uow.outputs.lock_or_add(output_id, origin_network_id=origin, copy=None, author_ids=[], visibility=None,
                                    published_at=None, retracted_at=retracted_at, source=source)
    if known is None:
        return True
    if known["retracted_at"] is not None:
        return False
    uow.outputs.change(output_id, copy=None, author_ids=[], retracted_at=retracted_at, pending_authors=None)
    uow.feeds.tombstone(output_id, datetime.now(UTC))
    return True


def on_output_retracted(event: OutputRetracted, uow: Any) -> None:
    retract(uow, output_id=event.output_id, origin=event.network_id, retracted_at=event.retracted_at,
            source="sessions")


def on_attribution_changed(event: OutputAttributionChanged, uow: Any) -> None:
    """Every copy shows the authors as given from now on; an older change arriving late changes nothing, and
    one that overtakes the output waits for it."""
    known = uow.outputs.lock_or_add(event.output_id, origin_network_id=event.network_id, copy=None, author_ids=[],
                                    visibility=None, published_at=None, source="sessions",
                                    attributed_at=event.changed_at,
                                    pending_authors=[a.model_dump() for a in event.authors])
    if known is None:
        return
    if known["attributed_at"] is not None and event.changed_at <= known["attributed_at"]:
        return
    if known["retracted_at"] is not None:
        return
    if known["copy"] is None:  # still waiting for the output
        uow.outputs.change(event.output_id, attributed_at=event.changed_at,
                           pending_authors=[a.model_dump() for a in event.authors])
        return
    authors = _erased_stay_erased(known["author_ids"], event.authors)
    uow.outputs.change(event.output_id, copy=with_authors(known["copy"], authors),
                       author_ids=[a.member_id for a in authors], attributed_at=event.changed_at)
    uow.feeds.announce_change(event.output_id, datetime.now(UTC))


def _erased_stay_erased(held_ids: list[str], authors: list[Attribution]) -> list[Attribution]:
    """A place member.erased already emptied here ("" in the ids) stays "a former member", whatever an
    attribution change computed before the erasure says."""
    return [Attribution(member_id="", shown_as=FORMER_MEMBER, named=False)
            if i < len(held_ids) and held_ids[i] == "" else author for i, author in enumerate(authors)]


def on_member_erased(event: MemberErased, uow: Any) -> None:
    """Every copy an erased member authored shows "a former member" in their place from now on."""
    now = datetime.now(UTC)
    uow.forget_answers_about(event.member_id)
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
        admitted = islice((row for row in uow.outputs.latest_from(sender, [v.value for v in policy.visibilities])
                           if policy.admits(Visibility(row["visibility"]), row["copy"]["themes"])), BACKFILL_LIMIT)
        for row in reversed(list(admitted)):  # oldest first, as they were shared
            delivered += uow.feeds.deliver(receiver, row["output_id"], now, backfill=True)
    return delivered
