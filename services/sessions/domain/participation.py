"""Registrations, the waitlist, preparation and attendance: the value objects a session holds."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from services.common.errors import ValidationFailed
from services.common.vocabulary import Perspective, UnpreparedPolicy


class RegistrationStatus(StrEnum):
    REGISTERED = "registered"  # holds a seat
    WAITLISTED = "waitlisted"  # waits for a seat, first come first served
    CANCELLED = "cancelled"


@dataclass
class Registration:
    member_id: str
    status: RegistrationStatus
    prepared: bool | None
    unprepared: bool  # accepted although the network asks for preparation (policy "flag")
    position: int  # order of arrival; the waitlist is served in this order
    registered_at: datetime
    cancelled_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.status != RegistrationStatus.CANCELLED


@dataclass(frozen=True)
class PreparationRule:
    """A network's "participants must have started applying the method" policy (action learning)."""

    required: bool = False
    policy: UnpreparedPolicy = UnpreparedPolicy.REFUSE

    def flag_unprepared(self, prepared: bool | None) -> bool:
        """True when a registration is accepted but flagged unprepared; raises when it must be refused."""
        if not self.required or prepared is True:
            return False
        if self.policy == UnpreparedPolicy.REFUSE:
            raise ValidationFailed.single(
                "prepared", "preparation_required",
                "this network asks participants to have started applying the method before a session",
            )
        return True


@dataclass(frozen=True)
class Attendee:
    """Someone who was present, with the perspectives they had when attendance was recorded."""

    member_id: str
    perspectives: tuple[Perspective, ...]


def perspective_counts(perspective_sets: Iterable[Iterable[Perspective]]) -> dict[Perspective, int]:
    """How many people brought each perspective (a person with two perspectives counts for both).

    Every perspective is present, zero included, so reports have the same shape for every session.
    """
    counts = dict.fromkeys(Perspective, 0)
    for perspectives in perspective_sets:
        for perspective in set(perspectives):
            counts[perspective] += 1
    return counts
