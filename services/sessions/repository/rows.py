"""Small helpers shared by the repositories."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, and_, or_

T = TypeVar("T")


def utc(moment: datetime) -> datetime:
    """Normalise to UTC: PostgreSQL hands back aware times in the connection's zone, not always UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def utc_or_none(moment: datetime | None) -> datetime | None:
    return None if moment is None else utc(moment)


def after_key(time_column: Any, id_column: Any, after: tuple[datetime, str]) -> ColumnElement[bool]:
    """Rows strictly after the (time, id) key of the last item of the previous page."""
    moment, item_id = after
    return or_(time_column > moment, and_(time_column == moment, id_column > item_id))


def grouped(rows: Any, key: str) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {}
    for row in rows:
        found.setdefault(row[key], []).append(row)
    return found
