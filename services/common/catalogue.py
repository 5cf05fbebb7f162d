"""The catalogue of every event on the bus: one payload model per (type, version).

Events are the integration contract between services. A change to a payload that a consumer could
notice is a new version, registered beside the old one, never an edit in place.

Every member event carries the member's ``revision`` (it increases with each change to the member or
their memberships), so a read model can ignore an event older than what it already holds.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import EmailStr, Field

from services.common.events import EventPayload, event
from services.common.vocabulary import MembershipRole, Perspective

# --- members -------------------------------------------------------------------------------------------


class MemberEvent(EventPayload):
    subject_field: ClassVar[str | None] = "member_id"


class MemberSnapshot(MemberEvent):
    member_id: str
    revision: int = Field(ge=1)
    name: str
    email: EmailStr
    organisation: str | None
    perspectives: list[Perspective]
    expertise: list[str]
    findable_by_expertise: bool
    named_in_shared_outputs: bool


@event("member.registered")
class MemberRegistered(MemberSnapshot):
    """A person became a member of Kring."""


@event("member.updated")
class MemberUpdated(MemberSnapshot):
    """Profile or consent changed; the payload is the whole new state."""


@event("member.erased")
class MemberErased(MemberEvent):
    """A member exercised the right to erasure: every service removes or pseudonymises what it holds."""

    member_id: str
    revision: int = Field(ge=1)


@event("membership.joined")
class MembershipJoined(MemberEvent):
    """A member joined a network, or their role in it changed."""

    member_id: str
    network_id: str
    role: MembershipRole
    perspectives: list[Perspective]
    revision: int = Field(ge=1)


@event("membership.left")
class MembershipLeft(MemberEvent):
    member_id: str
    network_id: str
    revision: int = Field(ge=1)
