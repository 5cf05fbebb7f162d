"""Federation on the wire: link and partner commands, feeds and the log partners stream from."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, TypedDict

from pydantic import BaseModel, Field, StringConstraints, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from services.common.catalogue import SharingPolicy
from services.common.schemas import Command, NoNul
from services.common.vocabulary import NetworkKind, NetworkLevel, OutputKind, ResourceType, Visibility

NetworkId = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=1, max_length=60), NoNul]
Url = Annotated[str, StringConstraints(max_length=2000, pattern=r"^https?://[^\s]+$"), NoNul]
Cursor = Annotated[int, Field(ge=0, description="the position after which to read; 0 for the beginning")]
InstanceId = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
Json = dict[str, Any]  # an RPC argument before it is validated into a model, or an answer dumped from one


class SharingPolicyIn(Command):
    """A link's policy for one direction, as a client sends it (admin API and partner API)."""

    visibilities: Annotated[list[Visibility], Field(max_length=4, description="linked, federation and/or public")]
    themes: Annotated[list[Tag], Field(min_length=1, max_length=20)] | None = Field(
        None, description="only outputs with one of these themes; none: any theme")

class RequestLink(Command):
    requester_network_id: NetworkId
    target_network_id: NetworkId
    policy: SharingPolicy | None = Field(None, description="what flows from the requester; default: all but network")


class AcceptLink(Command):
    policy: SharingPolicy | None = Field(None, description="what flows from the accepting side; default: all")


class SetLinkPolicy(Command):
    network_id: NetworkId = Field(description="the side whose outgoing flow this policy governs")
    policy: SharingPolicy


class BlockSubject(Command):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500), NoNul] | None = None


class PartnerKind(StrEnum):
    ORGANISATION = "organisation"  # an organisation with its own systems
    INSTANCE = "instance"  # another Kring instance, whose relay follows this one


class RemoteNetwork(Command):
    """A network another Kring instance hosts, as this instance's operator registers it for that instance."""

    id: NetworkId = Field(description="the network's id on its own instance")
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), NoNul]
    theme: Annotated[str, StringConstraints(strip_whitespace=True, max_length=300), NoNul] = ""
    level: NetworkLevel | None = None
    kind: NetworkKind | None = None


class RegisterPartner(Command):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), NoNul]
    kind: PartnerKind = PartnerKind.ORGANISATION
    instance_id: InstanceId | None = Field(None, validate_default=True,
                                           description="kind instance: the other instance's id (required)")
    network_ids: Annotated[list[NetworkId], Field(max_length=100, validate_default=True,
                                                  description="kind organisation: its networks here (at least one)")
                           ] = []
    remote_networks: Annotated[list[RemoteNetwork], Field(
        max_length=100, validate_default=True,
        description="kind instance, optional (the manual way): the other instance's networks that may link with "
                    "networks here; they join this instance's directory of federation networks, owned by the "
                    "partner. Without them, approve networks from the peer's directory (GET "
                    "/v1/peers/{instance_id}/networks) once the peer is configured")] = []

    @field_validator("instance_id")
    @classmethod
    def _instance_id_for_instances(cls, value: str | None, info: ValidationInfo) -> str | None:
        if (value is None) == (info.data.get("kind") == PartnerKind.INSTANCE):
            raise PydanticCustomError("instance_only", "give instance_id for a partner of kind instance, and only then")
        return value

    @field_validator("network_ids")
    @classmethod
    def _networks_of_organisations(cls, value: list[str], info: ValidationInfo) -> list[str]:
        if info.data.get("kind") == PartnerKind.INSTANCE and value:
            raise PydanticCustomError("organisation_only", "an instance's networks go in remote_networks")
        if info.data.get("kind", PartnerKind.ORGANISATION) == PartnerKind.ORGANISATION and not value:
            raise PydanticCustomError("too_short", "give at least one network")
        return value

    @field_validator("remote_networks")
    @classmethod
    def _remote_networks_of_instances(cls, value: list[RemoteNetwork], info: ValidationInfo) -> list[RemoteNetwork]:
        if info.data.get("kind", PartnerKind.ORGANISATION) == PartnerKind.ORGANISATION and value:
            raise PydanticCustomError("instance_only", "only a partner of kind instance has remote networks")
        return value


class PartnerOutput(Command):
    """An output a partner publishes for one of its own networks."""

    network_id: NetworkId
    client_output_id: Annotated[str, StringConstraints(min_length=1, max_length=100), NoNul]
    session_ref: Annotated[str, StringConstraints(max_length=100), NoNul] | None = None
    kind: OutputKind
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300), NoNul]
    body: Annotated[str, StringConstraints(max_length=20000), NoNul] = ""
    url: Url | None = None
    resource_type: ResourceType | None = None
    themes: Annotated[list[Tag], Field(max_length=20)] = []
    visibility: Visibility = Visibility.NETWORK
    licence: Annotated[str, StringConstraints(min_length=1, max_length=50), NoNul] = "CC-BY-4.0"
    authors: Annotated[list[Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
                                      NoNul]],
                       Field(max_length=20, description="as the partner may show them: names only with consent")] = []


class FeedQuery(Command):
    network_id: NetworkId
    page_size: int = Field(50, ge=1, le=200)
    page_token: Annotated[str, StringConstraints(max_length=200), NoNul] | None = None


class PublishedQuery(Command):
    """The outputs a partner published: of one of its networks, or of all of them."""

    network_id: NetworkId | None = None
    page_size: int = Field(50, ge=1, le=200)
    page_token: Annotated[str, StringConstraints(max_length=300), NoNul] | None = None


class PublishedItem(BaseModel):
    output: dict[str, Any] = Field(description="the copy as recipients see it, or its tombstone once retracted")
    recipients: int = Field(description="how many networks hold it (the public feed not counted)")


class PublishedPage(BaseModel):
    items: list[PublishedItem]
    next_page_token: str | None = None


class LogQuery(Command):
    cursor: Cursor = 0
    network_ids: list[NetworkId] | None = Field(None, max_length=1000)
    limit: int = Field(500, ge=1, le=5000)
    # One output shared with 1,000 networks is 1,000 entries: with this, the page carries it once (SharedLogPage).
    outputs_once: bool = False


class LinkOut(BaseModel):
    link_id: str
    kind: str
    requester_network_id: str
    target_network_id: str
    status: str
    requester_policy: SharingPolicy
    target_policy: SharingPolicy
    requested_at: datetime
    updated_at: datetime
    revision: int


class LinkRequested(BaseModel):
    link: LinkOut
    created: bool = Field(description="False: the open link between the two networks, asked before")


class PartnerOut(BaseModel):
    partner_id: str
    name: str
    status: str
    network_ids: list[str]
    created_at: datetime
    kind: str = Field("organisation", description="organisation, or instance (another Kring instance)")
    instance_id: str | None = Field(None, description="for kind instance: the other instance's id")


class PartnerKey(PartnerOut):
    api_key: str = Field(description="shown once; only its hash is stored")


class FeedItem(BaseModel):
    position: int
    network_id: str
    delivered_at: datetime
    backfill: bool
    output: dict[str, Any] = Field(description="the shared copy, or a tombstone {output_id, retracted: true}")


class FeedPage(BaseModel):
    items: list[FeedItem]
    next_page_token: str | None = None


class LogEntry(BaseModel):
    cursor: int
    network_id: str
    kind: str = Field(description="shared, retracted or updated")
    backfill: bool
    at: datetime
    output: dict[str, Any]


class LogPage(BaseModel):
    entries: list[LogEntry]
    next_cursor: int = Field(description="read on from here: past every entry read, shown or passed over")


class LogEntryRef(BaseModel):
    """A :class:`LogEntry` whose output is in its page's ``outputs``, by id."""

    cursor: int
    network_id: str
    kind: str = Field(description="shared, retracted or updated")
    backfill: bool
    at: datetime
    output_id: str


class SharedLogPage(BaseModel):
    """A :class:`LogPage` with each output once: what an entry shows depends on its output alone (its copy or
    its tombstone), never on the network it was logged for, so entries of one page share it."""

    entries: list[LogEntryRef]
    outputs: dict[str, dict[str, Any]] = Field(description="output id -> what its entries show")
    next_cursor: int = Field(description="read on from here: past every entry read, shown or passed over")


class DeliveryOut(BaseModel):
    network_id: str
    delivered_at: datetime
    backfill: bool
    tombstoned_at: datetime | None


class DeliveryLog(BaseModel):
    output_id: str
    origin_network_id: str
    items: list[DeliveryOut] = Field(description="every network that received the output, in order")


class HeldCopy(BaseModel):
    """An output as a feed the reader may read holds it: the copy, or its tombstone; ``output`` None when no such
    feed holds it."""

    output: dict[str, Any] | None = None


class ServiceHealth(BaseModel):
    service: str
    database: str


class PartnerOutputShared(TypedDict):
    output_id: str
    recipients: int  # the networks it reached (the public feed not counted)
    retracted: bool


class PartnerOutputRetracted(TypedDict):
    output_id: str
    retracted: bool


