"""Moments as people read them: the API speaks UTC (ISO 8601), the console shows Dutch local time."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

LOCAL = ZoneInfo("Europe/Amsterdam")  # Kring's networks are Dutch; the API's UTC is shown in their clock


def parsed(moment: str | datetime) -> datetime:
    value = moment if isinstance(moment, datetime) else datetime.fromisoformat(str(moment).replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=ZoneInfo("UTC"))


def when(moment: str | datetime | None) -> str:
    """``2026-12-08T13:00:00Z`` as ``08-12-2026 14:00`` (local time); empty for none."""
    if not moment:
        return ""
    return parsed(moment).astimezone(LOCAL).strftime("%d-%m-%Y %H:%M")


def day(value: str | date | None) -> str:
    """A calendar day (``2026-01-15``, or the date part of a moment in UTC) as ``15-01-2026``, the way ``when``
    writes its days; empty for none, and what is not a day as it came."""
    if not value:
        return ""
    try:
        parsed_day = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
    except ValueError:
        return str(value)
    return parsed_day.strftime("%d-%m-%Y")


def start_of_day(day: date) -> datetime:
    """Local midnight at the start of ``day``, as an aware moment (what a date filter means to a person)."""
    return datetime.combine(day, time(0, 0), tzinfo=LOCAL)


def end_of_day(day: date) -> datetime:
    """Local midnight after ``day``: a period "until 8 December" includes that whole day."""
    return start_of_day(day + timedelta(days=1))


def local_input(moment: str | datetime | None) -> str:
    """A moment as a ``datetime-local`` input's value, in local time: ``2026-12-08T14:00``."""
    return parsed(moment).astimezone(LOCAL).strftime("%Y-%m-%dT%H:%M") if moment else ""


def api_time(typed: str) -> str:
    """What a ``datetime-local`` input sent (local time) as the API takes it, with its offset. What is not a time
    goes as typed, so the API's own refusal names the field and the rule."""
    try:
        moment = datetime.fromisoformat(typed)
    except ValueError:
        return typed
    return (moment if moment.tzinfo else moment.replace(tzinfo=LOCAL)).isoformat()
