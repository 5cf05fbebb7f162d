"""``/v1/questions``: a member asks an expert a question through Kring; the expert answers or declines.

A question is between its asker and its expert: the members service decides (services/members/domain/access.py)
and shows each party the other only as they allowed (docs/decisions/0010-asking-an-expert.md). The routes pass
the caller and the request.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Path, Query

from services.gateway.admin.deps import Caller, Rpc
from services.gateway.admin.errors import ERROR_RESPONSES, Responses, documented_error
from services.members.schemas import (
    AnswerQuestion,
    AskQuestion,
    DeclineQuestion,
    QuestionId,
    QuestionOut,
    QuestionPage,
    QuestionStatus,
)

router = APIRouter(prefix="/v1/questions", tags=["questions"], responses=ERROR_RESPONSES)

QuestionIdPath = Annotated[QuestionId, Path(description="the question's id")]
NOT_FOUND: Responses = {404: documented_error("no such question")}
CLOSED: Responses = {409: documented_error("the question was already answered or declined (rule `open`)")}


@router.post("", status_code=201, response_model=QuestionOut, summary="Ask an expert a question",
             description="For a member, in a network they and the expert both belong to; the expert is one "
                         "`GET /v1/expertise` found. Neither side's contact details are shown; the expert sees "
                         "your name only with `share_name`. An expert who cannot be asked is a 422 on `expert_id` "
                         "(rule `findable_expert`), whoever they are.")
def ask_question(body: AskQuestion, caller: Caller, rpc: Rpc) -> dict[str, Any]:
    answer: dict[str, Any] = rpc.call("members", "ask_question", caller.wire(),
                                      body.model_dump(mode="json", exclude_unset=True))
    return answer


@router.get("", response_model=QuestionPage, summary="Your questions, asked or received",
            description="Newest first. Only the member's own: the questions they asked, or received as an expert.")
def list_questions(
    caller: Caller,
    rpc: Rpc,
    role: Annotated[Literal["asked", "received"], Query(description="asked by you, or received by you")],
    status: QuestionStatus | None = None,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
    page_token: Annotated[str | None, Query(max_length=500)] = None,
) -> dict[str, Any]:
    query: dict[str, Any] = {"role": role, "page_size": page_size}
    if status is not None:
        query["status"] = status.value
    if page_token is not None:
        query["page_token"] = page_token
    answer: dict[str, Any] = rpc.call("members", "list_questions", caller.wire(), query)
    return answer


@router.get("/{question_id}", response_model=QuestionOut, summary="A question you asked or received",
            responses=NOT_FOUND)
def get_question(question_id: QuestionIdPath, caller: Caller, rpc: Rpc) -> dict[str, Any]:
    answer: dict[str, Any] = rpc.call("members", "get_question", caller.wire(), question_id)
    return answer


@router.post("/{question_id}/answer", response_model=QuestionOut, summary="Answer a question you received",
             description="Only the expert asked. `share_email` and `contact_note` share how to reach you with "
                         "the asker; nothing is shared otherwise.", responses={**NOT_FOUND, **CLOSED})
def answer_question(question_id: QuestionIdPath, body: AnswerQuestion, caller: Caller, rpc: Rpc) -> dict[str, Any]:
    answer: dict[str, Any] = rpc.call("members", "answer_question", caller.wire(), question_id,
                                      body.model_dump(mode="json", exclude_unset=True))
    return answer


@router.post("/{question_id}/decline", response_model=QuestionOut, summary="Decline a question you received",
             description="Only the expert asked; `reason` is shown to the asker.",
             responses={**NOT_FOUND, **CLOSED})
def decline_question(question_id: QuestionIdPath, caller: Caller, rpc: Rpc,
                     body: Annotated[DeclineQuestion | None, Body()] = None) -> dict[str, Any]:
    request = body.model_dump(mode="json", exclude_unset=True) if body else {}
    answer: dict[str, Any] = rpc.call("members", "decline_question", caller.wire(), question_id, request)
    return answer
