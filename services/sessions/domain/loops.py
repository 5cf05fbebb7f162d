"""The action-learning loop: a participant's learning question, brought to a session, the experiment in practice
that comes out of it (with the participant's mandate), the follow-up at a later session, and the close, which may
name the output the loop produced.

One aggregate per question (docs/decisions/0009-the-learning-loop.md): the loop moves one way through
:class:`~services.common.vocabulary.LoopStatus`, each step with its own session. Every change raises the loop's
``revision`` and records a snapshot event without the words and without the owner (the catalogue's
``LearningLoopSnapshot``); the words stay here, with the owner and their network's staff.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from services.common.catalogue import (
    ExperimentFollowedUp,
    ExperimentMandateChanged,
    ExperimentStarted,
    LearningLoopClosed,
    LearningLoopSnapshot,
    LearningQuestionBrought,
    LearningQuestionOpened,
)
from services.common.errors import IllegalTransition, ValidationFailed, violation
from services.common.events import EventPayload
from services.common.vocabulary import LoopStatus, Mandate, MembershipRole, SessionStatus
from services.sessions.domain.outputs import Output
from services.sessions.domain.session import Session

OPEN, BROUGHT, EXPERIMENTING, FOLLOWED_UP, CLOSED = (LoopStatus.OPEN, LoopStatus.BROUGHT, LoopStatus.EXPERIMENTING,
                                                     LoopStatus.FOLLOWED_UP, LoopStatus.CLOSED)
HELD = (SessionStatus.HELD, SessionStatus.CLOSED)

# Which step may be taken from which status; the value reads well in "cannot <step> a loop that is <status>".
STEPS: Mapping[str, frozenset[LoopStatus]] = {
    "bring to a session": frozenset({OPEN, BROUGHT}),  # brought again: to the next session, if it was not reached
    "record an experiment for": frozenset({BROUGHT}),
    "change the mandate of": frozenset({EXPERIMENTING}),
    "record a follow-up for": frozenset({EXPERIMENTING}),
    "close": frozenset({FOLLOWED_UP}),
}


def _step(status: LoopStatus, step: str) -> None:
    if status not in STEPS[step]:
        message = f"cannot {step} a loop that is {status.value.replace('_', ' ')}"
        raise IllegalTransition(message, [violation("status", "illegal_transition", message)])


def _session_of_network(session: Session, network_id: str, field_name: str = "session_id") -> None:
    if session.network_id != network_id:
        raise ValidationFailed.single(field_name, "same_network", "the session is of another network than the question")


def _held(session: Session, field_name: str = "session_id") -> None:
    if session.status not in HELD:
        raise ValidationFailed.single(field_name, "held_session",
                                      f"the session must have been held (it is {session.status.value})")


@dataclass
class LearningLoop:
    id: str
    network_id: str
    owner_id: str
    owner_role: MembershipRole
    question: str | None  # None after the owner's erasure, as every text of theirs
    urgency: str | None  # why the question is urgent to the owner, in their words
    shared_with_network: bool  # the other members of the network may read it; staff always may
    status: LoopStatus
    opened_at: datetime
    revision: int = 1
    brought_to_session_id: str | None = None
    experiment: str | None = None
    experiment_session_id: str | None = None
    experiment_at: datetime | None = None
    mandate: Mandate | None = None
    follow_up: str | None = None
    follow_up_session_id: str | None = None
    followed_up_at: datetime | None = None
    lesson: str | None = None
    output_id: str | None = None
    closed_at: datetime | None = None
    updated_at: datetime | None = None
    events: list[EventPayload] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def open(cls, loop_id: str, network_id: str, owner_id: str, owner_role: MembershipRole, question: str,
             urgency: str | None, shared_with_network: bool, *, now: datetime) -> LearningLoop:
        loop = cls(loop_id, network_id, owner_id, owner_role, question, urgency or None, shared_with_network, OPEN,
                   now, updated_at=now)
        loop._record(LearningQuestionOpened)
        return loop

    def bring_to(self, session: Session, *, now: datetime) -> None:
        """To a planned or held session of the question's network (not a cancelled one)."""
        _step(self.status, "bring to a session")
        _session_of_network(session, self.network_id)
        if session.status == SessionStatus.CANCELLED:
            raise ValidationFailed.single("session_id", "not_cancelled", "the session is cancelled")
        self.brought_to_session_id, self.status = session.id, BROUGHT
        self._change(LearningQuestionBrought, now)

    def start_experiment(self, session: Session, brought_to: Session, experiment: str, mandate: Mandate, *,
                         now: datetime) -> None:
        """The experiment comes out of a held session, the one the question was brought to or a later one."""
        _step(self.status, "record an experiment for")
        _session_of_network(session, self.network_id)
        _held(session)
        if session.starts_at < brought_to.starts_at:
            raise ValidationFailed.single("session_id", "not_before_brought",
                                          "the experiment comes out of the session the question was brought to, "
                                          "or a later one")
        self.experiment, self.mandate = experiment, mandate
        self.experiment_session_id, self.experiment_at = session.id, session.starts_at
        self.status = EXPERIMENTING
        self._change(ExperimentStarted, now)

    def change_mandate(self, mandate: Mandate, *, now: datetime) -> None:
        """A mandate asked for is given or refused while the experiment runs."""
        _step(self.status, "change the mandate of")
        if mandate == self.mandate:
            return
        self.mandate = mandate
        self._change(ExperimentMandateChanged, now)

    def follow_up_at(self, session: Session, what_happened: str, *, now: datetime) -> None:
        """Reported at a held session that started after the one the experiment came out of."""
        _step(self.status, "record a follow-up for")
        _session_of_network(session, self.network_id)
        _held(session)
        assert self.experiment_at is not None
        if session.starts_at <= self.experiment_at:
            raise ValidationFailed.single("session_id", "later_session",
                                          "the follow-up is reported at a later session than the experiment's")
        self.follow_up, self.follow_up_session_id, self.followed_up_at = what_happened, session.id, session.starts_at
        self.status = FOLLOWED_UP
        self._change(ExperimentFollowedUp, now)

    def close(self, lesson: str | None, output: Output | None, *, now: datetime) -> None:
        """The loop is round. ``output``: what it produced, a live output of the same network."""
        _step(self.status, "close")
        if output is not None:
            if output.network_id != self.network_id:
                raise ValidationFailed.single("output_id", "same_network",
                                              "the output is of another network than the question")
            if output.retracted_at is not None:
                raise ValidationFailed.single("output_id", "live_output", "the output is retracted")
        self.lesson, self.output_id, self.closed_at = lesson, output.id if output else None, now
        self.status = CLOSED
        self._change(LearningLoopClosed, now)

    def _change(self, event: type[LearningLoopSnapshot], now: datetime) -> None:
        self.revision += 1
        self.updated_at = now
        self._record(event)

    def _record(self, event: type[LearningLoopSnapshot]) -> None:
        self.events.append(event(
            loop_id=self.id, network_id=self.network_id, revision=self.revision, status=self.status,
            owner_role=self.owner_role, urgency_stated=bool(self.urgency), opened_at=self.opened_at,
            brought_to_session_id=self.brought_to_session_id, experiment_session_id=self.experiment_session_id,
            experiment_at=self.experiment_at, mandate=self.mandate, follow_up_session_id=self.follow_up_session_id,
            followed_up_at=self.followed_up_at, closed_at=self.closed_at, output_id=self.output_id,
        ))
