"""Members on the wire: commands and queries in, views out. Every model forbids unknown fields."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    EmailStr,
    Field,
    StringConstraints,
)

from services.common.schemas import Command, NoNul, PartialUpdate
from services.common.vocabulary import MembershipRole, Perspective

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), NoNul]
Organisation = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), NoNul]
ExpertiseTag = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_lower=True, min_length=1, max_length=60,
                      pattern=r"^[\w][\w\- ]*$"),
]
NetworkId = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
MemberId = Annotated[str, StringConstraints(min_length=1, max_length=64), NoNul]
QuestionId = MemberId  # the same shape: an opaque id Kring issued
PageToken = Annotated[str, StringConstraints(max_length=500), NoNul]

T = TypeVar("T")


def _lower(address: str) -> str:
    return address.strip().lower()


# Addresses differ only in case are the same person: store and compare them lower-cased.
Email = Annotated[EmailStr, StringConstraints(max_length=254), AfterValidator(_lower)]


def _unique(values: list[T]) -> list[T]:
    """The values without repeats, in their first order."""
    return list(dict.fromkeys(values))


Perspectives = Annotated[list[Perspective], Field(min_length=1, max_length=8), AfterValidator(_unique)]
Expertise = Annotated[list[ExpertiseTag], Field(max_length=30), AfterValidator(_unique)]


class RegisterMember(Command):
    name: Name
    email: Email
    organisation: Organisation | None = None
    perspectives: Perspectives
    expertise: Expertise = []
    findable_by_expertise: bool = Field(False, description="consents to be found by expertise across the federation")
    named_in_shared_outputs: bool = Field(
        False, description="consents to be named in outputs shared beyond their own networks"
    )


class UpdateMember(PartialUpdate):
    """Only the fields present change; ``organisation: null`` clears it."""

    non_nullable = frozenset(
        {"name", "email", "perspectives", "expertise", "findable_by_expertise", "named_in_shared_outputs"}
    )

    name: Name | None = None
    email: Email | None = None
    organisation: Organisation | None = None
    perspectives: Perspectives | None = None
    expertise: Expertise | None = None
    findable_by_expertise: bool | None = None
    named_in_shared_outputs: bool | None = None



CONSENT_FIELDS = frozenset({"findable_by_expertise", "named_in_shared_outputs"})


class JoinNetwork(Command):
    role: MembershipRole = MembershipRole.PARTICIPANT


class SearchMembers(Command):
    perspective: Perspective | None = None
    expertise: ExpertiseTag | None = None
    organisation: Organisation | None = None
    network_id: NetworkId | None = None
    page_size: int = Field(50, ge=1, le=200)
    page_token: PageToken | None = None


class FindExpertise(Command):
    """Who knows what, across the federation: only members who consented (``findable_by_expertise``)."""

    tag: ExpertiseTag
    page_size: int = Field(50, ge=1, le=200)
    page_token: PageToken | None = None


class FindExperts(Command):
    """Who knows what within the networks the caller belongs to: only members who consented
    (``findable_by_expertise``). Without a tag, every findable member of those networks."""

    tag: ExpertiseTag | None = None
    network_id: NetworkId | None = None
    page_size: int = Field(50, ge=1, le=200)
    page_token: PageToken | None = None


# --- questions to experts -----------------------------------------------------------------------------------

QuestionText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000), NoNul]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500), NoNul]


class QuestionStatus(StrEnum):
    OPEN = "open"
    ANSWERED = "answered"
    DECLINED = "declined"


class AskQuestion(Command):
    """Ask a findable expert of a network you belong to a question through Kring. Neither side's contact details
    are shown; the expert sees your name only if ``share_name``."""

    expert_id: MemberId = Field(description="an expert's member_id from GET /v1/expertise")
    network_id: NetworkId = Field(description="a network you and the expert both belong to")
    question: QuestionText
    tag: ExpertiseTag | None = Field(None, description="the expertise asked about: one of the expert's tags")
    share_name: bool = Field(False, description="show the expert your name (otherwise: your perspectives only)")


class AnswerQuestion(Command):
    """The expert's answer; with ``share_email`` and/or ``contact_note`` they share how to reach them."""

    answer: QuestionText
    share_email: bool = Field(False, description="show the asker your email address")
    contact_note: ShortText | None = Field(None, description="other contact details you choose to share")


class DeclineQuestion(Command):
    reason: ShortText | None = Field(None, description="shown to the asker")


class ListQuestions(Command):
    role: Literal["asked", "received"] = Field(description="the questions you asked, or those you received")
    status: QuestionStatus | None = None
    page_size: int = Field(50, ge=1, le=200)
    page_token: PageToken | None = None


TokenVia = Literal["operator", "sign-in"]
# A sign-in's token lives 1 minute to 12 hours (a working day by default): the console asks again, not the person.
SIGN_IN_TTL_MIN, SIGN_IN_TTL_MAX, SIGN_IN_TTL_DEFAULT = 60, 43_200, 28_800
OPERATOR_TTL_MAX = 366 * 86_400  # a token the operator issues may expire; within a year if it does


class IssueToken(Command):
    label: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), NoNul] = "admin"
    ttl_seconds: int | None = Field(None, ge=60, le=OPERATOR_TTL_MAX,
                                    description="seconds until the token expires; absent: until revoked")


class SignInRequest(Command):
    """A verified sign-in, as the sign-in broker sends it: whose token it wants, and for how long."""

    email: Email = Field(description="the verified e-mail address of the person who signed in")
    ttl_seconds: int = Field(SIGN_IN_TTL_DEFAULT, ge=SIGN_IN_TTL_MIN, le=SIGN_IN_TTL_MAX,
                             description="seconds until the token expires")


class SignIn(SignInRequest):
    """The sign-in as the gateway passes it on: ``operator`` when the e-mail is one of KRING_OPERATOR_EMAILS."""

    operator: bool = False


class MembershipOut(BaseModel):
    network_id: str
    role: MembershipRole
    joined_at: datetime


class MemberOut(BaseModel):
    id: str
    name: str
    email: str
    organisation: str | None
    perspectives: list[Perspective]
    expertise: list[str]
    findable_by_expertise: bool
    named_in_shared_outputs: bool
    memberships: list[MembershipOut]
    created_at: datetime
    updated_at: datetime
    revision: int


class MemberPage(BaseModel):
    items: list[MemberOut]
    next_page_token: str | None = None


class ExpertOut(BaseModel):
    """A findable member as the federation sees them: never an email address or a member id."""

    name: str
    organisation: str | None
    expertise: list[str]
    perspectives: list[Perspective]


class ExpertPage(BaseModel):
    items: list[ExpertOut]
    next_page_token: str | None = None


class NetworkExpertOut(BaseModel):
    """A findable member as the people of their networks see them: enough to ask them a question through Kring,
    never an email address."""

    member_id: str
    name: str
    organisation: str | None
    expertise: list[str]
    perspectives: list[Perspective]
    network_ids: list[str] = Field(description="the networks of the search this expert belongs to")


class NetworkExpertPage(BaseModel):
    items: list[NetworkExpertOut]
    next_page_token: str | None = None


class ExpertShown(BaseModel):
    """The expert as the asker sees them: they consented to be found; their contact only as they shared it."""

    member_id: str
    name: str
    organisation: str | None


class AskerShown(BaseModel):
    """The asker as the expert sees them: a name only if the asker chose to share it, never an id or address."""

    name: str | None
    perspectives: list[Perspective]


class SharedContact(BaseModel):
    email: str | None = None
    note: str | None = None


class QuestionOut(BaseModel):
    """A question as one of its two parties sees it (``role``: asked, or received)."""

    id: str
    role: Literal["asked", "received"]
    network_id: str
    tag: str | None
    question: str
    status: QuestionStatus
    asked_at: datetime
    closed_at: datetime | None
    answer: str | None
    decline_reason: str | None
    expert: ExpertShown | None = Field(None, description="for the asker")
    asker: AskerShown | None = Field(None, description="for the expert")
    expert_contact: SharedContact | None = Field(
        None, description="what the expert chose to share with their answer (the asker's and the expert's view)")
    revision: int


class QuestionPage(BaseModel):
    items: list[QuestionOut]
    next_page_token: str | None = None


class TokenInfo(BaseModel):
    token_id: str
    member_id: str
    label: str
    created_at: datetime
    revoked_at: datetime | None = None
    expires_at: datetime | None = Field(None, description="when the token stops working; null: until revoked")
    via: TokenVia = Field("operator", description="issued by the operator, or by a sign-in")
    operator: bool = Field(False, description="whether the token carries the operator's authority")


class TokenIssued(TokenInfo):
    token: str = Field(description="the bearer token; shown once, only its hash is stored")


class SignedIn(BaseModel):
    """A sign-in's token: shown once; the console keeps it for the session and revokes it at sign-out."""

    token: str = Field(description="the bearer token; shown once, only its hash is stored")
    token_id: str = Field(description="revoke it with DELETE /v1/tokens/{token_id} at sign-out")
    member_id: str
    expires_at: datetime
    operator: bool = Field(description="true when the token carries the operator's authority")


class EventRecord(BaseModel):
    type: str
    occurred_at: datetime


class MemberExport(BaseModel):
    """Everything Kring's members service holds about one person."""

    exported_at: datetime
    member: MemberOut
    tokens: list[TokenInfo]
    events: list[EventRecord]
    questions: list[QuestionOut] = Field([], description="the questions the member asked experts or received")


class ErasureReceipt(BaseModel):
    member_id: str
    erased_at: datetime


class Principal(BaseModel):
    member_id: str
    administers: list[str]
    facilitates: list[str]
    member_of: list[str] = Field(description="every network the member belongs to, in any role")
    token_id: str | None = None
    expires_at: datetime | None = Field(None, description="when the token stops working; null: until revoked")
    operator: bool = Field(False, description="the token carries the operator's authority (an operator's sign-in)")


class ServiceHealth(BaseModel):
    service: str
    database: str
