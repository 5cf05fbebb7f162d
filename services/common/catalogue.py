"""The catalogue of every event on the bus: one payload model per (type, version).

Events are the integration contract between services. A change to a payload that a consumer could
notice is a new version, registered beside the old one, never an edit in place.

Every member event carries the member's ``revision`` (it increases with each change to the member or
their memberships), so a read model can ignore an event older than what it already holds.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from services.common.events import EventPayload, event
from services.common.schemas import NoNul
from services.common.vocabulary import (
    LoopStatus,
    Mandate,
    MembershipRole,
    NetworkKind,
    NetworkLevel,
    NetworkStatus,
    OutputKind,
    Perspective,
    ReflectionKind,
    ResourceType,
    SessionFormat,
    SessionMode,
    SessionStatus,
    UnpreparedPolicy,
    Visibility,
)

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


@event("token.revoked")
class TokenRevoked(MemberEvent):
    """A member's API token was revoked: every gateway stops honouring it (only ids: never the token or its hash)."""

    member_id: str
    token_id: str


# --- questions to experts (members service) -------------------------------------------------------------
# A question is between two people: its events say that something happened in a network, never who asked whom or
# what (docs/decisions/0010-asking-an-expert.md).


class ExpertQuestionEvent(EventPayload):
    question_id: str
    network_id: str
    tag: str | None
    revision: int = Field(ge=1)


@event("expert_question.asked")
class ExpertQuestionAsked(ExpertQuestionEvent):
    """A member asked a findable expert of a network they share a question through Kring."""


@event("expert_question.answered")
class ExpertQuestionAnswered(ExpertQuestionEvent):
    """The expert answered; ``contact_shared``: whether they shared contact details with the asker."""

    contact_shared: bool


@event("expert_question.declined")
class ExpertQuestionDeclined(ExpertQuestionEvent):
    """The expert declined to answer."""


# --- networks ------------------------------------------------------------------------------------------


class NetworkSnapshot(EventPayload):
    """The whole public state of a network; ``revision`` orders snapshots of one network."""

    network_id: str
    revision: int = Field(ge=1)
    name: str
    level: NetworkLevel
    kind: NetworkKind
    theme: str
    urgency: str | None
    host_organisation: str | None
    parent_id: str | None
    region: str | None
    cadence_weeks: int | None
    start_date: date | None
    requires_preparation: bool
    unprepared_policy: UnpreparedPolicy
    status: NetworkStatus


@event("network.created")
class NetworkCreated(NetworkSnapshot):
    pass


@event("network.updated")
class NetworkUpdated(NetworkSnapshot):
    pass


@event("network.archived")
class NetworkArchived(NetworkSnapshot):
    pass


# --- sessions ------------------------------------------------------------------------------------------


class SessionSnapshot(EventPayload):
    """A session's public facts (no meeting link); ``revision`` orders snapshots of one session."""

    session_id: str
    network_id: str
    revision: int = Field(ge=1)
    title: str
    format: SessionFormat
    mode: SessionMode
    location: str | None
    starts_at: datetime
    ends_at: datetime
    capacity: int | None
    status: SessionStatus
    contributor_ids: list[str] = Field(description="members who present or contribute")


@event("session.scheduled")
class SessionScheduled(SessionSnapshot):
    pass


@event("session.rescheduled")
class SessionRescheduled(SessionSnapshot):
    previous_starts_at: datetime
    previous_ends_at: datetime


@event("session.held")
class SessionHeld(SessionSnapshot):
    pass


@event("session.closed")
class SessionClosed(SessionSnapshot):
    pass


@event("session.cancelled")
class SessionCancelled(SessionSnapshot):
    reason: str | None


@event("statement.concluded")
class StatementConcluded(EventPayload):
    """A café's table recorded (or revised) what it concluded on one of the session's statements. The conclusion
    itself stays in the network; it travels as an output that references the statement."""

    session_id: str
    network_id: str
    statement: int = Field(ge=1, description="the statement's number in the session's list, from 1")
    concluded_at: datetime


@event("attendance.recorded")
class AttendanceRecorded(EventPayload):
    """Counts only: who attended stays in the sessions service."""

    session_id: str
    network_id: str
    revision: int = Field(ge=1)
    attendee_count: int = Field(ge=0)
    perspective_counts: dict[Perspective, int]


class Attribution(BaseModel):
    """How one author appears. ``shown_as`` is their name only if they consented to be named outside
    their network; otherwise their perspective as a role ("a participant with lived experience")."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    member_id: str
    shown_as: str
    named: bool


@event("output.published")
class OutputPublished(EventPayload):
    output_id: str
    session_id: str
    network_id: str
    kind: OutputKind
    title: str
    body: str
    url: str | None
    resource_type: ResourceType | None
    themes: list[str]
    visibility: Visibility
    licence: str
    authors: list[Attribution]
    published_at: datetime


@event("output.retracted")
class OutputRetracted(EventPayload):
    output_id: str
    network_id: str
    retracted_at: datetime
    reason: str | None


@event("reflection.recorded")
class ReflectionRecorded(EventPayload):
    """A member recorded a change after a session; who and what they wrote stay in the sessions service."""

    reflection_id: str
    network_id: str
    session_id: str
    kind: ReflectionKind
    recorded_at: datetime


@event("output.attribution_changed")
class OutputAttributionChanged(EventPayload):
    """An author of a published output was erased or changed their consent: every copy must show the
    authors as given here from now on."""

    output_id: str
    network_id: str
    authors: list[Attribution]
    changed_at: datetime


# --- the action-learning loop (sessions) ------------------------------------------------------------------


class LearningLoopSnapshot(EventPayload):
    """A learning question's place in the action-learning loop, without its words and without its owner: the
    question, the experiment and what happened stay in the sessions service, with the owner and their network's
    staff. ``owner_role`` is the owner's role in the network when they opened it (participant or staff), so a
    report can tell participants' questions from staff's; ``urgency_stated``: the owner said why it is urgent to
    them. ``revision`` orders snapshots of one loop."""

    loop_id: str
    network_id: str
    revision: int = Field(ge=1)
    status: LoopStatus
    owner_role: MembershipRole
    urgency_stated: bool
    opened_at: datetime
    brought_to_session_id: str | None
    experiment_session_id: str | None
    experiment_at: datetime | None = Field(description="when the session the experiment came out of started")
    mandate: Mandate | None
    follow_up_session_id: str | None
    followed_up_at: datetime | None = Field(description="when the session of the follow-up started")
    closed_at: datetime | None
    output_id: str | None = Field(description="the output the closed loop produced, if any")


@event("learning_question.opened")
class LearningQuestionOpened(LearningLoopSnapshot):
    pass


@event("learning_question.brought")
class LearningQuestionBrought(LearningLoopSnapshot):
    pass


@event("experiment.started")
class ExperimentStarted(LearningLoopSnapshot):
    pass


@event("experiment.mandate_changed")
class ExperimentMandateChanged(LearningLoopSnapshot):
    pass


@event("experiment.reported")
class ExperimentFollowedUp(LearningLoopSnapshot):
    """The owner reported what happened at a later session: the experiment is followed up."""


@event("learning_loop.closed")
class LearningLoopClosed(LearningLoopSnapshot):
    pass


# --- federation ----------------------------------------------------------------------------------------


PolicyTheme = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60), NoNul]


class SharingPolicy(BaseModel):
    """What flows over a link in one direction: which visibilities, and optionally only these themes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    visibilities: list[Visibility] = Field(max_length=4)
    themes: list[PolicyTheme] | None = (
        Field(None, max_length=20, description="only outputs with at least one of these themes flow"))


class LinkSnapshot(EventPayload):
    link_id: str
    revision: int = Field(ge=1)
    kind: str  # parent_child or peer
    requester_network_id: str
    target_network_id: str
    status: str  # requested, active, rejected, revoked, blocked
    requester_policy: SharingPolicy = Field(description="what flows from the requester to the target")
    target_policy: SharingPolicy = Field(description="what flows from the target to the requester")


@event("link.requested")
class LinkRequested(LinkSnapshot):
    pass


@event("link.accepted")
class LinkAccepted(LinkSnapshot):
    pass


@event("link.rejected")
class LinkRejected(LinkSnapshot):
    pass


@event("link.revoked")
class LinkRevoked(LinkSnapshot):
    pass


@event("link.blocked")
class LinkBlocked(LinkSnapshot):
    pass


@event("link.policy_changed")
class LinkPolicyChanged(LinkSnapshot):
    pass


@event("network.blocked")
class NetworkBlocked(EventPayload):
    """The operator blocked a network (itself, or as one of a blocked partner's): its links ended and it is kept
    out of every audience from now on."""

    network_id: str
    blocked_at: datetime


class PartnerChanged(EventPayload):
    """A partner's standing as the gateways must know it to authenticate its key: no key, no key hash."""

    partner_id: str
    status: str  # active, revoked, blocked
    network_ids: list[str]


@event("partner.registered")
class PartnerRegistered(PartnerChanged):
    pass


@event("partner.key_rotated")
class PartnerKeyRotated(PartnerChanged):
    """The partner's old key is refused from now on; the new one was shown once to the operator."""


@event("partner.revoked")
class PartnerRevoked(PartnerChanged):
    pass


@event("partner.blocked")
class PartnerBlocked(PartnerChanged):
    pass


@event("partner.networks_changed")
class PartnerNetworksChanged(PartnerChanged):
    """The networks the partner's key acts for changed: a peer instance's network approved here, or its
    approval withdrawn (by the operator, or because the peer withdrew the network)."""


@event("feed.appended")
class FeedAppended(EventPayload):
    """Entries were appended to the feed log of these networks (deliveries, retractions, attribution changes)
    in one transaction: streams of these networks have something new to read. Only ids: the entries stay in the
    federation service and are read from its log. (Version 2, below, carries the entries too.)"""

    network_ids: list[str] = Field(min_length=1)


class AppendedEntry(BaseModel):
    """One entry of the feed log: its position (the cursor partners resume after), the network it was logged for,
    what happened (shared, retracted, updated), and the output it shows, by id."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cursor: int
    network_id: str
    kind: str
    backfill: bool
    at: datetime
    output_id: str


class AppendedEntries(BaseModel):
    """The entries one transaction appended to the log, as ``log_after`` would read them: every position after
    ``after`` up to ``next_cursor`` (an entry whose share was retracted within the transaction is passed over,
    as the log reader passes over it), each output once in ``outputs`` (its copy, or its tombstone)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    after: int = Field(ge=0, description="the log position just before the first of these entries")
    next_cursor: int
    entries: list[AppendedEntry]
    outputs: dict[str, dict[str, Any]]


@event("feed.appended", version=2)
class FeedAppendedWithEntries(EventPayload):
    """Version 2 of ``feed.appended``: the same networks, and (when they are few enough to carry) the entries
    themselves, so that a gateway holding the log up to ``entries.after`` hands them to its streams without
    reading the log. ``entries`` is None for a transaction that appended more than an event should carry; the
    reader then reads the log, as for version 1."""

    network_ids: list[str] = Field(min_length=1)
    entries: AppendedEntries | None = None
