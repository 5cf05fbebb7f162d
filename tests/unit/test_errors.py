"""Typed errors: they cross nameko RPC intact, name field and rule, and map to HTTP and gRPC."""

from __future__ import annotations

import json

import grpc
import pytest
from nameko.exceptions import RemoteError, deserialize, serialize
from pydantic import BaseModel, ValidationError

import services.common.events  # noqa: F401 - defines UnprocessableEvent, a KringError raised by consumers
from services.common.errors import (
    ALL_ERRORS,
    Conflict,
    IllegalTransition,
    KringError,
    NotFound,
    PermissionDenied,
    RateLimited,
    Unauthenticated,
    Unavailable,
    ValidationFailed,
    from_pydantic,
    violation,
)


def every_kring_error() -> list[type[KringError]]:
    """KringError and every subclass the common kit defines (services may add their own; the kit's must
    all be known to nameko, since any service can raise them)."""
    found: list[type[KringError]] = [KringError]
    for cls in found:
        found += [sub for sub in cls.__subclasses__() if sub not in found]
    return [cls for cls in found if cls.__module__.startswith("services.common.")]


VIOLATIONS = [violation("email", "unique", "this email address is already registered"),
              violation("perspectives.0", "enum", "not a perspective")]


@pytest.mark.parametrize("error_type", every_kring_error(), ids=lambda cls: cls.__name__)
def test_every_kring_error_survives_nameko_serialisation(error_type: type[KringError]) -> None:
    """nameko rebuilds a registered exception on the calling side; an unregistered one becomes RemoteError,
    which the gateway can only answer with 500."""
    sent = error_type("member m-1: something is wrong", VIOLATIONS)

    received = deserialize(json.loads(json.dumps(serialize(sent))))  # RPC replies are JSON

    assert not isinstance(received, RemoteError), f"{error_type.__name__} is not registered with nameko"
    assert type(received) is error_type
    assert received.message == "member m-1: something is wrong"
    assert received.violations == VIOLATIONS
    assert str(received) == str(sent)


def test_an_error_without_violations_arrives_with_an_empty_list() -> None:
    received = deserialize(serialize(NotFound("member m-1 not found")))
    assert isinstance(received, NotFound)
    assert received.violations == []


@pytest.mark.parametrize(("error_type", "code", "http_status", "grpc_status"), [
    (KringError, "error", 400, "UNKNOWN"),
    (ValidationFailed, "validation_failed", 422, "INVALID_ARGUMENT"),
    (Unauthenticated, "unauthenticated", 401, "UNAUTHENTICATED"),
    (PermissionDenied, "permission_denied", 403, "PERMISSION_DENIED"),
    (NotFound, "not_found", 404, "NOT_FOUND"),
    (Conflict, "conflict", 409, "ALREADY_EXISTS"),
    (IllegalTransition, "illegal_transition", 409, "FAILED_PRECONDITION"),
    (RateLimited, "rate_limited", 429, "RESOURCE_EXHAUSTED"),
    (Unavailable, "unavailable", 503, "UNAVAILABLE"),
])
def test_each_error_maps_to_its_http_status_and_grpc_code(
        error_type: type[KringError], code: str, http_status: int, grpc_status: str) -> None:
    assert (error_type.code, error_type.http_status, error_type.grpc_status) == (code, http_status, grpc_status)


def test_grpc_status_names_are_real_grpc_status_codes() -> None:
    for error_type in ALL_ERRORS:
        assert error_type.grpc_status in grpc.StatusCode.__members__


def test_error_codes_are_distinct() -> None:
    codes = [cls.code for cls in every_kring_error()]
    assert len(codes) == len(set(codes))


def test_an_illegal_transition_is_a_conflict() -> None:
    assert issubclass(IllegalTransition, Conflict)


def test_to_dict_carries_code_message_and_violations_only_when_there_are_some() -> None:
    assert NotFound("member m-1 not found").to_dict() == {"code": "not_found", "message": "member m-1 not found"}
    assert Conflict("taken", VIOLATIONS[:1]).to_dict() == {"code": "conflict", "message": "taken",
                                                           "violations": VIOLATIONS[:1]}


def test_a_single_violation_names_field_rule_and_message() -> None:
    error = ValidationFailed.single("page_token", "valid_page_token", "not a page token this API returned")
    assert error.message == "page_token: not a page token this API returned"
    assert error.violations == [{"field": "page_token", "rule": "valid_page_token",
                                 "message": "not a page token this API returned"}]


class Inner(BaseModel):
    size: int


class Outer(BaseModel):
    name: str
    items: list[Inner]


def test_pydantic_errors_become_violations_with_dotted_field_paths() -> None:
    with pytest.raises(ValidationError) as raised:
        Outer.model_validate({"items": [{"size": 1}, {"size": "big"}]})
    error = from_pydantic(raised.value)
    assert isinstance(error, ValidationFailed)
    assert [(v["field"], v["rule"]) for v in error.violations] == [("name", "missing"),
                                                                   ("items.1.size", "int_parsing")]
    assert error.message.startswith("invalid input: name: Field required; items.1.size: ")


def test_a_whole_body_error_is_reported_on_field_body() -> None:
    with pytest.raises(ValidationError) as raised:
        Outer.model_validate("not an object")
    assert [v["field"] for v in from_pydantic(raised.value).violations] == ["(body)"]
