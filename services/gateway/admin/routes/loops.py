"""The action-learning loop: a member's learning question, brought to a session, the experiment in practice that
came out of it (with their mandate), the follow-up at a later session, and the close, naming the output it produced.

Each route passes the caller to the sessions service, which decides (services/sessions/domain/access.py): a
question is its owner's and their network's; the owner and the network's coordinators and facilitators see and
move it, the network's other members see it only if the owner shared it, nobody outside the network sees it.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query
from pydantic import BaseModel, StringConstraints

from services.common.schemas import NoNul
from services.common.vocabulary import LoopStatus
from services.gateway.admin.deps import Caller, Rpc
from services.gateway.admin.errors import ERROR_RESPONSES, Responses, documented_error
from services.gateway.admin.routes.sessions import NetworkIdPath, query_of
from services.sessions.schemas.commands import (
    BringQuestion,
    ChangeMandate,
    CloseLoop,
    FollowUpExperiment,
    OpenLearningQuestion,
    StartExperiment,
)
from services.sessions.schemas.views import LearningLoopOut, LearningLoopPage

router = APIRouter(prefix="/v1", tags=["learning loop"], responses=ERROR_RESPONSES)

LoopId = Annotated[str, StringConstraints(min_length=1, max_length=36), NoNul]
LoopIdPath = Annotated[LoopId, Path(description="the learning question's id")]
NOT_FOUND: Responses = {404: documented_error("no such learning question")}
STEP: Responses = {**NOT_FOUND, 409: documented_error("not allowed where the loop is (rule `illegal_transition`)")}
PageSize = Annotated[int, Query(ge=1, le=200)]
PageToken = Annotated[str | None, Query(max_length=500)]


def _move(rpc: Any, method: str, caller: Any, loop_id: str, body: BaseModel | None) -> dict[str, Any]:
    answer: dict[str, Any] = rpc.call("sessions", method, caller.wire(), loop_id,
                                      body.model_dump(mode="json", exclude_unset=True) if body else {})
    return answer


@router.post("/learning-questions", status_code=201, response_model=LearningLoopOut,
             summary="Open a learning question of your own",
             description="A member opens it in a network they belong to, from applying the approach in their own "
                         "work; `urgency` says why it is urgent to them. Kept between them and the network's "
                         "coordinators and facilitators unless `shared_with_network`. The operator opens none.")
def open_question(body: OpenLearningQuestion, caller: Caller, rpc: Rpc) -> dict[str, Any]:
    answer: dict[str, Any] = rpc.call("sessions", "open_learning_question", caller.wire(),
                                      body.model_dump(mode="json", exclude_unset=True))
    return answer


@router.get("/networks/{network_id}/learning-questions", response_model=LearningLoopPage,
            summary="The learning questions of a network that you may see",
            description="Oldest first. The network's coordinators and facilitators see all; its other members "
                        "their own and those shared with the network; nobody outside it.")
def list_questions(network_id: NetworkIdPath, caller: Caller, rpc: Rpc, status: LoopStatus | None = None,
                   page_size: PageSize = 50, page_token: PageToken = None) -> dict[str, Any]:
    query = query_of(network_id=network_id, status=status, page_size=page_size, page_token=page_token)
    answer: dict[str, Any] = rpc.call("sessions", "list_learning_questions", caller.wire(), query)
    return answer


@router.get("/learning-questions/{loop_id}", response_model=LearningLoopOut, summary="Get a learning question",
            description="With its experiment, mandate, follow-up and the output the closed loop produced.",
            responses=NOT_FOUND)
def get_question(loop_id: LoopIdPath, caller: Caller, rpc: Rpc) -> dict[str, Any]:
    answer: dict[str, Any] = rpc.call("sessions", "get_learning_question", caller.wire(), loop_id)
    return answer


@router.post("/learning-questions/{loop_id}/bring", response_model=LearningLoopOut,
             summary="Bring the question to a session",
             description="A planned or held session of the question's network; again, to a later one, while no "
                         "experiment came of it. For the owner and the network's coordinators and facilitators.",
             responses=STEP)
def bring_question(loop_id: LoopIdPath, body: BringQuestion, caller: Caller, rpc: Rpc) -> dict[str, Any]:
    return _move(rpc, "bring_learning_question", caller, loop_id, body)


@router.post("/learning-questions/{loop_id}/experiment", response_model=LearningLoopOut,
             summary="Record the experiment in practice that came out of a session",
             description="From a held session, the one the question was brought to or a later one, with the "
                         "owner's mandate from their organisation: `yes`, `asked` or `no`.", responses=STEP)
def start_experiment(loop_id: LoopIdPath, body: StartExperiment, caller: Caller, rpc: Rpc) -> dict[str, Any]:
    return _move(rpc, "start_experiment", caller, loop_id, body)


@router.put("/learning-questions/{loop_id}/mandate", response_model=LearningLoopOut,
            summary="Change the mandate of a running experiment",
            description="A mandate asked for was given or refused.", responses=STEP)
def change_mandate(loop_id: LoopIdPath, body: ChangeMandate, caller: Caller, rpc: Rpc) -> dict[str, Any]:
    return _move(rpc, "change_mandate", caller, loop_id, body)


@router.post("/learning-questions/{loop_id}/follow-up", response_model=LearningLoopOut,
             summary="Report what happened, at a later session",
             description="At a held session that started after the one the experiment came out of.",
             responses=STEP)
def follow_up(loop_id: LoopIdPath, body: FollowUpExperiment, caller: Caller, rpc: Rpc) -> dict[str, Any]:
    return _move(rpc, "follow_up_experiment", caller, loop_id, body)


@router.post("/learning-questions/{loop_id}/close", response_model=LearningLoopOut,
             summary="Close the loop, with what was learnt and the output it produced",
             description="After the follow-up. `output_id`: a live output of the question's network; only an "
                         "output carries what was learnt beyond the network.", responses=STEP)
def close_loop(loop_id: LoopIdPath, caller: Caller, rpc: Rpc,
               body: Annotated[CloseLoop | None, Body()] = None) -> dict[str, Any]:
    return _move(rpc, "close_learning_loop", caller, loop_id, body)
