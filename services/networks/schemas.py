"""Networks on the wire: commands and queries in, views and reports out."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from services.common.i18n import DEFAULT as DEFAULT_LANGUAGE
from services.common.i18n import Language
from services.common.schemas import Command, Date, NoNul, PartialUpdate
from services.common.vocabulary import (
    MembershipRole,
    NetworkKind,
    NetworkLevel,
    NetworkStatus,
    Perspective,
    UnpreparedPolicy,
)

Text200 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), NoNul]
Theme = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=300), NoNul]
Urgency = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000), NoNul]
Region = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), NoNul]
NetworkId = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
CadenceWeeks = Annotated[int, Field(ge=1, le=52, description="planned weeks between sessions")]


class CreateNetwork(Command):
    name: Text200
    level: NetworkLevel
    kind: NetworkKind
    theme: Theme = Field(description="the theme, framed sharply")
    urgency: Urgency | None = Field(None, description="why the theme is urgent for the participants")
    host_organisation: Text200 | None = None
    parent_id: NetworkId | None = Field(None, description="the network one level up in the hierarchy")
    region: Region | None = None
    cadence_weeks: CadenceWeeks | None = None
    start_date: Date | None = None
    requires_preparation: bool = Field(
        False, description="participants must have started applying the method before joining a session"
    )
    unprepared_policy: UnpreparedPolicy = UnpreparedPolicy.REFUSE


class UpdateNetwork(PartialUpdate):
    """Only the fields present change; optional fields may be cleared with null."""

    non_nullable = frozenset({"name", "level", "kind", "theme", "requires_preparation", "unprepared_policy"})

    name: Text200 | None = None
    level: NetworkLevel | None = None
    kind: NetworkKind | None = None
    theme: Theme | None = None
    urgency: Urgency | None = None
    host_organisation: Text200 | None = None
    parent_id: NetworkId | None = None
    region: Region | None = None
    cadence_weeks: CadenceWeeks | None = None
    start_date: Date | None = None
    requires_preparation: bool | None = None
    unprepared_policy: UnpreparedPolicy | None = None



class ListNetworks(Command):
    level: NetworkLevel | None = None
    kind: NetworkKind | None = None
    theme: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), NoNul] | None = Field(
        None, description="words the theme contains (case-insensitive)"
    )
    parent_id: NetworkId | None = None
    region: Region | None = None
    status: NetworkStatus | None = NetworkStatus.ACTIVE
    network_ids: list[NetworkId] | None = Field(None, description="restrict to these networks")
    page_size: int = Field(50, ge=1, le=200)
    page_token: Annotated[str, StringConstraints(max_length=500), NoNul] | None = None


class Person(BaseModel):
    """A coordinator or facilitator as the directory shows them. ``member_id`` only to readers inside the network
    (and the operator): outside it staff are listed by role and perspectives, never by a stable id
    (docs/decisions/0012-who-is-named-outside-a-network.md)."""

    member_id: str | None
    role: MembershipRole
    perspectives: list[Perspective]


class NetworkOut(BaseModel):
    id: str
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
    coordinators: list[Person]
    facilitators: list[Person]
    member_count: int
    created_at: datetime
    updated_at: datetime
    revision: int


class NetworkPage(BaseModel):
    items: list[NetworkOut]
    next_page_token: str | None = None


class NetworkNode(BaseModel):
    id: str
    name: str
    level: NetworkLevel
    kind: NetworkKind
    status: NetworkStatus
    children: list[NetworkNode] = []


class HealthStep(BaseModel):
    step: int = Field(ge=1, le=9)
    key: str
    title: str
    status: str = Field(description="shown, not_shown, or not_measurable (the data cannot show this step)")
    evidence: str
    missing: str | None = None
    little_data: bool = Field(False, description="the step is judged from little data: read it with care")
    little_data_note: str | None = Field(None, description="what the judgement rests on, when it is little")


class HealthReport(BaseModel):
    network_id: str
    network_name: str
    generated_at: datetime
    language: str = Field("nl", description="the language of the titles, evidence and what is missing: nl or en")
    steps: list[HealthStep]


class HealthReportQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    language: Language = DEFAULT_LANGUAGE


class ServiceHealth(BaseModel):
    service: str
    database: str
