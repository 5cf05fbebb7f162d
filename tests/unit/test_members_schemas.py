"""What the members service accepts on the wire: bad input is a ValidationFailed naming field and rule."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from services.common.errors import ValidationFailed
from services.common.nameko_kit import parse_request  # imports eventlet; never monkey-patch here
from services.common.vocabulary import MembershipRole, Perspective
from services.members.schemas import IssueToken, JoinNetwork, RegisterMember, SearchMembers, UpdateMember

VALID: dict[str, Any] = {"name": "Anna de Vries", "email": "anna@example.org", "perspectives": ["resident"]}


def violations_of(model: type[BaseModel], data: Any) -> list[tuple[str, str]]:
    with pytest.raises(ValidationFailed) as raised:
        parse_request(model, data)
    assert raised.value.message.startswith("invalid input: ")
    return [(v["field"], v["rule"]) for v in raised.value.violations]


def without(data: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != key}


@pytest.mark.parametrize(("data", "expected"), [
    (without(VALID, "name"), ("name", "missing")),
    (without(VALID, "perspectives"), ("perspectives", "missing")),
    (VALID | {"email": "not-an-address"}, ("email", "value_error")),
    (VALID | {"email": "anna@"}, ("email", "value_error")),
    (VALID | {"perspectives": ["astrologer"]}, ("perspectives.0", "enum")),
    (VALID | {"name": "x" * 201}, ("name", "string_too_long")),
    (VALID | {"name": "   "}, ("name", "string_too_short")),
    (VALID | {"name": 123}, ("name", "string_type")),
    (VALID | {"perspectives": "x"}, ("perspectives", "list_type")),
    (VALID | {"perspectives": []}, ("perspectives", "too_short")),
    (VALID | {"findable_by_expertise": "perhaps"}, ("findable_by_expertise", "bool_parsing")),
    (VALID | {"expertise": ["-starts-with-dash"]}, ("expertise.0", "string_pattern_mismatch")),
    (VALID | {"is_admin": True}, ("is_admin", "extra_forbidden")),
], ids=["missing name", "missing perspectives", "malformed email", "email without domain",
        "unknown perspective", "name of 201 chars", "blank name", "name=123", "perspectives='x'",
        "empty perspectives", "consent not a bool", "bad expertise tag", "extra field"])
def test_bad_registration_names_the_field_and_the_rule(data: dict[str, Any], expected: tuple[str, str]) -> None:
    assert expected in violations_of(RegisterMember, data)


def test_a_request_that_is_not_an_object_is_rejected_as_a_whole() -> None:
    assert violations_of(RegisterMember, ["not", "a", "dict"]) == [("(body)", "model_type")]


def test_every_broken_rule_is_reported_at_once() -> None:
    found = violations_of(RegisterMember, {"name": "", "email": "nope", "perspectives": []})
    assert {field for field, _ in found} == {"name", "email", "perspectives"}


def test_a_name_of_200_characters_is_accepted() -> None:
    assert len(parse_request(RegisterMember, VALID | {"name": "x" * 200}).name) == 200


def test_registration_normalises_email_expertise_and_duplicate_perspectives() -> None:
    cmd = parse_request(RegisterMember, VALID | {
        "email": " Anna@Example.ORG ", "perspectives": ["resident", "volunteer", "resident"],
        "expertise": ["  Armoede ", "armoede", "Schulden"],
    })
    assert cmd.email == "anna@example.org"
    assert cmd.perspectives == [Perspective.RESIDENT, Perspective.VOLUNTEER]
    assert cmd.expertise == ["armoede", "schulden"]


def test_consents_default_to_no() -> None:
    cmd = parse_request(RegisterMember, VALID)
    assert cmd.findable_by_expertise is False
    assert cmd.named_in_shared_outputs is False


@pytest.mark.parametrize(("page_size", "rule"), [(0, "greater_than_equal"), (201, "less_than_equal")])
def test_page_size_must_be_between_1_and_200(page_size: int, rule: str) -> None:
    assert violations_of(SearchMembers, {"page_size": page_size}) == [("page_size", rule)]


@pytest.mark.parametrize("page_size", [1, 200])
def test_page_size_limits_are_inclusive(page_size: int) -> None:
    assert parse_request(SearchMembers, {"page_size": page_size}).page_size == page_size


def test_search_rejects_an_unknown_perspective_and_a_malformed_network_id() -> None:
    found = violations_of(SearchMembers, {"perspective": "astrologer", "network_id": "../etc"})
    assert ("perspective", "enum") in found
    assert ("network_id", "string_pattern_mismatch") in found


def test_an_update_with_no_fields_is_rejected() -> None:
    with pytest.raises(ValidationFailed) as raised:
        parse_request(UpdateMember, {})
    (only,) = raised.value.violations
    assert only["field"] == "(body)"
    assert "at least one field" in only["message"]


@pytest.mark.parametrize("field", ["name", "email", "perspectives", "expertise", "findable_by_expertise",
                                   "named_in_shared_outputs"])
def test_an_update_cannot_set_a_required_field_to_null(field: str) -> None:
    """Validation errors name the field (docs/architecture.md, "Errors"): ``name: null`` is a fault of ``name``."""
    found = violations_of(UpdateMember, {field: None})
    assert [f for f, _ in found] == [field]


def test_an_update_may_clear_the_organisation_with_null() -> None:
    cmd = parse_request(UpdateMember, {"organisation": None})
    assert cmd.changes() == {"organisation": None}


def test_an_update_changes_only_the_fields_given() -> None:
    cmd = parse_request(UpdateMember, {"email": "NEW@example.org", "findable_by_expertise": False})
    assert cmd.changes() == {"email": "new@example.org", "findable_by_expertise": False}


def test_an_update_rejects_extra_fields() -> None:
    assert ("revision", "extra_forbidden") in violations_of(UpdateMember, {"name": "A", "revision": 9})


def test_joining_defaults_to_participant_and_rejects_an_unknown_role() -> None:
    assert parse_request(JoinNetwork, {}).role == MembershipRole.PARTICIPANT
    assert violations_of(JoinNetwork, {"role": "owner"}) == [("role", "enum")]


def test_a_token_label_is_trimmed_and_may_not_be_blank() -> None:
    assert parse_request(IssueToken, {"label": "  laptop "}).label == "laptop"
    assert violations_of(IssueToken, {"label": "  "}) == [("label", "string_too_short")]
