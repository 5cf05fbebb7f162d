"""The session aggregate: a learning session of one network, its life cycle, registrations and attendance.

Every transition goes through :func:`~services.sessions.domain.lifecycle.next_status`, raises the
session's ``revision`` and records a snapshot event; the unit of work writes the events to the outbox in
the same transaction as the new state.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypedDict, Unpack

from services.common.catalogue import (
    AttendanceRecorded,
    SessionCancelled,
    SessionClosed,
    SessionHeld,
    SessionRescheduled,
    SessionScheduled,
    StatementConcluded,
)
from services.common.errors import IllegalTransition, NotFound, violation
from services.common.events import EventPayload
from services.common.vocabulary import SessionFormat, SessionMode, SessionStatus
from services.sessions.domain.lifecycle import Action, next_status
from services.sessions.domain.participation import (
    Attendee,
    PreparationRule,
    Registration,
    RegistrationStatus,
    perspective_counts,
)
from services.sessions.domain.planning import Contribution, check_plan, check_times


class SessionPlan(TypedDict):
    """What scheduling a session takes: the fields of :class:`Session` that its planners choose."""

    network_id: str
    title: str
    format: SessionFormat
    mode: SessionMode
    location: str | None
    meeting_url: str | None
    starts_at: datetime
    ends_at: datetime
    capacity: int | None
    agenda: str
    contributions: list[Contribution]
    statements: list[str]


class Snapshot(TypedDict):
    """The fields every session event carries (:class:`~services.common.catalogue.SessionSnapshot`)."""

    session_id: str
    network_id: str
    revision: int
    title: str
    format: SessionFormat
    mode: SessionMode
    location: str | None
    starts_at: datetime
    ends_at: datetime
    capacity: int | None
    status: SessionStatus
    contributor_ids: list[str]


@dataclass(frozen=True)
class Reschedule:
    previous_starts_at: datetime
    previous_ends_at: datetime
    starts_at: datetime
    ends_at: datetime
    reason: str | None
    rescheduled_at: datetime


@dataclass
class Conclusion:
    """What a café's table concluded on one statement; recorded while or after the session is held."""

    text: str
    concluded_at: datetime


class SessionFacts:
    """What a session's status and statements decide, the same for the whole :class:`Session` and its
    :class:`SessionOutline`: a command that needs no more than these takes either."""

    id: str
    network_id: str
    status: SessionStatus
    statements: Sequence[str]

    def ensure_allowed(self, action: Action) -> None:
        next_status(self.status, action)

    def has_statement(self, number: int) -> bool:
        return 1 <= number <= len(self.statements)


@dataclass(frozen=True)
class SessionOutline(SessionFacts):
    """The session without its plan, registrations or attendance, for commands that only check it: read-only,
    so it can never be saved in place of the whole session (saving rewrites the registrations)."""

    id: str
    network_id: str
    status: SessionStatus
    statements: tuple[str, ...]


@dataclass
class Session(SessionFacts):
    id: str
    network_id: str
    title: str
    format: SessionFormat
    mode: SessionMode
    location: str | None
    meeting_url: str | None
    starts_at: datetime
    ends_at: datetime
    capacity: int | None
    agenda: str
    contributions: list[Contribution]
    statements: list[str]
    created_at: datetime
    updated_at: datetime
    status: SessionStatus = SessionStatus.PLANNED
    revision: int = 1
    cancel_reason: str | None = None
    reschedules: list[Reschedule] = field(default_factory=list)
    registrations: dict[str, Registration] = field(default_factory=dict)
    attendance: list[Attendee] = field(default_factory=list)
    attendance_revision: int = 0
    attendance_recorded_at: datetime | None = None
    conclusions: dict[int, Conclusion] = field(default_factory=dict)  # statement number (from 1) -> conclusion
    events: list[EventPayload] = field(default_factory=list, repr=False, compare=False)

    # --- life cycle ----------------------------------------------------------------------------------

    @classmethod
    def schedule(cls, session_id: str, *, now: datetime, **plan: Unpack[SessionPlan]) -> Session:
        """Plan a session. Times in the past are allowed: networks record sessions held before Kring."""
        check_plan(format=plan["format"], mode=plan["mode"], location=plan.get("location"),
                   meeting_url=plan.get("meeting_url"), starts_at=plan["starts_at"], ends_at=plan["ends_at"],
                   statements=plan.get("statements", []))
        session = cls(id=session_id, created_at=now, updated_at=now, **plan)
        session.events.append(SessionScheduled(**session._snapshot()))
        return session

    def reschedule(self, starts_at: datetime, ends_at: datetime, reason: str | None, *, now: datetime) -> bool:
        """Move a planned session, keeping the old times in its history. Moving to the same times is a no-op."""
        next_status(self.status, Action.RESCHEDULE)
        check_times(starts_at, ends_at)
        if (starts_at, ends_at) == (self.starts_at, self.ends_at):
            return False
        previous = (self.starts_at, self.ends_at)
        self.reschedules.append(Reschedule(*previous, starts_at, ends_at, reason, now))
        self.starts_at, self.ends_at = starts_at, ends_at
        self.events.append(SessionRescheduled(**self._transition(Action.RESCHEDULE, now),
                                              previous_starts_at=previous[0], previous_ends_at=previous[1]))
        return True

    def hold(self, *, now: datetime) -> None:
        next_status(self.status, Action.HOLD)
        if now < self.starts_at:
            message = "a session cannot be marked held before it starts"
            raise IllegalTransition(message, [violation("starts_at", "not_started", message)])
        self.events.append(SessionHeld(**self._transition(Action.HOLD, now)))

    def close(self, *, now: datetime) -> None:
        self.events.append(SessionClosed(**self._transition(Action.CLOSE, now)))

    def cancel(self, reason: str | None, *, now: datetime) -> None:
        next_status(self.status, Action.CANCEL)
        self.cancel_reason = reason
        self.events.append(SessionCancelled(**self._transition(Action.CANCEL, now), reason=reason))

    # --- registrations ---------------------------------------------------------------------------------

    def register(self, member_id: str, prepared: bool | None, rule: PreparationRule, *,
                 now: datetime) -> tuple[Registration, bool]:
        """Register a member; at capacity they join the waitlist. Returns (registration, changed).

        Registering again while registered or waitlisted returns the existing registration unchanged.
        """
        next_status(self.status, Action.REGISTER)
        current = self.registrations.get(member_id)
        if current is not None and current.active:
            return current, False
        unprepared = rule.flag_unprepared(prepared)
        seat = self.has_free_seat() and not self.waitlist()  # nobody jumps the queue
        registration = Registration(
            member_id=member_id,
            status=RegistrationStatus.REGISTERED if seat else RegistrationStatus.WAITLISTED,
            prepared=prepared, unprepared=unprepared, position=self._next_position(), registered_at=now,
        )
        self.registrations[member_id] = registration
        return registration, True

    def cancel_registration(self, member_id: str, *, now: datetime) -> tuple[Registration, bool]:
        """Cancel a registration; a freed seat goes to the first on the waitlist. Cancelling twice is a no-op."""
        next_status(self.status, Action.CANCEL_REGISTRATION)
        current = self.registration_of(member_id)
        if not current.active:
            return current, False
        current.status, current.cancelled_at = RegistrationStatus.CANCELLED, now
        self._promote_waitlist()
        return current, True

    def registration_of(self, member_id: str) -> Registration:
        """The member's registration, a cancelled one included (it says when they cancelled); never registered:
        not found."""
        current = self.registrations.get(member_id)
        if current is None:
            raise NotFound(f"member {member_id} is not registered for session {self.id}",
                           [violation("member_id", "registered", "not registered for this session")])
        return current

    def seats_taken(self) -> int:
        return sum(1 for r in self.registrations.values() if r.status == RegistrationStatus.REGISTERED)

    def has_free_seat(self) -> bool:
        return self.capacity is None or self.seats_taken() < self.capacity

    def waitlist(self) -> list[Registration]:
        waiting = [r for r in self.registrations.values() if r.status == RegistrationStatus.WAITLISTED]
        return sorted(waiting, key=lambda r: r.position)

    def waitlist_position(self, member_id: str) -> int | None:
        ids = [r.member_id for r in self.waitlist()]
        return ids.index(member_id) + 1 if member_id in ids else None

    def registered_ids(self) -> set[str]:
        return {r.member_id for r in self.registrations.values() if r.active}

    def _promote_waitlist(self) -> None:
        for waiting in self.waitlist():
            if not self.has_free_seat():
                return
            waiting.status = RegistrationStatus.REGISTERED

    def _next_position(self) -> int:
        return max((r.position for r in self.registrations.values()), default=0) + 1

    # --- attendance ------------------------------------------------------------------------------------

    def record_attendance(self, attendees: list[Attendee], *, now: datetime) -> None:
        """Replace who was present. The caller checked that each attendee was registered or is a member."""
        next_status(self.status, Action.RECORD_ATTENDANCE)
        self.attendance = list(attendees)
        self.attendance_revision += 1
        self.attendance_recorded_at = now
        self.updated_at = now
        self.events.append(AttendanceRecorded(
            session_id=self.id, network_id=self.network_id, revision=self.attendance_revision,
            attendee_count=len(attendees), perspective_counts=perspective_counts(a.perspectives for a in attendees),
        ))

    # --- statements ------------------------------------------------------------------------------------

    def conclude_statement(self, number: int, text: str, *, now: datetime) -> Conclusion:
        """Record what the table concluded on statement ``number`` (from 1), or revise it; the same text again
        changes nothing."""
        next_status(self.status, Action.CONCLUDE_STATEMENT)
        self.ensure_statement(number)
        current = self.conclusions.get(number)
        if current is not None and current.text == text:
            return current
        conclusion = self.conclusions[number] = Conclusion(text, now)
        self.updated_at = now
        self.events.append(StatementConcluded(session_id=self.id, network_id=self.network_id, statement=number,
                                              concluded_at=now))
        return conclusion

    def ensure_statement(self, number: int) -> None:
        if not self.has_statement(number):
            raise NotFound(f"session {self.id} has no statement {number}",
                           [violation("statement", "statement_exists",
                                      f"the session has {len(self.statements)} statement(s)")])

    # --- internals -------------------------------------------------------------------------------------

    def contributor_ids(self) -> list[str]:
        return list(dict.fromkeys(c.member_id for c in self.contributions))

    def _transition(self, action: Action, now: datetime) -> Snapshot:
        """Move to where ``action`` leads and raise the revision; returns the snapshot the transition's event
        carries (the caller records that event, with the fields of its own)."""
        self.status = next_status(self.status, action)
        self.revision += 1
        self.updated_at = now
        return self._snapshot()

    def _snapshot(self) -> Snapshot:
        return {
            "session_id": self.id, "network_id": self.network_id, "revision": self.revision, "title": self.title,
            "format": self.format, "mode": self.mode, "location": self.location, "starts_at": self.starts_at,
            "ends_at": self.ends_at, "capacity": self.capacity, "status": self.status,
            "contributor_ids": self.contributor_ids(),
        }
