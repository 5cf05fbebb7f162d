"""The answers the fake API gives the sessions and outputs pages' tests are the real API's shapes: each validates
against the response model of its route, so a page that reads a field the API does not send fails here."""

from __future__ import annotations

import httpx

from services.gateway.admin.errors import ErrorResponse
from services.members.schemas import MemberPage
from services.networks.schemas import NetworkOut
from services.sessions.schemas.views import (
    AttendanceOut,
    OutputOut,
    OutputPage,
    OutputTombstone,
    RegistrationList,
    RegistrationOut,
    SessionOut,
    SessionPage,
)
from tests.unit.console.test_console_outputs import an_output, outputs_api
from tests.unit.console.test_console_sessions import (
    MINE_CANCELLED,
    MINE_PREPARED,
    MINE_UNPREPARED,
    MINE_WAITLISTED,
    NOT_REGISTERED,
    REGISTRATIONS,
    a_session,
    staff_api,
)


def answer(api, method: str, path: str):
    handler = api.routes[(method, path)]
    status, body = handler(httpx.Request(method, f"http://api{path}")) if callable(handler) else handler
    assert status < 300
    return body


def test_the_sessions_pages_fakes_are_the_apis_shapes():
    api = staff_api()
    NetworkOut.model_validate(answer(api, "GET", "/v1/networks/n-1"))
    MemberPage.model_validate(answer(api, "GET", "/v1/members"))
    SessionPage.model_validate(answer(api, "GET", "/v1/networks/n-1/sessions"))
    SessionOut.model_validate(a_session(status="closed", conclusions=[
        {"session_id": "s-1", "statement": 1, "statement_text": "x", "conclusion": "y",
         "concluded_at": "2026-12-10T15:00:00Z"}]))
    RegistrationList.model_validate(answer(api, "GET", "/v1/sessions/s-1/registrations"))
    for registration in REGISTRATIONS:
        RegistrationOut.model_validate(registration)
    AttendanceOut.model_validate(answer(api, "GET", "/v1/sessions/s-1/attendance"))


def test_a_participants_own_registration_in_the_fakes_is_the_apis_shape():
    # What GET /v1/sessions/{id}/registrations/{member_id} answers: one RegistrationOut, or the 404 naming the rule.
    for mine in (MINE_WAITLISTED, MINE_CANCELLED, MINE_PREPARED, MINE_UNPREPARED):
        RegistrationOut.model_validate(mine)
    status, body = NOT_REGISTERED
    assert status == 404
    ErrorResponse.model_validate(body)


def test_the_outputs_pages_fakes_are_the_apis_shapes():
    api = outputs_api()
    OutputOut.model_validate(an_output())
    OutputOut.model_validate(answer(api, "GET", "/v1/outputs/o-1"))
    OutputPage.model_validate(answer(api, "GET", "/v1/networks/n-1/outputs"))
    OutputTombstone.model_validate({"id": "o-1", "retracted_at": "2026-12-12T09:00:00Z"})
    AttendanceOut.model_validate(answer(api, "GET", "/v1/sessions/s-1/attendance"))
