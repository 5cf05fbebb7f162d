"""Sessions of a network: scheduling, the life cycle, registrations and attendance.

Each route passes the caller and the request to the sessions service, which decides what the caller may do
(services/sessions/domain/access.py) where it loads the session, and returns its answer. Bodies are validated
here with the sessions service's own models (so OpenAPI shows them) and again by the service, which owns the
rules: the life cycle (409 ``illegal_transition``, ``not_started``),
capacity and the waitlist, the preparation policy (422 ``preparation_required``), café statements and what the
tables concluded on them.
Outputs, reflections and the learning report are in :mod:`.outputs`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query
from pydantic import AwareDatetime, Field, create_model

from services.common.vocabulary import SessionStatus
from services.gateway.admin.deps import Caller, Rpc
from services.gateway.admin.errors import ERROR_RESPONSES, Responses, documented_error
from services.sessions.schemas.commands import (
    CancelSession,
    Command,
    ConcludeStatement,
    MemberId,
    NetworkId,
    RecordAttendance,
    RescheduleSession,
    ScheduleSession,
    SessionId,
)
from services.sessions.schemas.views import (
    AttendanceOut,
    ConclusionOut,
    RegistrationList,
    RegistrationOut,
    SessionOut,
    SessionPage,
)

router = APIRouter(prefix="/v1", tags=["sessions"], responses=ERROR_RESPONSES)

NetworkIdPath = Annotated[NetworkId, Path(description="the network's id")]
SessionIdPath = Annotated[SessionId, Path(description="the session's id")]
MemberIdPath = Annotated[MemberId, Path(description="the member's id")]
NOT_FOUND: Responses = {404: documented_error("no such session")}
TRANSITION: Responses = {409: documented_error("not allowed in the session's status (rule `illegal_transition`), or "
                                               "the session has not started yet (rule `not_started`)")}

# The schedule body is the service's command without network_id, which the path gives. Each field is
# (annotation, FieldInfo); typed Any because the checker matches a ** dict against create_model's own keyword
# parameters (__config__, __module__, ...) as well as the fields.
_PLAN_FIELDS: dict[str, Any] = {
    name: (field.annotation, field) for name, field in ScheduleSession.model_fields.items() if name != "network_id"
}
SessionPlan = create_model(
    "SessionPlan", __base__=Command, __doc__="A session to schedule; the network is in the path.", **_PLAN_FIELDS,
)


class SessionRegistration(Command):
    member_id: MemberId | None = Field(None, description="whom to register; omit to register yourself")
    prepared: bool | None = Field(None, description="has started applying the method (action learning)")


# --- helpers shared with the outputs routes ------------------------------------------------------------------


def query_of(**params: Any) -> dict[str, Any]:
    """The parameters given, as JSON values: datetimes in ISO 8601 UTC, enums as their values."""
    query: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, datetime):
            query[key] = value.astimezone(UTC).isoformat()
        elif isinstance(value, int):
            query[key] = value
        elif value is not None:
            query[key] = str(value)  # StrEnum members are their values
    return query


# --- scheduling and the directory ---------------------------------------------------------------------------


@router.post("/networks/{network_id}/sessions", status_code=201, response_model=SessionOut,
             summary="Schedule a session",
             description="For the network's coordinators and facilitators. Online and hybrid sessions need a "
                         "`meeting_url`, in-person and hybrid ones a `location`; only a world café or a "
                         "knowledge café has `statements` (rule `cafe_only`). Times in the past record a session "
                         "held before.",
             responses={404: documented_error("no such network"), 409: documented_error("the network is archived")})
def schedule_session(network_id: NetworkIdPath, body: SessionPlan, caller: Caller, rpc: Rpc) -> dict[str, Any]:
    request = {"network_id": network_id, **body.model_dump(mode="json", exclude_unset=True)}
    answer: dict[str, Any] = rpc.call("sessions", "schedule_session", caller.wire(), request)
    return answer


@router.get("/networks/{network_id}/sessions", response_model=SessionPage, summary="List a network's sessions",
            description="Open to every authenticated caller, oldest first. `meeting_url` is null unless you "
                        "belong to the network (or are the operator).")
def list_sessions(
    network_id: NetworkIdPath,
    caller: Caller,
    rpc: Rpc,
    starts_from: Annotated[AwareDatetime | None, Query(description="sessions starting at or after this time")] = None,
    starts_before: Annotated[AwareDatetime | None, Query(description="sessions starting before this time")] = None,
    status: SessionStatus | None = None,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
    page_token: Annotated[str | None, Query(max_length=500)] = None,
) -> dict[str, Any]:
    query = query_of(network_id=network_id, starts_from=starts_from, starts_before=starts_before, status=status,
                     page_size=page_size, page_token=page_token)
    answer: dict[str, Any] = rpc.call("sessions", "list_sessions", caller.wire(), query)
    return answer


@router.get("/sessions/{session_id}", response_model=SessionOut, summary="Get a session", responses=NOT_FOUND,
            description="Open to every authenticated caller. `meeting_url` is null unless you belong to the "
                        "session's network (or are the operator).")
def get_session(session_id: SessionIdPath, caller: Caller, rpc: Rpc) -> dict[str, Any]:
    answer: dict[str, Any] = rpc.call("sessions", "get_session", caller.wire(), session_id)
    return answer


# --- the life cycle: planned → held → closed, or cancelled ----------------------------------------------------


@router.post("/sessions/{session_id}/reschedule", response_model=SessionOut, summary="Move a planned session",
             description="The old times are kept in `reschedules`.", responses={**NOT_FOUND, **TRANSITION})
def reschedule_session(session_id: SessionIdPath, body: RescheduleSession, caller: Caller,
                       rpc: Rpc) -> dict[str, Any]:
    answer: dict[str, Any] = rpc.call("sessions", "reschedule_session", caller.wire(), session_id,
                                      body.model_dump(mode="json", exclude_unset=True))
    return answer


@router.post("/sessions/{session_id}/hold", response_model=SessionOut, summary="Mark a session as held",
             description="Only once it has started.", responses={**NOT_FOUND, **TRANSITION})
def hold_session(session_id: SessionIdPath, caller: Caller, rpc: Rpc) -> dict[str, Any]:
    answer: dict[str, Any] = rpc.call("sessions", "hold_session", caller.wire(), session_id)
    return answer


@router.post("/sessions/{session_id}/close", response_model=SessionOut, summary="Close a held session",
             description="Outputs and reflections may still follow.", responses={**NOT_FOUND, **TRANSITION})
def close_session(session_id: SessionIdPath, caller: Caller, rpc: Rpc) -> dict[str, Any]:
    answer: dict[str, Any] = rpc.call("sessions", "close_session", caller.wire(), session_id)
    return answer


@router.post("/sessions/{session_id}/cancel", response_model=SessionOut, summary="Cancel a planned session",
             responses={**NOT_FOUND, **TRANSITION})
def cancel_session(session_id: SessionIdPath, caller: Caller, rpc: Rpc,
                   body: Annotated[CancelSession | None, Body()] = None) -> dict[str, Any]:
    request = body.model_dump(mode="json", exclude_unset=True) if body else {}
    answer: dict[str, Any] = rpc.call("sessions", "cancel_session", caller.wire(), session_id, request)
    return answer


# --- registrations and attendance ------------------------------------------------------------------------------


@router.post("/sessions/{session_id}/registrations", status_code=201, response_model=RegistrationOut,
             summary="Register for a session",
             description="A member registers themself for a session of a network they belong to; the network's "
                         "coordinators and facilitators register anyone in it. At capacity the registration "
                         "joins the waitlist. Where the network requires preparation, an unprepared registration "
                         "is refused (rule `preparation_required`) or flagged, per the network's policy.",
             responses={**NOT_FOUND, **TRANSITION})
def register_for_session(session_id: SessionIdPath, body: SessionRegistration, caller: Caller,
                         rpc: Rpc) -> dict[str, Any]:
    request = body.model_dump(mode="json", exclude_unset=True, exclude={"member_id"})
    answer: dict[str, Any] = rpc.call("sessions", "register_for_session", caller.wire(), session_id, body.member_id,
                                      request)
    return answer


@router.delete("/sessions/{session_id}/registrations/{member_id}", response_model=RegistrationOut,
               summary="Cancel a registration",
               description="By the member or the network's coordinators and facilitators. The freed seat goes to "
                           "the first on the waitlist.",
               responses={404: documented_error("no such session or registration"), **TRANSITION})
def cancel_registration(session_id: SessionIdPath, member_id: MemberIdPath, caller: Caller,
                        rpc: Rpc) -> dict[str, Any]:
    answer: dict[str, Any] = rpc.call("sessions", "cancel_registration", caller.wire(), session_id, member_id)
    return answer


@router.get("/sessions/{session_id}/registrations/{member_id}", response_model=RegistrationOut,
            summary="One member's registration",
            description="For the member themself, or the network's coordinators and facilitators: a seat "
                        "(`registered`), the waitlist (`waitlisted`, `waitlist_position` 1 is next to get a seat) "
                        "or `cancelled`, and whether it was marked prepared.",
            responses={404: documented_error("no such session, or the member never registered for it")})
def get_registration(session_id: SessionIdPath, member_id: MemberIdPath, caller: Caller,
                     rpc: Rpc) -> dict[str, Any]:
    answer: dict[str, Any] = rpc.call("sessions", "get_registration", caller.wire(), session_id, member_id)
    return answer


@router.get("/sessions/{session_id}/registrations", response_model=RegistrationList,
            summary="Who registered, and the waitlist in order", responses=NOT_FOUND)
def list_registrations(session_id: SessionIdPath, caller: Caller, rpc: Rpc) -> dict[str, Any]:
    answer: dict[str, Any] = rpc.call("sessions", "list_registrations", caller.wire(), session_id)
    return answer


@router.put("/sessions/{session_id}/attendance", response_model=AttendanceOut, summary="Record who attended",
            description="Everyone present, replacing what was recorded before; each must have registered or be a "
                        "member of the network. Only for a held session.",
            responses={**NOT_FOUND, **TRANSITION})
def record_attendance(session_id: SessionIdPath, body: RecordAttendance, caller: Caller,
                      rpc: Rpc) -> dict[str, Any]:
    answer: dict[str, Any] = rpc.call("sessions", "record_attendance", caller.wire(), session_id,
                                      body.model_dump(mode="json"))
    return answer


@router.get("/sessions/{session_id}/attendance", response_model=AttendanceOut, summary="Who attended",
            responses=NOT_FOUND)
def get_attendance(session_id: SessionIdPath, caller: Caller, rpc: Rpc) -> dict[str, Any]:
    answer: dict[str, Any] = rpc.call("sessions", "get_attendance", caller.wire(), session_id)
    return answer


# --- a café's statements: what each table concluded ------------------------------------------------------------


@router.put("/sessions/{session_id}/statements/{number}/conclusion", response_model=ConclusionOut,
            summary="Record what the table concluded on a statement",
            description="For the network's coordinators and facilitators, while or after the session is held; "
                        "sending it again revises it. The conclusion is shown with the session to the people "
                        "inside the network; to share it further, publish an output with `statement` set to the "
                        "statement's number.",
            responses={404: documented_error("no such session, or no such statement (rule `statement_exists`)"),
                       **TRANSITION})
def conclude_statement(session_id: SessionIdPath,
                       number: Annotated[int, Path(ge=1, le=50, description="the statement's number, from 1")],
                       body: ConcludeStatement, caller: Caller, rpc: Rpc) -> dict[str, Any]:
    answer: dict[str, Any] = rpc.call("sessions", "conclude_statement", caller.wire(), session_id, number,
                                      body.model_dump(mode="json"))
    return answer
