"""``kring.v1`` requests to the services' validated JSON, or INVALID_ARGUMENT naming every broken field.

Requests are checked here, at the edge, with the services' own request models (so the rules are the ones
the services apply again) plus what only the wire has: enum numbers. An UNSPECIFIED value where one is
required breaks the rule ``required``; a number this version does not define breaks ``known_value``.
Field names in violations are the proto's (``title``, ``themes.3``, ``policy.visibilities.0``).
"""

from __future__ import annotations

import re
from datetime import UTC
from typing import Annotated, Any, TypeVar

from google.protobuf.internal.enum_type_wrapper import EnumTypeWrapper
from pydantic import BaseModel, StringConstraints, TypeAdapter, ValidationError

from services.api.enums import enum_text
from services.api.kring.v1 import federation_pb2 as pb
from services.common.errors import ValidationFailed, violation, violations_from_pydantic
from services.common.schemas import OutputId
from services.federation.schemas import (
    FeedQuery,
    NetworkId,
    PartnerOutput,
    PublishedQuery,
    RequestLink,
    SharingPolicyIn,
)
from services.gateway.shared import idempotency
from services.members.schemas import FindExpertise
from services.networks.schemas import ListNetworks
from services.sessions.schemas.commands import ListSessions

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")

CURSOR = re.compile(r"^[0-9]{1,19}$")
MAX_CURSOR = 2**63 - 1
LinkId = Annotated[str, StringConstraints(min_length=1, max_length=100)]


class Check:
    """Collects violations over one request; ``done`` or ``model`` raise them all at once."""

    def __init__(self) -> None:
        self.violations: list[dict[str, str]] = []

    def enum(self, enum_type: EnumTypeWrapper, number: int, field: str, *, required: bool = False) -> str | None:
        if number == 0:
            if required:
                self.violations.append(violation(field, "required", f"give a {enum_type.DESCRIPTOR.name} value"))
            return None
        try:
            return enum_text(enum_type, number)
        except ValueError:
            self.violations.append(violation(field, "known_value",
                                             f"{number} is not a {enum_type.DESCRIPTOR.name} value"))
            return None

    def value(self, adapter: TypeAdapter[T], value: object, field: str) -> T | None:
        """``value`` validated, or None with its violations collected."""
        try:
            return adapter.validate_python(value)
        except ValidationError as exc:
            self.violations += violations_from_pydantic(exc, (field,))
            return None

    def model(self, model: type[M], data: dict[str, Any], prefix: tuple[str, ...] = ()) -> M:
        """Validate ``data``; a field already reported (a bad enum) is not reported twice."""
        try:
            parsed = model.model_validate(data)
        except ValidationError as exc:
            flagged = {v["field"] for v in self.violations}
            self.violations += [v for v in violations_from_pydantic(exc, prefix) if v["field"] not in flagged
                                and not any(v["field"].startswith(f"{f}.") for f in flagged)]
            parsed = None
        self.done()
        assert parsed is not None
        return parsed

    def done(self) -> None:
        if self.violations:
            summary = "; ".join(f"{v['field']}: {v['message']}" for v in self.violations[:5])
            raise ValidationFailed(f"invalid request: {summary}", self.violations)


NETWORK_ID: TypeAdapter[str] = TypeAdapter(NetworkId)
OUTPUT_ID: TypeAdapter[str] = TypeAdapter(OutputId)
LINK_ID: TypeAdapter[str] = TypeAdapter(LinkId)


def given(**fields: Any) -> dict[str, Any]:
    """Proto3 has no null: an empty string or 0 is a field left out."""
    return {name: value for name, value in fields.items() if value not in (None, "", 0)}


def network_id(value: str, field: str = "network_id") -> str:
    check = Check()
    if not value:
        check.violations.append(violation(field, "required", "give a network id"))
    found = check.value(NETWORK_ID, value, field) if value else None
    check.done()
    assert found is not None  # done() raised for a missing or invalid id
    return found


def output_id(value: str) -> str:
    check = Check()
    found = check.value(OUTPUT_ID, value, "output_id")
    check.done()
    assert found is not None  # done() raised for an invalid id
    return found


def link_id(value: str) -> str:
    check = Check()
    found = check.value(LINK_ID, value, "link_id")
    check.done()
    assert found is not None  # done() raised for an invalid id
    return found


def list_networks(request: pb.ListNetworksRequest) -> dict[str, Any]:
    check = Check()
    data = given(level=check.enum(pb.NetworkLevel, request.level, "level"),
                 kind=check.enum(pb.NetworkKind, request.kind, "kind"), theme=request.theme,
                 parent_id=request.parent_id, page_token=request.page_token)
    if request.page_size:
        data["page_size"] = request.page_size
    return check.model(ListNetworks, data).model_dump(mode="json", exclude_none=True)


def list_sessions(request: pb.ListSessionsRequest) -> dict[str, Any]:
    check = Check()
    if not request.network_id:
        check.violations.append(violation("network_id", "required", "give a network id"))
    data = given(network_id=request.network_id, page_token=request.page_token)
    if request.page_size:
        data["page_size"] = request.page_size
    for field in ("starts_from", "starts_before"):
        if request.HasField(field):
            data[field] = getattr(request, field).ToDatetime(tzinfo=UTC)
    return check.model(ListSessions, data).model_dump(mode="json", exclude_none=True)


def partner_output(request: pb.PublishOutputRequest) -> dict[str, Any]:
    check = Check()
    data = given(network_id=request.network_id, client_output_id=request.client_output_id,
                 kind=check.enum(pb.OutputKind, request.kind, "kind", required=True), title=request.title,
                 body=request.body, url=request.url,
                 resource_type=check.enum(pb.ResourceType, request.resource_type, "resource_type"),
                 visibility=check.enum(pb.Visibility, request.visibility, "visibility", required=True),
                 licence=request.licence, session_ref=request.session_ref)
    data["themes"] = list(request.themes)
    data["authors"] = list(request.authors)
    for field in ("network_id", "client_output_id", "title"):
        if not getattr(request, field):
            check.violations.append(violation(field, "required", f"give a {field}"))
    return check.model(PartnerOutput, data).model_dump(mode="json")


def feed_query(request: pb.ListOutputsRequest) -> dict[str, Any]:
    data = given(network_id=request.network_id, page_token=request.page_token)
    if request.page_size:
        data["page_size"] = request.page_size
    return Check().model(FeedQuery, data).model_dump(mode="json", exclude_none=True)


def published_query(request: pb.ListPublishedOutputsRequest) -> dict[str, Any]:
    data = given(network_id=request.network_id, page_token=request.page_token)
    if request.page_size:
        data["page_size"] = request.page_size
    return Check().model(PublishedQuery, data).model_dump(mode="json", exclude_none=True)


def cursor(text: str) -> int:
    """The decimal position a stream resumes after; empty: from the beginning."""
    if not text:
        return 0
    if not CURSOR.match(text) or int(text) > MAX_CURSOR:
        raise ValidationFailed.single("cursor", "valid_cursor", "not a cursor this API returned")
    return int(text)


def stream_request(request: pb.StreamOutputsRequest | pb.GetFeedHeadRequest) -> tuple[list[str], int]:
    """Which networks a stream (or a feed head) covers, and the cursor it counts from."""
    check = Check()
    if len(request.network_ids) > 100:
        check.violations.append(violation("network_ids", "max_items", "at most 100 networks"))
    else:
        for index, value in enumerate(request.network_ids):
            check.value(NETWORK_ID, value, f"network_ids.{index}")
    check.done()
    return list(dict.fromkeys(request.network_ids)), cursor(request.cursor)


def link_request(request: pb.RequestLinkRequest) -> dict[str, Any]:
    check = Check()
    data = given(requester_network_id=request.requester_network_id, target_network_id=request.target_network_id)
    for field in ("requester_network_id", "target_network_id"):
        if not getattr(request, field):
            check.violations.append(violation(field, "required", "give a network id"))
    if request.request_id:
        try:
            idempotency.check_key(request.request_id, "request_id")
        except ValidationFailed as exc:
            check.violations.extend(exc.violations)
    if request.HasField("policy"):
        visibilities = [check.enum(pb.Visibility, number, f"policy.visibilities.{index}", required=True)
                        for index, number in enumerate(request.policy.visibilities)]
        policy = {"visibilities": [v for v in visibilities if v is not None],
                  "themes": list(request.policy.themes) or None}
        data["policy"] = check.model(SharingPolicyIn, policy, ("policy",)).model_dump(mode="json")
    return check.model(RequestLink, data).model_dump(mode="json", exclude_none=True)


def expertise_query(request: pb.FindExpertiseRequest) -> dict[str, Any]:
    check = Check()
    if not request.tag.strip():
        check.violations.append(violation("tag", "required", "give an expertise tag"))
    data = given(tag=request.tag, page_token=request.page_token)
    if request.page_size:
        data["page_size"] = request.page_size
    return check.model(FindExpertise, data).model_dump(mode="json", exclude_none=True)
