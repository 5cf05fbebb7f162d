"""A question a member asks an expert through Kring. Plain Python, no I/O.

The asker picks an expert who consented to be found, in a network they both belong to. Neither side's contact
details travel with the question: the expert sees the asker's name only if the asker chose to share it, and the
asker sees the expert's contact details only after the expert answered and chose what to share
(docs/decisions/0010-asking-an-expert.md). An open question is answered or declined once, by the expert.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from services.common.catalogue import ExpertQuestionAnswered, ExpertQuestionAsked, ExpertQuestionDeclined
from services.common.errors import IllegalTransition, ValidationFailed, violation
from services.common.events import EventPayload
from services.members.domain.member import Member
from services.members.schemas import QuestionStatus

NO_SUCH_EXPERT = "no member who consented to be found by expertise has this id in this network"


@dataclass
class ExpertQuestion:
    id: str
    network_id: str
    asker_id: str
    expert_id: str
    tag: str | None
    text: str
    asker_named: bool
    status: QuestionStatus
    asked_at: datetime
    closed_at: datetime | None = None
    answer: str | None = None
    shared_email: bool = False
    contact_note: str | None = None
    decline_reason: str | None = None
    revision: int = 1
    events: list[EventPayload] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def ask(cls, question_id: str, *, asker: Member, expert: Member | None, network_id: str, tag: str | None,
            text: str, share_name: bool, now: datetime) -> ExpertQuestion:
        """``expert``: the member the asker named, None if there is no such member. Whoever is not a findable
        expert of the network gets the same answer, so a question reveals no one who did not consent."""
        if expert is None or expert.erased or not expert.findable_by_expertise \
                or network_id not in expert.memberships:
            raise ValidationFailed.single("expert_id", "findable_expert", NO_SUCH_EXPERT)
        if expert.id == asker.id:
            raise ValidationFailed.single("expert_id", "not_yourself", "you cannot ask yourself a question")
        if tag is not None and tag not in expert.expertise:
            raise ValidationFailed.single("tag", "expert_has_tag", "not among this expert's expertise")
        question = cls(id=question_id, network_id=network_id, asker_id=asker.id, expert_id=expert.id, tag=tag,
                       text=text, asker_named=share_name, status=QuestionStatus.OPEN, asked_at=now)
        question.events.append(ExpertQuestionAsked(question_id=question.id, network_id=network_id, tag=tag,
                                                   revision=question.revision))
        return question

    def answer_with(self, text: str, *, share_email: bool, contact_note: str | None, now: datetime) -> None:
        self._close(QuestionStatus.ANSWERED, now)
        self.answer, self.shared_email, self.contact_note = text, share_email, contact_note
        self.events.append(ExpertQuestionAnswered(question_id=self.id, network_id=self.network_id, tag=self.tag,
                                                  revision=self.revision, contact_shared=self.contact_shared))

    def decline(self, reason: str | None, *, now: datetime) -> None:
        self._close(QuestionStatus.DECLINED, now)
        self.decline_reason = reason
        self.events.append(ExpertQuestionDeclined(question_id=self.id, network_id=self.network_id, tag=self.tag,
                                                  revision=self.revision))

    @property
    def contact_shared(self) -> bool:
        return self.status == QuestionStatus.ANSWERED and (self.shared_email or self.contact_note is not None)

    def _close(self, status: QuestionStatus, now: datetime) -> None:
        if self.status != QuestionStatus.OPEN:
            message = f"question {self.id} was already {self.status.value}"
            raise IllegalTransition(message, [violation("status", "open", message)])
        self.status, self.closed_at = status, now
        self.revision += 1
