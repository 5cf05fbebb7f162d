"""Questions to experts: asking, answering, declining, and each party's view of them."""

from __future__ import annotations

import uuid

from services.common.caller import Caller, require
from services.common.errors import NotFound
from services.members.domain import ExpertQuestion, access
from services.members.handlers.members import active_member, now
from services.members.handlers.question_views import question_view
from services.members.ports import MembersUoW
from services.members.schemas import (
    AnswerQuestion,
    AskQuestion,
    DeclineQuestion,
    ListQuestions,
    QuestionOut,
    QuestionPage,
)


def ask_question(caller: Caller, cmd: AskQuestion, uow: MembersUoW) -> QuestionOut:
    asker_id = access.require_asking_in(caller, cmd.network_id)
    with uow:
        asker = active_member(uow, asker_id)
        question = ExpertQuestion.ask(str(uuid.uuid4()), asker=asker, expert=uow.members.get(cmd.expert_id),
                                      network_id=cmd.network_id, tag=cmd.tag, text=cmd.question,
                                      share_name=cmd.share_name, now=now())
        uow.questions.add(question)
        view = question_view(question, asker_id, uow)
        uow.commit()
        return view


def answer_question(caller: Caller, question_id: str, cmd: AnswerQuestion, uow: MembersUoW) -> QuestionOut:
    with uow:
        question = _question_for(caller, question_id, uow)
        require(access.can_close_question(caller, question.expert_id), "only the expert asked may answer")
        question.answer_with(cmd.answer, share_email=cmd.share_email, contact_note=cmd.contact_note, now=now())
        uow.questions.save(question)
        view = question_view(question, question.expert_id, uow)
        uow.commit()
        return view


def decline_question(caller: Caller, question_id: str, cmd: DeclineQuestion, uow: MembersUoW) -> QuestionOut:
    with uow:
        question = _question_for(caller, question_id, uow)
        require(access.can_close_question(caller, question.expert_id), "only the expert asked may decline")
        question.decline(cmd.reason, now=now())
        uow.questions.save(question)
        view = question_view(question, question.expert_id, uow)
        uow.commit()
        return view


def get_question(caller: Caller, question_id: str, uow: MembersUoW) -> QuestionOut:
    with uow:
        question = _question_for(caller, question_id, uow)
        assert caller.member_id is not None  # a party to it
        return question_view(question, caller.member_id, uow)


def list_questions(caller: Caller, query: ListQuestions, uow: MembersUoW) -> QuestionPage:
    member_id = access.require_own_questions(caller)
    with uow:
        found, next_token = uow.questions.page(member_id, query)
        return QuestionPage(items=[question_view(q, member_id, uow) for q in found], next_page_token=next_token)


def _question_for(caller: Caller, question_id: str, uow: MembersUoW) -> ExpertQuestion:
    question = uow.questions.get(question_id)
    if question is None:
        raise NotFound(f"question {question_id} not found")
    require(access.can_see_question(caller, question.asker_id, question.expert_id),
            "a question is for its asker and its expert only")
    return question
