"""The feed log as its readers see it: rows of ``Feeds.log_after`` turned into a page.

Two readers build pages from the same rows, so they must agree: ``log_after`` (a gateway's feed hub, a stream
catching up) and the unit of work that records ``feed.appended`` with the entries its transaction appended.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import RowMapping

from services.federation.domain.copies import tombstone
from services.federation.schemas import LogEntry, LogEntryRef, LogPage, SharedLogPage


def shown(row: RowMapping) -> dict[str, Any]:
    """What a row of a feed or the log shows, as JSON: the output's copy, or its tombstone."""
    copy: dict[str, Any] | None = row["copy"]  # a Copy, as the JSON column holds it
    if copy is None:
        return dict(tombstone(row["output_id"], row["origin_network_id"], row["retracted_at"]))
    return copy


def _passed_over(row: RowMapping) -> bool:
    """A share whose output was retracted since: its retraction entry follows in the log."""
    return row["kind"] != "retracted" and row["copy"] is None


def next_cursor(rows: Sequence[RowMapping], cursor: int) -> int:
    """Past every row read, shown or passed over: a reader never reads the same entries twice."""
    return int(rows[-1]["position"]) if rows else cursor


def shared_log_page(rows: Sequence[RowMapping], cursor: int) -> SharedLogPage:
    """The page with each output once (one statement read every row, so an output's rows carry the same copy:
    the first stands for all)."""
    kept = [r for r in rows if not _passed_over(r)]
    outputs: dict[str, dict[str, Any]] = {}
    for r in kept:
        if r["output_id"] not in outputs:
            outputs[r["output_id"]] = shown(r)
    return SharedLogPage(entries=[LogEntryRef(cursor=r["position"], network_id=r["network_id"], kind=r["kind"],
                                              backfill=r["backfill"], at=r["at"], output_id=r["output_id"])
                                  for r in kept], outputs=outputs, next_cursor=next_cursor(rows, cursor))


def log_page(rows: Sequence[RowMapping], cursor: int) -> LogPage:
    """The page with each entry's output in the entry."""
    return LogPage(entries=[LogEntry(cursor=r["position"], network_id=r["network_id"], kind=r["kind"],
                                     backfill=r["backfill"], at=r["at"], output=shown(r))
                            for r in rows if not _passed_over(r)], next_cursor=next_cursor(rows, cursor))
