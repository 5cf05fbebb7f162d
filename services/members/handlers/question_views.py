"""A question as one of its two parties sees it (the question handlers and the member's data export use it)."""

from __future__ import annotations

from services.members.domain import ExpertQuestion
from services.members.ports import MembersUoW
from services.members.schemas import AskerShown, ExpertShown, QuestionOut, SharedContact


def question_view(question: ExpertQuestion, viewer_id: str, uow: MembersUoW) -> QuestionOut:
    """The question as ``viewer_id`` (its asker or its expert) sees it: the other party only as they allowed."""
    asked = viewer_id == question.asker_id
    expert = uow.members.get(question.expert_id)
    asker = uow.members.get(question.asker_id)
    assert expert is not None and asker is not None  # erasure deletes a member's questions
    contact = None
    if question.contact_shared:
        contact = SharedContact(email=expert.email if question.shared_email else None, note=question.contact_note)
    return QuestionOut(
        id=question.id, role="asked" if asked else "received", network_id=question.network_id, tag=question.tag,
        question=question.text, status=question.status, asked_at=question.asked_at, closed_at=question.closed_at,
        answer=question.answer, decline_reason=question.decline_reason,
        expert=ExpertShown(member_id=expert.id, name=expert.name, organisation=expert.organisation) if asked else None,
        asker=None if asked else AskerShown(name=asker.name if question.asker_named else None,
                                            perspectives=asker.perspectives),
        expert_contact=contact, revision=question.revision,
    )
