"""A member's reflection after a session: a change in self-image, behaviour, perspective or task conception.

The text and the member stay in this service (for the member's export, and deleted on erasure); the
event says only that a reflection of a kind was recorded after a session.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from services.common.catalogue import ReflectionRecorded
from services.common.events import EventPayload
from services.common.vocabulary import ReflectionKind
from services.sessions.domain.lifecycle import Action, next_status
from services.sessions.domain.session import SessionFacts


@dataclass
class Reflection:
    id: str
    session_id: str
    network_id: str
    member_id: str
    kind: ReflectionKind
    text: str | None  # None after erasure
    recorded_at: datetime
    events: list[EventPayload] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def record(cls, reflection_id: str, session: SessionFacts, member_id: str, kind: ReflectionKind, text: str, *,
               now: datetime) -> Reflection:
        """Only after a session that could have been attended (held or closed); membership is checked by the
        caller."""
        next_status(session.status, Action.REFLECT)
        reflection = cls(reflection_id, session.id, session.network_id, member_id, kind, text, now)
        reflection.events.append(ReflectionRecorded(reflection_id=reflection_id, network_id=session.network_id,
                                                    session_id=session.id, kind=kind, recorded_at=now))
        return reflection
