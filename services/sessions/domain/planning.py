"""Rules for a session's plan that span several fields (single-field limits live in the schemas).

All broken rules are reported together, each naming its field and rule, so a form can show them at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from services.common.errors import ValidationFailed, violation
from services.common.vocabulary import SessionFormat, SessionMode

MAX_DURATION = timedelta(hours=24)

NEEDS_LOCATION = frozenset({SessionMode.IN_PERSON, SessionMode.HYBRID})
NEEDS_MEETING_URL = frozenset({SessionMode.ONLINE, SessionMode.HYBRID})
# The formats whose tables discuss statements ("stellingen"), each table concluding on them.
STATEMENT_FORMATS = frozenset({SessionFormat.WORLD_CAFE, SessionFormat.KNOWLEDGE_CAFE})


@dataclass(frozen=True)
class Contribution:
    """Who presents or contributes what (a member of Kring; often a member of the network)."""

    member_id: str
    topic: str


def time_violations(starts_at: datetime, ends_at: datetime) -> list[dict[str, str]]:
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        # Schemas only let aware times in; this guards callers that build sessions in code.
        return [violation("starts_at", "timezone_aware", "give times with a UTC offset")]
    if ends_at <= starts_at:
        return [violation("ends_at", "after_starts_at", "a session ends after it starts")]
    if ends_at - starts_at > MAX_DURATION:
        return [violation("ends_at", "max_duration", "a session lasts at most 24 hours")]
    return []


def check_times(starts_at: datetime, ends_at: datetime) -> None:
    raise_if(time_violations(starts_at, ends_at))


def check_plan(*, format: SessionFormat, mode: SessionMode, location: str | None, meeting_url: str | None,
               starts_at: datetime, ends_at: datetime, statements: list[str]) -> None:
    found = time_violations(starts_at, ends_at)
    if mode in NEEDS_LOCATION and not location:
        found.append(violation("location", "required_for_mode", f"a {mode.value} session needs a location"))
    if mode in NEEDS_MEETING_URL and not meeting_url:
        found.append(violation("meeting_url", "required_for_mode", f"a {mode.value} session needs a meeting link"))
    if statements and format not in STATEMENT_FORMATS:
        found.append(violation("statements", "cafe_only", "only a world café or a knowledge café has statements"))
    raise_if(found)


def raise_if(found: list[dict[str, str]]) -> None:
    if found:
        summary = "; ".join(f"{v['field']}: {v['message']}" for v in found)
        raise ValidationFailed(f"invalid input: {summary}", found)
