"""Typed errors at the edges: HTTP status and error body, gRPC status code and rich details."""

import asyncio
import importlib
import re
import warnings
from pathlib import Path
from types import SimpleNamespace

import grpc
import pytest
from google.rpc import error_details_pb2, status_pb2

from services.common.config import Settings
from services.common.errors import (
    ALL_ERRORS,
    IllegalTransition,
    InternalError,
    KringError,
    NotFound,
    PermissionDenied,
    ValidationFailed,
    violation,
)
from services.common.logs import correlation_id
from services.gateway.admin.app import create_app
from services.gateway.partner.errors import abort_with_error, grpc_code
from services.gateway.partner.server import EdgeInterceptor

with warnings.catch_warnings():  # starlette prefers httpx2 for its test client; httpx works
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

TOKEN = "operator-secret"
OPERATOR = {"Authorization": f"Bearer {TOKEN}"}
EVERY_ERROR = [*ALL_ERRORS, InternalError]


def an_instance(error_type: type[KringError]) -> KringError:
    if error_type is ValidationFailed:
        return ValidationFailed.single("email", "value_error", "not an email address")
    return error_type(f"{error_type.__name__} happened")


class RaisingRpc:
    """Every call raises the given exception, as the RPC pool would."""

    def __init__(self, exc: BaseException):
        self.exc = exc

    def call(self, service, method, *args, timeout=None):
        raise self.exc


def client_raising(exc: BaseException) -> TestClient:
    app = create_app(Settings(operator_token=TOKEN), RaisingRpc(exc))
    return TestClient(app, raise_server_exceptions=False)


# --- HTTP -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("error_type", EVERY_ERROR, ids=lambda t: t.__name__)
def test_every_typed_error_gets_its_http_status_and_the_uniform_body(error_type):
    error = an_instance(error_type)
    response = client_raising(error).get("/v1/members/m1", headers=OPERATOR)
    assert response.status_code == error.http_status
    assert response.json() == {"error": {"code": error.code, "message": error.message,
                                         "violations": error.violations}}


def test_a_validation_error_from_the_service_keeps_field_and_rule():
    error = ValidationFailed("invalid", [violation("perspectives.0", "enum", "unknown perspective")])
    body = client_raising(error).get("/v1/members/m1", headers=OPERATOR).json()
    assert body["error"]["violations"] == [{"field": "perspectives.0", "rule": "enum",
                                            "message": "unknown perspective"}]


def test_unauthenticated_says_how_to_authenticate():
    response = client_raising(NotFound("x")).get("/v1/members/m1")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["error"]["code"] == "unauthenticated"


def test_a_bug_gives_500_internal_error_without_a_traceback_but_with_the_correlation_id():
    response = client_raising(KeyError("secret_column")).get(
        "/v1/members/m1", headers={**OPERATOR, "X-Correlation-ID": "trace-me"})
    assert response.status_code == 500
    error = response.json()["error"]
    assert error["code"] == "internal_error"
    assert "secret_column" not in response.text and "Traceback" not in response.text
    assert "trace-me" in error["message"]
    assert response.headers["x-correlation-id"] == "trace-me"


def violations_of(response):
    assert response.status_code == 422, response.text
    body = response.json()["error"]
    assert body["code"] == "validation_failed"
    return {(v["field"], v["rule"]) for v in body["violations"]}


@pytest.mark.parametrize(("body", "expected"), [
    ({"email": "a@example.org", "perspectives": ["resident"]}, ("name", "missing")),
    ({"name": "Ann", "email": "not-an-email", "perspectives": ["resident"]}, ("email", "value_error")),
    ({"name": "Ann", "email": "a@example.org", "perspectives": ["astronaut"]}, ("perspectives.0", "enum")),
    ({"name": "A" * 201, "email": "a@example.org", "perspectives": ["resident"]}, ("name", "string_too_long")),
    ({"name": "Ann", "email": "a@example.org", "perspectives": "resident"}, ("perspectives", "list_type")),
    ({"name": "Ann", "email": "a@example.org", "perspectives": ["resident"], "role": "x"}, ("role", "extra_forbidden")),
], ids=["missing", "malformed-email", "unknown-perspective", "oversize", "wrong-type", "unknown-field"])
def test_bad_input_is_422_naming_the_field_without_its_location_and_the_pydantic_rule(body, expected):
    response = client_raising(AssertionError("not reached")).post("/v1/members", json=body, headers=OPERATOR)
    assert expected in violations_of(response)


def test_a_bad_query_parameter_is_422_naming_the_parameter():
    response = client_raising(AssertionError("not reached")).get("/v1/members?page_size=0", headers=OPERATOR)
    assert violations_of(response) == {("page_size", "greater_than_equal")}


def test_malformed_json_is_422_not_500():
    response = client_raising(AssertionError("not reached")).post(
        "/v1/members", content=b"{not json", headers={**OPERATOR, "Content-Type": "application/json"})
    assert {rule for _, rule in violations_of(response)} == {"json_invalid"}


def test_an_unknown_path_is_404_and_a_wrong_method_405_in_the_same_shape():
    client = client_raising(AssertionError("not reached"))
    assert client.get("/v1/nothing-here").json()["error"]["code"] == "not_found"
    response = client.post("/healthz")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_a_body_over_the_limit_is_413_by_its_declared_length():
    response = client_raising(AssertionError("not reached")).post(
        "/v1/members", content=b"x" * (1024 * 1024 + 1), headers={**OPERATOR, "Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_a_chunked_body_over_the_limit_is_413_while_it_streams():
    def chunks():
        for _ in range(20):
            yield b" " * 65536
    response = client_raising(AssertionError("not reached")).post(
        "/v1/members", content=chunks(), headers={**OPERATOR, "Content-Type": "application/json"})
    assert response.status_code == 413


# --- gRPC -------------------------------------------------------------------------------------------------


class Aborted(Exception):
    pass


class FakeServicerContext:
    """The parts of grpc.ServicerContext the gateway uses; aborting raises, as in grpcio."""

    def __init__(self):
        self.status = None
        self.initial_metadata = None
        self._code = None

    def abort_with_status(self, status):
        self.status = status
        self._code = status.code
        raise Aborted

    def abort(self, code, details):
        self._code = code
        raise Aborted

    def code(self):
        return self._code

    async def send_initial_metadata(self, metadata):
        self.initial_metadata = metadata

    def time_remaining(self):
        return None

    def cancelled(self):
        return False

    def done(self):
        return False


def details_of(status) -> status_pb2.Status:
    trailers = dict(status.trailing_metadata)
    return status_pb2.Status.FromString(trailers["grpc-status-details-bin"])


def unpacked(rich: status_pb2.Status, message_type):
    for detail in rich.details:
        if detail.Is(message_type.DESCRIPTOR):
            message = message_type()
            detail.Unpack(message)
            return message
    return None


@pytest.mark.parametrize("error_type", EVERY_ERROR, ids=lambda t: t.__name__)
def test_every_typed_error_aborts_with_its_grpc_status_code(error_type):
    error = an_instance(error_type)
    context = FakeServicerContext()
    with pytest.raises(Aborted):
        asyncio.run(abort_with_error(context, error))
    assert context.status.code == grpc.StatusCode[error.grpc_status] == grpc_code(error)
    assert context.status.details == error.message
    info = unpacked(details_of(context.status), error_details_pb2.ErrorInfo)
    assert (info.reason, info.domain) == (error.code.upper(), "kring.v1")


def test_a_validation_error_carries_bad_request_field_violations():
    error = ValidationFailed("invalid", [violation("email", "value_error", "not an email"),
                                         violation("perspectives.0", "enum", "unknown perspective")])
    context = FakeServicerContext()
    with pytest.raises(Aborted):
        asyncio.run(abort_with_error(context, error))
    bad_request = unpacked(details_of(context.status), error_details_pb2.BadRequest)
    assert [(v.field, v.reason, v.description) for v in bad_request.field_violations] == [
        ("email", "value_error", "not an email"), ("perspectives.0", "enum", "unknown perspective")]


@pytest.mark.parametrize("error", [
    PermissionDenied("network b is not one of your networks", [violation("network_id", "own_network", "not yours")]),
    NotFound("network x not found", [violation("network_id", "known_network", "no such network")]),
    IllegalTransition("cannot cancel a held session", [violation("status", "illegal_transition", "held")]),
], ids=lambda e: e.grpc_status)
def test_every_code_whose_error_names_a_field_and_rule_carries_them_in_a_bad_request_detail(error):
    context = FakeServicerContext()
    with pytest.raises(Aborted):
        asyncio.run(abort_with_error(context, error))
    rich = details_of(context.status)
    assert rich.code == grpc.StatusCode[error.grpc_status].value[0]
    bad_request = unpacked(rich, error_details_pb2.BadRequest)
    assert [(v.field, v.reason) for v in bad_request.field_violations] == [
        (v["field"], v["rule"]) for v in error.violations]
    assert unpacked(rich, error_details_pb2.ErrorInfo).reason == error.code.upper()


def test_an_error_that_names_no_field_carries_no_bad_request_detail():
    context = FakeServicerContext()
    with pytest.raises(Aborted):
        asyncio.run(abort_with_error(context, PermissionDenied("partner blocked")))
    assert unpacked(details_of(context.status), error_details_pb2.BadRequest) is None


def test_the_correlation_id_is_in_the_request_info_detail():
    token = correlation_id.set("cid-42")
    context = FakeServicerContext()
    try:
        with pytest.raises(Aborted):
            asyncio.run(abort_with_error(context, NotFound("no such network")))
    finally:
        correlation_id.reset(token)
    assert unpacked(details_of(context.status), error_details_pb2.RequestInfo).request_id == "cid-42"


def intercepted(behaviour, metadata=()):
    """The method as the grpc.aio server runs it behind the interceptor, called as a plain function."""
    handler = grpc.unary_unary_rpc_method_handler(behaviour)
    details = SimpleNamespace(method="/kring.v1.Federation/GetInstance", invocation_metadata=metadata)

    async def continuation(_details):
        return handler

    wrapped = asyncio.run(EdgeInterceptor().intercept_service(continuation, details)).unary_unary
    return lambda request, context: asyncio.run(wrapped(request, context))


def test_the_interceptor_turns_a_typed_error_raised_by_a_method_into_its_status():
    async def method(request, context):
        raise NotFound("no such network")
    context = FakeServicerContext()
    with pytest.raises(Aborted):
        intercepted(method)(None, context)
    assert context.status.code == grpc.StatusCode.NOT_FOUND


def test_the_interceptor_hides_a_bug_behind_internal():
    async def method(request, context):
        raise KeyError("secret_column")
    context = FakeServicerContext()
    with pytest.raises(Aborted):
        intercepted(method)(None, context)
    assert context.status.code == grpc.StatusCode.INTERNAL
    assert "secret_column" not in context.status.details


def test_the_interceptor_sets_and_echoes_the_callers_correlation_id():
    seen = []

    async def method(request, context):
        seen.append(correlation_id.get())
        return "reply"
    context = FakeServicerContext()
    assert intercepted(method, (("x-correlation-id", "cid-7"),))(None, context) == "reply"
    assert seen == ["cid-7"]
    assert context.initial_metadata == (("x-correlation-id", "cid-7"),)
    assert correlation_id.get() is None  # reset after the call: worker threads are reused


def documented_reasons() -> dict[str, str]:
    """FEDERATION.md "Error reasons": reason -> status code, from its table."""
    text = (Path(__file__).parents[2] / "FEDERATION.md").read_text()
    section = text.split("#### Error reasons", 1)[1].split("\n#", 1)[0]
    return dict(re.findall(r"^\| `([A-Z_]+)` \| `([A-Z_]+)` \|", section, re.MULTILINE))


def every_subclass(cls: type[KringError]) -> set[type[KringError]]:
    return {cls} | {sub for child in cls.__subclasses__() for sub in every_subclass(child)}


# Errors that never reach a partner: the relay's and the admin API's view of a peer's refusal, and a malformed
# event on the bus. The abstract base is raised by nobody.
NOT_AT_THE_PARTNER_EDGE = {"PEER_REFUSED", "UNPROCESSABLE_EVENT", "ERROR"}


def test_the_documented_error_reasons_are_exactly_those_the_partner_api_can_answer():
    for module in ("services.gateway.partner.server", "services.federation.relay.peer_client",
                   "services.common.events", "services.gateway.shared.rate_limit"):
        importlib.import_module(module)  # every module that declares an error type
    produced = {error.code.upper(): error.grpc_status for error in every_subclass(KringError)
                if error.code.upper() not in NOT_AT_THE_PARTNER_EDGE}
    assert documented_reasons() == produced
    assert set(documented_reasons()) >= {"VALIDATION_FAILED", "CONFLICT", "RATE_LIMITED"}


def test_every_declared_error_type_is_known_to_this_check():
    """A new error type anywhere in services/ must be listed in FEDERATION.md or named above as not reaching a
    partner: found by its ``code =`` line, so a module the check does not import cannot hide one."""
    declared = {match.upper() for path in (Path(__file__).parents[2] / "services").rglob("*.py")
                for match in re.findall(r'^    code = "([a-z_]+)"$', path.read_text(), re.MULTILINE)}
    assert declared == set(documented_reasons()) | NOT_AT_THE_PARTNER_EDGE
