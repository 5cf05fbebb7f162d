"""What no request may carry, whatever its schema says: checked at the edge, before any service sees it.

Two kinds of value pass the services' own models yet break further in:

- a NUL character (U+0000) in any text: PostgreSQL cannot store it, so a service would fail on it with a
  database error (an internal error for the caller) instead of naming the field;
- a time near the ends of the calendar (year 1 or 9999): converting it to UTC or adding a period to it
  overflows Python's datetime (a learning report's default period is a year before its end).

The admin API checks path parameters, query parameters and JSON bodies (:func:`request_violations`); the
partner API checks every string and ``google.protobuf.Timestamp`` of a request message
(:func:`message_violations`). Violations name the field (``themes.3``, ``policy.themes.0``) and the rule.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, date, datetime
from typing import Any, cast

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from services.common.errors import ValidationFailed, violation

# The same rules and range as the services' own models (services/common/schemas.py), defined there once.
from services.common.schemas import EARLIEST, LATEST, NUL, NUL_MESSAGE, NUL_RULE, TIME_MESSAGE, TIME_RULE

# An ISO 8601 date or date-time as JSON carries it: the shape alone decides whether its range is checked.
_DATE_LIKE = re.compile(r"^\s*([+-]?\d{4,})-\d{2}-\d{2}(?:[Tt ]|$)")
_TIMESTAMP = "google.protobuf.Timestamp"
# The proto's Timestamp range (0001-01-01 to 9999-12-31), as seconds since the epoch.
_MIN_SECONDS, _MAX_SECONDS = -62_135_596_800, 253_402_300_799


def text_violations(value: str, field: str) -> list[dict[str, str]]:
    if NUL in value:
        return [violation(field, NUL_RULE, NUL_MESSAGE)]
    match = _DATE_LIKE.match(value)
    if match and not EARLIEST.year <= int(match.group(1)) < LATEST.year:
        return [violation(field, TIME_RULE, TIME_MESSAGE)]
    return []


def json_violations(value: Any, field: str = "") -> list[dict[str, str]]:
    """Every string (and object key) in a parsed JSON document, named by its dotted path."""
    if isinstance(value, str):
        return text_violations(value, field or "(body)")
    found: list[dict[str, str]] = []
    if isinstance(value, Mapping):
        for key, item in value.items():
            path = f"{field}.{key}" if field else str(key)
            if NUL in str(key):
                found.append(violation(path, NUL_RULE, NUL_MESSAGE))
            found += json_violations(item, path)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += json_violations(item, f"{field}.{index}" if field else str(index))
    return found


def request_violations(path_params: Mapping[str, Any], query: Iterable[tuple[str, str]],
                       body: Any = None) -> list[dict[str, str]]:
    found: list[dict[str, str]] = []
    for name, value in path_params.items():
        found += text_violations(str(value), name)
    for name, value in query:
        found += text_violations(name, name) if NUL in name else text_violations(value, name)
    if body is not None:
        found += json_violations(body)
    return found


def message_violations(message: Message, prefix: str = "") -> list[dict[str, str]]:
    """Every string and Timestamp set in a protobuf message, named by its proto field path."""
    found: list[dict[str, str]] = []
    for descriptor, value in message.ListFields():
        path = f"{prefix}{descriptor.name}"
        values: Iterator[tuple[str, Any]] = (
            ((f"{path}.{i}", v) for i, v in enumerate(value)) if descriptor.is_repeated else iter([(path, value)])
        )
        for field, item in values:
            if isinstance(item, str):
                if NUL in item:
                    found.append(violation(field, NUL_RULE, NUL_MESSAGE))
            elif isinstance(item, Message):
                if item.DESCRIPTOR.full_name == _TIMESTAMP:
                    # The descriptor's name is the check: the message is a Timestamp, whichever class holds it.
                    found += _timestamp_violations(cast(Timestamp, item), field)
                else:
                    found += message_violations(item, f"{field}.")
    return found


def check_message(message: object) -> None:
    """Raise ValidationFailed naming every field of a request message that breaks a rule."""
    if isinstance(message, Message):
        raise_if(message_violations(message))


def raise_if(found: list[dict[str, str]]) -> None:
    if found:
        summary = "; ".join(f"{v['field']}: {v['message']}" for v in found[:5])
        raise ValidationFailed(f"invalid input: {summary}", found)


def _timestamp_violations(stamp: Timestamp, field: str) -> list[dict[str, str]]:
    if not (_MIN_SECONDS <= stamp.seconds <= _MAX_SECONDS and 0 <= stamp.nanos <= 999_999_999):
        return [violation(field, "valid_timestamp", "not a valid timestamp (seconds or nanos out of range)")]
    moment = stamp.ToDatetime(tzinfo=UTC)
    if not EARLIEST <= moment < LATEST:
        return [violation(field, TIME_RULE, TIME_MESSAGE)]
    return []


def in_range(moment: datetime | date) -> bool:
    """For typed values (a parsed query parameter): the same range as :func:`text_violations`."""
    return EARLIEST.year <= moment.year < LATEST.year
