"""What sessions produce: outputs, members' reflections, and a network's learning report.

Each route passes the caller to the sessions service, which decides what they see (services/sessions/domain/
access.py): inside the output's network every output shows, authors named; outside it only public ones, an
author who did not consent shown by their perspective ("a participant with lived experience"). The operator
reads as if inside.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Path, Query, Response
from pydantic import AwareDatetime

from services.common.i18n import negotiate
from services.common.schemas import OutputId
from services.common.vocabulary import OutputKind
from services.gateway.admin.deps import Caller, Rpc
from services.gateway.admin.errors import ERROR_RESPONSES, documented_error
from services.gateway.admin.routes.sessions import NOT_FOUND, TRANSITION, NetworkIdPath, SessionIdPath, query_of
from services.sessions.schemas.commands import MemberId, PublishOutput, RecordReflection, RetractOutput
from services.sessions.schemas.views import (
    LearningReportOut,
    OutputOut,
    OutputPage,
    OutputTombstone,
    ReflectionOut,
    ReflectionPage,
)

router = APIRouter(prefix="/v1", tags=["outputs"], responses=ERROR_RESPONSES)

OutputIdPath = Annotated[OutputId, Path(description="the output's id")]
PageSize = Annotated[int, Query(ge=1, le=200)]
PageToken = Annotated[str | None, Query(max_length=500)]


@router.post("/sessions/{session_id}/outputs", status_code=201, response_model=OutputOut,
             summary="Publish an output of a held or closed session",
             description="For the network's coordinators and facilitators. Authors must be members of the "
                         "network; a resource needs a `url` and a `resource_type`.",
             responses={**NOT_FOUND, **TRANSITION})
def publish_output(session_id: SessionIdPath, body: PublishOutput, caller: Caller, rpc: Rpc) -> dict[str, Any]:
    answer: dict[str, Any] = rpc.call("sessions", "publish_output", caller.wire(), session_id,
                                      body.model_dump(mode="json", exclude_unset=True))
    return answer


@router.get("/sessions/{session_id}/outputs", response_model=OutputPage, summary="The outputs of a session",
            description="Oldest first; retracted outputs appear as tombstones. Outputs kept within the network "
                        "are left out for readers outside it.", responses=NOT_FOUND)
def session_outputs(session_id: SessionIdPath, caller: Caller, rpc: Rpc, kind: OutputKind | None = None,
                    page_size: PageSize = 50, page_token: PageToken = None) -> dict[str, Any]:
    query = query_of(session_id=session_id, kind=kind, page_size=page_size, page_token=page_token)
    answer: dict[str, Any] = rpc.call("sessions", "list_outputs", caller.wire(), query)
    return answer


@router.get("/networks/{network_id}/outputs", response_model=OutputPage, summary="The outputs of a network",
            description="Oldest first; retracted outputs appear as tombstones. Outputs kept within the network "
                        "are left out for readers outside it.")
def network_outputs(network_id: NetworkIdPath, caller: Caller, rpc: Rpc, kind: OutputKind | None = None,
                    page_size: PageSize = 50, page_token: PageToken = None) -> dict[str, Any]:
    query = query_of(network_id=network_id, kind=kind, page_size=page_size, page_token=page_token)
    answer: dict[str, Any] = rpc.call("sessions", "list_outputs", caller.wire(), query)
    return answer


@router.get("/outputs/{output_id}", response_model=OutputOut | OutputTombstone, summary="Get an output",
            description="A retracted output is a tombstone. Authors appear as consent allows for you.",
            responses={404: documented_error("no such output")})
def get_output(output_id: OutputIdPath, caller: Caller, rpc: Rpc) -> dict[str, Any]:
    answer: dict[str, Any] = rpc.call("sessions", "get_output", caller.wire(), output_id)
    return answer


@router.post("/outputs/{output_id}/retract", response_model=OutputTombstone, summary="Retract an output",
             description="For the coordinators and facilitators of the output's network. Retracting again "
                         "changes nothing.", responses={404: documented_error("no such output")})
def retract_output(output_id: OutputIdPath, caller: Caller, rpc: Rpc,
                   body: Annotated[RetractOutput | None, Body()] = None) -> dict[str, Any]:
    request = body.model_dump(mode="json", exclude_unset=True) if body else {}
    answer: dict[str, Any] = rpc.call("sessions", "retract_output", caller.wire(), output_id, request)
    return answer


@router.post("/reflections", status_code=201, response_model=ReflectionOut, tags=["reflections"],
             summary="Record a reflection on a session you took part in",
             description="A change in self-image, behaviour, perspective or task conception. Personal: a member "
                         "records their own, for a held or closed session of a network they belong to; the "
                         "operator records none; on another network's session, 403.",
             responses={**NOT_FOUND, **TRANSITION})
def record_reflection(body: RecordReflection, caller: Caller, rpc: Rpc) -> dict[str, Any]:
    answer: dict[str, Any] = rpc.call("sessions", "record_reflection", caller.wire(), body.model_dump(mode="json"))
    return answer


@router.get("/reflections", response_model=ReflectionPage, tags=["reflections"],
            summary="Your own reflections, newest first",
            description="Reflections are personal: you read your own; nobody else does, not your network's "
                        "coordinators (the learning report counts them, nobody named). The operator names the member "
                        "with `member_id`. A read, not an export: it is not in the audit log.")
def list_reflections(caller: Caller, rpc: Rpc,
                     member_id: Annotated[MemberId | None, Query(description="whose: your own by default; only the "
                                                                             "operator names someone else")] = None,
                     page_size: PageSize = 50, page_token: PageToken = None) -> dict[str, Any]:
    query = query_of(member_id=member_id, page_size=page_size, page_token=page_token)
    answer: dict[str, Any] = rpc.call("sessions", "list_reflections", caller.wire(), query)
    return answer


@router.get("/networks/{network_id}/learning-report", response_model=LearningReportOut, tags=["reflections"],
            summary="What the network's sessions produced over a period, counted, nobody named",
            description="Sessions held, attendance, the perspective mix per session, outputs by kind, "
                        "reflections by kind, and the action-learning loops opened, closed and experimented on, "
                        "with a summary in Dutch or English as `Accept-Language` prefers (Dutch by default). Default "
                        "period: the twelve months up to now. For the network's coordinators and facilitators.",
            responses={404: documented_error("no such network")})
def learning_report(
    network_id: NetworkIdPath,
    caller: Caller,
    rpc: Rpc,
    response: Response,
    period_from: Annotated[AwareDatetime | None, Query(description="start of the period (inclusive)")] = None,
    period_to: Annotated[AwareDatetime | None, Query(description="end of the period (exclusive)")] = None,
    accept_language: Annotated[str | None, Header(max_length=500)] = None,
) -> dict[str, Any]:
    language = negotiate(accept_language)
    response.headers["Content-Language"] = language
    answer: dict[str, Any] = rpc.call("sessions", "learning_report", caller.wire(), network_id,
                                      query_of(period_from=period_from, period_to=period_to, language=language))
    return answer
