"""The event envelope, the catalogue's registry, and how a consumer rejects what it cannot process."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import pytest
from pydantic import ValidationError

from services.common import catalogue, events
from services.common.catalogue import MemberErased, MembershipJoined, MemberUpdated
from services.common.errors import ValidationFailed
from services.common.events import (
    Envelope,
    EventPayload,
    UnprocessableEvent,
    new_envelope,
    parse_event,
    registered_events,
)
from services.common.vocabulary import MembershipRole, Perspective

ERASED = MemberErased(member_id="m-1", revision=3)


def wire(event_payload: EventPayload = ERASED, /, **overrides: Any) -> dict[str, Any]:
    """An envelope as it crosses the broker: JSON text, decoded; ``overrides`` replace envelope fields."""
    body = new_envelope(event_payload, producer="members", correlation_id="corr-1").to_wire() | overrides
    return json.loads(json.dumps(body))


def test_an_envelope_survives_the_trip_through_json() -> None:
    payload = MembershipJoined(member_id="m-1", network_id="utrecht", role=MembershipRole.FACILITATOR,
                               perspectives=[Perspective.RESIDENT], revision=2)
    envelope = new_envelope(payload, producer="members", correlation_id="corr-1")

    parsed, parsed_payload = parse_event(json.loads(json.dumps(envelope.to_wire())))

    assert parsed == envelope
    assert parsed_payload == payload
    assert (parsed.type, parsed.version, parsed.producer) == ("membership.joined", 1, "members")
    assert parsed.occurred_at.tzinfo is not None


def test_a_new_envelope_gets_a_fresh_id_and_a_correlation_id_when_none_is_given() -> None:
    one, two = new_envelope(ERASED, producer="members"), new_envelope(ERASED, producer="members")
    assert one.id != two.id
    assert one.correlation_id and one.correlation_id != two.correlation_id


def test_envelopes_and_payloads_are_immutable_and_forbid_unknown_fields() -> None:
    with pytest.raises(ValidationError):
        ERASED.member_id = "someone-else"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        MemberErased(member_id="m-1", revision=1, email="leak@example.org")  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        Envelope.model_validate(wire(extra="field"))


def test_a_member_event_is_about_its_member_and_other_payloads_about_no_one() -> None:
    assert ERASED.subject() == "m-1"

    class Ping(EventPayload):
        note: str

    assert Ping(note="x").subject() is None


@pytest.mark.parametrize("body", [None, "a string", ["a", "list"], 42, b"bytes"])
def test_a_body_that_is_not_a_json_object_is_unprocessable(body: Any) -> None:
    with pytest.raises(UnprocessableEvent, match=rf"event body is {type(body).__name__}, not a JSON object"):
        parse_event(body)


@pytest.mark.parametrize("field", ["id", "type", "version", "occurred_at", "producer", "correlation_id",
                                   "payload"])
def test_an_envelope_missing_a_field_is_unprocessable_and_names_it(field: str) -> None:
    body = wire()
    del body[field]
    with pytest.raises(UnprocessableEvent, match=rf"not an event envelope: .*\b{field}: Field required"):
        parse_event(body)


@pytest.mark.parametrize(("field", "value"), [("id", "not-a-uuid"), ("version", 0), ("payload", "text")])
def test_an_envelope_with_a_malformed_field_is_unprocessable_and_names_it(field: str, value: Any) -> None:
    with pytest.raises(UnprocessableEvent, match=rf"not an event envelope: .*\b{field}: "):
        parse_event(wire(**{field: value}))


def test_an_unknown_event_type_is_unprocessable() -> None:
    with pytest.raises(UnprocessableEvent, match=r"unknown event member\.teleported v1"):
        parse_event(wire(type="member.teleported"))


def test_an_unknown_version_of_a_known_type_is_unprocessable() -> None:
    with pytest.raises(UnprocessableEvent, match=r"unknown event member\.erased v99"):
        parse_event(wire(version=99))


@pytest.mark.parametrize(("payload", "problem"), [
    ({"member_id": "m-1"}, r"revision: Field required"),
    ({"member_id": "m-1", "revision": 0}, r"revision: Input should be greater than or equal to 1"),
    ({"member_id": "m-1", "revision": 1, "name": "Anna"}, r"name: Extra inputs are not permitted"),
])
def test_a_payload_that_does_not_validate_is_unprocessable_and_names_the_problem(
        payload: dict[str, Any], problem: str) -> None:
    with pytest.raises(UnprocessableEvent, match=rf"invalid payload for member\.erased v1: .*{problem}"):
        parse_event(wire(payload=payload))


def test_an_unprocessable_event_is_a_validation_failure_with_its_own_code() -> None:
    assert issubclass(UnprocessableEvent, ValidationFailed)
    assert UnprocessableEvent("x").code == "unprocessable_event"


def test_a_catalogue_payload_is_checked_like_any_other() -> None:
    snapshot = wire(MemberUpdated(member_id="m-1", revision=2, name="A", email="a@example.org",
                                  organisation=None, perspectives=[Perspective.RESIDENT], expertise=[],
                                  findable_by_expertise=False, named_in_shared_outputs=False))
    snapshot["payload"]["email"] = "not-an-address"
    with pytest.raises(UnprocessableEvent, match=r"invalid payload for member\.updated v1: .*email"):
        parse_event(snapshot)


EVENT_NAME = re.compile(r"^[a-z]+(_[a-z]+)*\.[a-z]+(_[a-z]+)*$")
IRREGULAR_PAST = {"left", "held", "sent", "made", "met", "begun", "run", "shared", "set", "built", "withdrawn",
                  "brought"}


@pytest.mark.parametrize("key", sorted(registered_events()), ids=lambda key: f"{key[0]} v{key[1]}")
def test_every_registered_event_is_named_noun_dot_past_tense(key: tuple[str, int]) -> None:
    name, version = key
    assert EVENT_NAME.match(name), f"{name} is not dotted lower-case noun.verb"
    verb = name.rsplit(".", 1)[1].rsplit("_", 1)[-1]
    assert verb.endswith("ed") or verb in IRREGULAR_PAST, f"{name}: '{verb}' is not past tense"
    assert version >= 1


def test_the_catalogue_registers_the_member_events() -> None:
    assert {"member.registered", "member.updated", "member.erased", "membership.joined",
            "membership.left"} <= {name for name, _ in registered_events()}
    assert catalogue.MemberRegistered.event_type == "member.registered"


def test_an_event_type_and_version_can_be_registered_only_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(events, "_REGISTRY", {})

    @events.event("network.created", version=2)
    class NetworkCreated(EventPayload):
        network_id: str

    assert registered_events() == {("network.created", 2): NetworkCreated}
    assert (NetworkCreated.event_type, NetworkCreated.event_version) == ("network.created", 2)
    with pytest.raises(RuntimeError, match="registered twice"):
        events.event("network.created", version=2)(type("Again", (EventPayload,), {}))


def test_an_event_id_is_a_uuid() -> None:
    assert isinstance(parse_event(wire())[0].id, uuid.UUID)
