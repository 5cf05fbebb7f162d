"""Reading feeds: a network's feed page by page, the log partners stream from, and the delivery log."""

from __future__ import annotations

from typing import Any

from services.common.paging import decode_page_token, encode_page_token
from services.federation.domain.copies import tombstone
from services.federation.schemas import (
    DeliveryOut,
    FeedItem,
    FeedPage,
    FeedQuery,
    LogEntry,
    LogPage,
    LogQuery,
    ServiceHealth,
)


def feed_page(query: FeedQuery, uow: Any) -> FeedPage:
    """The network's feed in order of sharing; a retracted output appears as its tombstone."""
    after = int(decode_page_token(query.page_token, parts=1)[0]) if query.page_token else 0
    with uow:
        rows = uow.feeds.page(query.network_id, after, query.page_size + 1)
    items = [FeedItem(position=r["position"], network_id=r["network_id"], delivered_at=r["delivered_at"],
                      backfill=r["backfill"], output=_shown(r)) for r in rows[: query.page_size]]
    more = len(rows) > query.page_size
    return FeedPage(items=items, next_page_token=encode_page_token(str(items[-1].position)) if more else None)


def log_after(query: LogQuery, uow: Any) -> LogPage:
    """Entries after the cursor for the given networks (all of them, for the gateway's hub). A share whose
    output was retracted since is passed over, its retraction entry follows; ``next_cursor`` moves past
    everything read, so a caller never reads the same entries twice."""
    with uow:
        rows = uow.feeds.log_after(query.cursor, query.network_ids, query.limit)
    entries = [LogEntry(cursor=r["position"], network_id=r["network_id"], kind=r["kind"], backfill=r["backfill"],
                        at=r["at"], output=_shown(r))
               for r in rows if not (r["kind"] != "retracted" and r["copy"] is None)]
    return LogPage(entries=entries, next_cursor=rows[-1]["position"] if rows else query.cursor)


def deliveries(output_id: str, uow: Any) -> list[DeliveryOut]:
    with uow:
        return [DeliveryOut(network_id=r["network_id"], delivered_at=r["delivered_at"], backfill=r["backfill"],
                            tombstoned_at=r["tombstoned_at"]) for r in uow.feeds.deliveries_of(output_id)]


def output_origin(output_id: str, uow: Any) -> str | None:
    with uow:
        known = uow.outputs.get(output_id)
        return known.origin_network_id if known else None


def health(uow: Any) -> ServiceHealth:
    with uow:
        uow.ping()
        return ServiceHealth(service="federation", database="ok")


def _shown(row: Any) -> dict[str, Any]:
    if row["copy"] is None:
        return tombstone(row["output_id"], row["origin_network_id"], row["retracted_at"])
    return row["copy"]
