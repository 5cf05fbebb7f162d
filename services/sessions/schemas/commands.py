"""Sessions on the wire, inbound: commands and queries. Every model forbids unknown fields.

Single-field limits live here; rules that span fields (mode needs a location, statements only for a world
café, a resource needs a link) are domain rules in :mod:`services.sessions.domain`, so they name the field.
"""

from __future__ import annotations

from typing import Annotated, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, HttpUrl, StringConstraints

from services.common.i18n import DEFAULT as DEFAULT_LANGUAGE
from services.common.i18n import Language
from services.common.schemas import NoNul, UtcDatetime
from services.common.vocabulary import (
    LoopStatus,
    Mandate,
    OutputKind,
    ReflectionKind,
    ResourceType,
    SessionFormat,
    SessionMode,
    SessionStatus,
    Visibility,
)
from services.sessions.domain.outputs import DEFAULT_LICENCE, Licence

T = TypeVar("T")


def _text(max_length: int, min_length: int = 1) -> StringConstraints:
    return StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length)


def _unique(values: list[T]) -> list[T]:
    return list(dict.fromkeys(values))


# Times (UtcDatetime, shared) are stored in UTC and refused outside the years a report's period can be computed
# in; free text refuses the NUL character (NoNul), which PostgreSQL cannot store. Both name the rule.
NetworkId = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
MemberId = Annotated[str, StringConstraints(min_length=1, max_length=64), NoNul]
SessionId = Annotated[str, StringConstraints(min_length=1, max_length=36), NoNul]
Link = HttpUrl  # http or https only
Reason = Annotated[str, _text(500), NoNul]
Theme = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=1, max_length=60), NoNul]
PageSize = Annotated[int, Field(ge=1, le=200)]
PageToken = Annotated[str, StringConstraints(max_length=500), NoNul]


class Command(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ContributionIn(Command):
    member_id: MemberId
    topic: Annotated[str, _text(300), NoNul]


class ScheduleSession(Command):
    network_id: NetworkId
    title: Annotated[str, _text(200), NoNul]
    format: SessionFormat
    mode: SessionMode
    location: Annotated[str, _text(300), NoNul] | None = Field(None, description="required in person and hybrid")
    meeting_url: Link | None = Field(None, description="http(s) link; required online and hybrid")
    starts_at: UtcDatetime
    ends_at: UtcDatetime = Field(description="after starts_at, at most 24 hours later")
    capacity: Annotated[int, Field(ge=1, le=10000)] | None = Field(None, description="seats; none: unlimited")
    agenda: Annotated[str, _text(10000, min_length=0), NoNul] = ""
    contributions: Annotated[list[ContributionIn], Field(max_length=50)] = []
    statements: Annotated[list[Annotated[str, _text(500), NoNul]], Field(max_length=50)] = Field(
        [], description="statements for a world café (only that format)"
    )


class RescheduleSession(Command):
    starts_at: UtcDatetime
    ends_at: UtcDatetime
    reason: Reason | None = None


class CancelSession(Command):
    reason: Reason | None = None


class RegisterForSession(Command):
    prepared: bool | None = Field(None, description="has started applying the method (action learning)")


class RecordAttendance(Command):
    member_ids: Annotated[list[MemberId], Field(max_length=10000), AfterValidator(_unique)] = Field(
        description="everyone present; replaces what was recorded before"
    )


class PublishOutput(Command):
    kind: OutputKind
    title: Annotated[str, _text(300), NoNul]
    body: Annotated[str, _text(20000, min_length=0), NoNul] = ""
    url: Link | None = Field(None, description="required for a resource")
    resource_type: ResourceType | None = Field(None, description="required for a resource, forbidden otherwise")
    authors: Annotated[list[MemberId], Field(min_length=1, max_length=20), AfterValidator(_unique)]
    themes: Annotated[list[Theme], Field(max_length=20), AfterValidator(_unique)] = []
    visibility: Visibility = Visibility.NETWORK
    licence: Licence = DEFAULT_LICENCE
    statement: int | None = Field(None, ge=1, le=50, description="the number (from 1) of the session's statement "
                                                                 "this output came from: a café's harvest")


class ConcludeStatement(Command):
    """What the table concluded on one statement of a world café or knowledge café."""

    conclusion: Annotated[str, _text(5000), NoNul]


class RetractOutput(Command):
    reason: Reason | None = None


class RecordReflection(Command):
    session_id: SessionId
    kind: ReflectionKind
    text: Annotated[str, _text(5000), NoNul]


class ListSessions(Command):
    network_id: NetworkId | None = None
    status: SessionStatus | None = None
    starts_from: UtcDatetime | None = Field(None, description="sessions starting at or after this time")
    starts_before: UtcDatetime | None = Field(None, description="sessions starting before this time")
    page_size: PageSize = 50
    page_token: PageToken | None = None


class ListOutputs(Command):
    """Outputs of one network or one session, oldest first; retracted ones appear as tombstones."""

    network_id: NetworkId | None = None
    session_id: SessionId | None = None
    kind: OutputKind | None = None
    page_size: PageSize = 50
    page_token: PageToken | None = None


class ListReflections(Command):
    """A person's own reflections, newest first. Without ``member_id``, the caller's own."""

    member_id: MemberId | None = Field(None, description="whose reflections: your own by default; only the "
                                                         "operator names someone else")
    page_size: PageSize = 50
    page_token: PageToken | None = None


class LearningReportQuery(Command):
    period_from: UtcDatetime | None = Field(None, description="start of the period (inclusive)")
    period_to: UtcDatetime | None = Field(None, description="end of the period (exclusive); default now")
    language: Language = Field(DEFAULT_LANGUAGE, description="the language of the summary: nl or en")


# --- the action-learning loop -------------------------------------------------------------------------------

OutputIdRef = Annotated[str, StringConstraints(min_length=1, max_length=36), NoNul]


class OpenLearningQuestion(Command):
    network_id: NetworkId
    question: Annotated[str, _text(2000), NoNul] = Field(description="the question, from applying the approach "
                                                                     "in your own work")
    urgency: Annotated[str, _text(2000), NoNul] | None = Field(None, description="why it is urgent to you now")
    shared_with_network: bool = Field(False, description="the network's other members may read it too; its "
                                                         "coordinators and facilitators always may")


class BringQuestion(Command):
    session_id: SessionId = Field(description="a planned or held session of the question's network")


class StartExperiment(Command):
    session_id: SessionId = Field(description="the held session the experiment came out of")
    experiment: Annotated[str, _text(2000), NoNul] = Field(description="what you will try in practice")
    mandate: Mandate = Field(description="whether your organisation gave you the mandate: yes, asked or no")


class ChangeMandate(Command):
    mandate: Mandate


class FollowUpExperiment(Command):
    session_id: SessionId = Field(description="the later held session where you reported back")
    what_happened: Annotated[str, _text(5000), NoNul]


class CloseLoop(Command):
    lesson: Annotated[str, _text(5000), NoNul] | None = Field(None, description="what was learnt")
    output_id: OutputIdRef | None = Field(None, description="the output the loop produced: a live output of the "
                                                            "question's network")


class ListLearningQuestions(Command):
    """Of one network, oldest first: those the caller may see (their own, shared ones, all for staff)."""

    network_id: NetworkId
    status: LoopStatus | None = None
    page_size: PageSize = 50
    page_token: PageToken | None = None
