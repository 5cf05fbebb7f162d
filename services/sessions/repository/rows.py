"""Small helpers shared by the repositories."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, RowMapping, and_, or_


def utc(moment: datetime) -> datetime:
    """Normalise to UTC: PostgreSQL hands back aware times in the connection's zone, not always UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def utc_or_none(moment: datetime | None) -> datetime | None:
    return None if moment is None else utc(moment)


def after_key(time_column: ColumnElement[datetime], id_column: ColumnElement[str],
              after: tuple[datetime, str]) -> ColumnElement[bool]:
    """Rows strictly after the (time, id) key of the last item of the previous page."""
    moment, item_id = after
    return or_(time_column > moment, and_(time_column == moment, id_column > item_id))


def before_key(time_column: ColumnElement[datetime], id_column: ColumnElement[str],
               before: tuple[datetime, str]) -> ColumnElement[bool]:
    """Rows strictly before the (time, id) key of the last item of the previous page (newest-first lists)."""
    moment, item_id = before
    return or_(time_column < moment, and_(time_column == moment, id_column < item_id))


def grouped(rows: Iterable[RowMapping], key: str) -> dict[str, list[RowMapping]]:
    """The rows by their value in column ``key``, each group in the order of ``rows``."""
    found: dict[str, list[RowMapping]] = {}
    for row in rows:
        found.setdefault(row[key], []).append(row)
    return found
