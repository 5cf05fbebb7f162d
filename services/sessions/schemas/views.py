"""Sessions on the wire, outbound: what the RPC methods return (JSON via ``model_dump(mode="json")``)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from services.common.vocabulary import (
    LoopStatus,
    Mandate,
    MembershipRole,
    OutputKind,
    Perspective,
    ReflectionKind,
    ResourceType,
    SessionFormat,
    SessionMode,
    SessionStatus,
    Visibility,
)
from services.sessions.domain.participation import RegistrationStatus


class View(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ContributionOut(BaseModel):
    """A contribution as one reader may see its contributor, by the rule for authors of outputs: inside the
    session's network the member id and name; outside it no id, and the name only with the contributor's
    consent (``named_in_shared_outputs``), else their perspective ("a participant with lived experience")."""

    member_id: str | None
    shown_as: str
    named: bool
    topic: str
    role: str | None = Field(None, description="as an author's `role`: the code of the role a contributor who is "
                                               "not named is shown as; null for a name")


class RescheduleOut(View):
    previous_starts_at: datetime
    previous_ends_at: datetime
    starts_at: datetime
    ends_at: datetime
    reason: str | None
    rescheduled_at: datetime


class ConclusionOut(BaseModel):
    """What a café's table concluded on one statement (shown to the people inside the network)."""

    session_id: str
    statement: int
    statement_text: str
    conclusion: str
    concluded_at: datetime


class SessionOut(View):
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
    contributions: list[ContributionOut]
    statements: list[str]
    conclusions: list[ConclusionOut] = []  # per statement, for the people inside the network; the operator too
    status: SessionStatus
    revision: int
    cancel_reason: str | None
    reschedules: list[RescheduleOut]
    registered_count: int
    waitlisted_count: int
    attendee_count: int | None  # None until attendance is recorded
    created_at: datetime
    updated_at: datetime
    # The caller's own registration, so a list can mark it without a call per session; nobody else's shows here.
    my_registration: RegistrationStatus | None = None


class SessionPage(BaseModel):
    items: list[SessionOut]
    next_page_token: str | None = None


class RegistrationOut(View):
    session_id: str
    member_id: str
    status: RegistrationStatus
    prepared: bool | None
    unprepared: bool
    waitlist_position: int | None  # 1 = next to get a seat
    registered_at: datetime
    cancelled_at: datetime | None


class RegistrationList(BaseModel):
    session_id: str
    capacity: int | None
    items: list[RegistrationOut]


class AttendanceOut(BaseModel):
    session_id: str
    revision: int
    member_ids: list[str]
    attendee_count: int
    perspective_counts: dict[Perspective, int]
    recorded_at: datetime | None


class AuthorOut(BaseModel):
    """An author as one reader may see them. ``member_id`` is given only inside the output's network:
    outside it, an id would let anyone link a non-consenting person's outputs together."""

    member_id: str | None
    shown_as: str
    named: bool
    role: str | None = Field(None, description="for an author who is not named: the role they are shown as, as a "
                                               "code a client may say in its language (a perspective, "
                                               "`participant` or `former_member`); null for a name")


class OutputOut(BaseModel):
    id: str
    session_id: str | None = Field(description="the session it came from; for a copy of a partner's output, the "
                                               "partner's session_ref, if it gave one")
    network_id: str
    kind: OutputKind
    title: str
    body: str
    url: str | None
    resource_type: ResourceType | None
    themes: list[str]
    visibility: Visibility
    licence: str
    authors: list[AuthorOut]
    published_at: datetime
    statement: int | None = None  # the session's statement it came from, by number (from 1)


class OutputTombstone(BaseModel):
    """What remains visible of a retracted output: that it existed, and when it was withdrawn."""

    id: str
    retracted_at: datetime


class OutputPage(BaseModel):
    items: list[OutputOut | OutputTombstone]
    next_page_token: str | None = None


class ReflectionOut(View):
    id: str
    session_id: str
    network_id: str
    member_id: str
    kind: ReflectionKind
    text: str | None
    recorded_at: datetime


class ReflectionPage(BaseModel):
    items: list[ReflectionOut]
    next_page_token: str | None = None


class SessionMixOut(View):
    session_id: str
    title: str
    format: SessionFormat
    starts_at: datetime
    attendee_count: int
    perspective_counts: dict[Perspective, int]


class LoopCountsOut(View):
    """The action-learning loop over the period, counted: "maak de leercyclus rond"."""

    opened: int
    closed: int
    closed_with_output: int
    experiments: int
    experiments_by_mandate: dict[Mandate, int]
    followed_up: int


class LearningReportOut(View):
    """Counts only: no person is named and no member id appears."""

    network_id: str
    period_from: datetime
    period_to: datetime
    sessions_held: int
    sessions_by_format: dict[SessionFormat, int]
    attendance_total: int
    attendance_average: float
    distinct_attendees: int
    perspective_mix: list[SessionMixOut]
    perspective_totals: dict[Perspective, int]
    outputs_by_kind: dict[OutputKind, int]
    reflections_by_kind: dict[ReflectionKind, int]
    loops: LoopCountsOut
    language: str = "nl"
    summary: list[str] = []


class LearningLoopOut(View):
    """A learning question and its loop, as its owner and their network's staff see it."""

    id: str
    network_id: str
    owner_id: str
    owner_role: MembershipRole
    question: str | None
    urgency: str | None
    shared_with_network: bool
    status: LoopStatus
    opened_at: datetime
    brought_to_session_id: str | None
    experiment: str | None
    experiment_session_id: str | None
    mandate: Mandate | None
    follow_up: str | None
    follow_up_session_id: str | None
    lesson: str | None
    output_id: str | None
    closed_at: datetime | None
    revision: int


class LearningLoopPage(BaseModel):
    items: list[LearningLoopOut]
    next_page_token: str | None = None


class SessionInvolvement(BaseModel):
    """One session a member registered for, attended or contributed to."""

    session_id: str
    network_id: str
    title: str
    starts_at: datetime
    status: SessionStatus
    registration: RegistrationOut | None
    attended: bool
    contributed_topics: list[str]


class AuthorshipOut(BaseModel):
    output_id: str
    session_id: str
    title: str
    kind: OutputKind
    published_at: datetime
    retracted_at: datetime | None


class SessionsMemberExport(BaseModel):
    """Everything the sessions service holds about one member (for the privacy export)."""

    member_id: str
    exported_at: datetime
    sessions: list[SessionInvolvement]
    authorship: list[AuthorshipOut]
    reflections: list[ReflectionOut]
    learning_loops: list[LearningLoopOut] = []


class ServiceHealth(BaseModel):
    service: str
    database: str
