"""What sessions produce: outputs, members' reflections, and a network's learning report.

Readers pass the networks they are inside of (``viewer_network_ids``) so the sessions service attributes
authors as consent allows: inside the output's network authors are named; outside it, an author who did not
consent appears as their perspective ("a participant with lived experience"). The operator reads as if
inside. An output kept within its network (visibility ``network``) is not shown outside it at all.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query
from pydantic import AwareDatetime

from services.common.errors import PermissionDenied
from services.common.schemas import OutputId
from services.common.vocabulary import OutputKind
from services.gateway.admin import policy
from services.gateway.admin.deps import Caller, Rpc
from services.gateway.admin.errors import ERROR_RESPONSES, documented_error
from services.gateway.admin.policy import Principal, require
from services.gateway.admin.routes.sessions import (
    NOT_FOUND,
    NOT_STAFF,
    TRANSITION,
    NetworkIdPath,
    SessionIdPath,
    fetch_session,
    query_of,
    require_session_scope,
)
from services.sessions.schemas.commands import PublishOutput, RecordReflection, RetractOutput
from services.sessions.schemas.views import LearningReportOut, OutputOut, OutputPage, OutputTombstone, ReflectionOut

router = APIRouter(prefix="/v1", tags=["outputs"], responses=ERROR_RESPONSES)

OutputIdPath = Annotated[OutputId, Path(description="the output's id")]
PageSize = Annotated[int, Query(ge=1, le=200)]
PageToken = Annotated[str | None, Query(max_length=500)]


def is_tombstone(output: dict[str, Any]) -> bool:
    return "network_id" not in output  # a retracted output shows only its id and when it was withdrawn


def readable(caller: Principal, output: dict[str, Any]) -> bool:
    return is_tombstone(output) or policy.can_read_output(caller, output["network_id"], output["visibility"])


def list_outputs(caller: Principal, rpc: Rpc, query: dict[str, Any], network_id: str) -> dict[str, Any]:
    query = {**query, "viewer_network_ids": policy.viewer_network_ids(caller, network_id)}
    page = rpc.call("sessions", "list_outputs", query)
    return {**page, "items": [o for o in page["items"] if readable(caller, o)]}


@router.post("/sessions/{session_id}/outputs", status_code=201, response_model=OutputOut,
             summary="Publish an output of a held or closed session",
             description="For the network's coordinators and facilitators. Authors must be members of the "
                         "network; a resource needs a `url` and a `resource_type`.",
             responses={**NOT_FOUND, **TRANSITION})
def publish_output(session_id: SessionIdPath, body: PublishOutput, caller: Caller, rpc: Rpc) -> dict[str, Any]:
    require_session_scope(caller, rpc, session_id, policy.can_publish_output)
    return rpc.call("sessions", "publish_output", session_id, body.model_dump(mode="json", exclude_unset=True))


@router.get("/sessions/{session_id}/outputs", response_model=OutputPage, summary="The outputs of a session",
            description="Oldest first; retracted outputs appear as tombstones. Outputs kept within the network "
                        "are left out for readers outside it.", responses=NOT_FOUND)
def session_outputs(session_id: SessionIdPath, caller: Caller, rpc: Rpc, kind: OutputKind | None = None,
                    page_size: PageSize = 50, page_token: PageToken = None) -> dict[str, Any]:
    # The operator reads as if inside the session's network, which takes a lookup to learn.
    network_id = fetch_session(rpc, session_id)["network_id"] if caller.operator else None
    query = query_of(session_id=session_id, kind=kind, page_size=page_size, page_token=page_token)
    return list_outputs(caller, rpc, query, network_id)


@router.get("/networks/{network_id}/outputs", response_model=OutputPage, summary="The outputs of a network",
            description="Oldest first; retracted outputs appear as tombstones. Outputs kept within the network "
                        "are left out for readers outside it.")
def network_outputs(network_id: NetworkIdPath, caller: Caller, rpc: Rpc, kind: OutputKind | None = None,
                    page_size: PageSize = 50, page_token: PageToken = None) -> dict[str, Any]:
    query = query_of(network_id=network_id, kind=kind, page_size=page_size, page_token=page_token)
    return list_outputs(caller, rpc, query, network_id)


@router.get("/outputs/{output_id}", response_model=OutputOut | OutputTombstone, summary="Get an output",
            description="A retracted output is a tombstone. Authors appear as consent allows for you.",
            responses={404: documented_error("no such output")})
def get_output(output_id: OutputIdPath, caller: Caller, rpc: Rpc) -> dict[str, Any]:
    network_id = rpc.call("sessions", "output_network", output_id)
    output = rpc.call("sessions", "get_output", output_id, policy.viewer_network_ids(caller, network_id))
    if not readable(caller, output):
        raise PermissionDenied(f"output {output_id} is shared within its network only")
    return output


@router.post("/outputs/{output_id}/retract", response_model=OutputTombstone, summary="Retract an output",
             description="For the coordinators and facilitators of the output's network. Retracting again "
                         "changes nothing.", responses={404: documented_error("no such output")})
def retract_output(output_id: OutputIdPath, caller: Caller, rpc: Rpc,
                   body: Annotated[RetractOutput | None, Body()] = None) -> dict[str, Any]:
    if not caller.operator:
        require(policy.can_retract_output(caller, rpc.call("sessions", "output_network", output_id)), NOT_STAFF)
    request = body.model_dump(mode="json", exclude_unset=True) if body else {}
    return rpc.call("sessions", "retract_output", output_id, request)


@router.post("/reflections", status_code=201, response_model=ReflectionOut, tags=["reflections"],
             summary="Record a reflection on a session you took part in",
             description="A change in self-image, behaviour, perspective or task conception. Personal: a member "
                         "records their own, for a held or closed session of a network they belong to; the "
                         "operator records none; on another network's session, 403.",
             responses={**NOT_FOUND, **TRANSITION})
def record_reflection(body: RecordReflection, caller: Caller, rpc: Rpc) -> dict[str, Any]:
    require(policy.can_record_reflection(caller), "reflections are personal: a member records their own")
    require_session_scope(caller, rpc, body.session_id, policy.can_reflect_on,
                          "you reflect on sessions of your own networks only")
    return rpc.call("sessions", "record_reflection", caller.member_id, body.model_dump(mode="json"))


@router.get("/networks/{network_id}/learning-report", response_model=LearningReportOut, tags=["reflections"],
            summary="What the network's sessions produced over a period, counted, nobody named",
            description="Sessions held, attendance, the perspective mix per session, outputs by kind and "
                        "reflections by kind. Default period: the twelve months up to now. For the network's "
                        "coordinators and facilitators.",
            responses={404: documented_error("no such network")})
def learning_report(
    network_id: NetworkIdPath,
    caller: Caller,
    rpc: Rpc,
    period_from: Annotated[AwareDatetime | None, Query(description="start of the period (inclusive)")] = None,
    period_to: Annotated[AwareDatetime | None, Query(description="end of the period (exclusive)")] = None,
) -> dict[str, Any]:
    require(policy.can_read_learning_report(caller, network_id), NOT_STAFF)
    return rpc.call("sessions", "learning_report", network_id, query_of(period_from=period_from, period_to=period_to))
