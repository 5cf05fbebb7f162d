"""A network's learning report: what its sessions over a period produced, counted, with nobody named.

Counts only. Member ids are used to count distinct attendees and never leave this module; the report is
safe to show to anyone who may see the network's aggregate figures.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TypeVar

from services.common.errors import ValidationFailed
from services.common.i18n import DEFAULT, Language, Texts
from services.common.i18n.learning import LEARNING
from services.common.schemas import TIME_MESSAGE, TIME_RULE
from services.common.vocabulary import LoopStatus, Mandate, OutputKind, Perspective, ReflectionKind, SessionFormat
from services.sessions.domain.loops import LearningLoop
from services.sessions.domain.participation import perspective_counts
from services.sessions.domain.session import Session

DEFAULT_PERIOD = timedelta(days=365)
E = TypeVar("E", bound=StrEnum)


@dataclass(frozen=True)
class Period:
    """A half-open interval [start, end)."""

    start: datetime
    end: datetime

    @classmethod
    def of(cls, start: datetime | None, end: datetime | None, *, now: datetime) -> Period:
        """Default: the twelve months up to now. A default end or start beyond the calendar (a year from a
        start in 9999, a year before an end in year 1) is refused, naming the field, rather than overflowing."""
        try:
            end = end or (start + DEFAULT_PERIOD if start else now)
        except OverflowError:
            raise ValidationFailed.single("period_from", TIME_RULE, TIME_MESSAGE) from None
        try:
            start = start or end - DEFAULT_PERIOD
        except OverflowError:
            raise ValidationFailed.single("period_to", TIME_RULE, TIME_MESSAGE) from None
        if end <= start:
            raise ValidationFailed.single("period_to", "after_period_from", "the period ends after it starts")
        return cls(start, end)

    def __contains__(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


@dataclass(frozen=True)
class SessionMix:
    session_id: str
    title: str
    format: SessionFormat
    starts_at: datetime
    attendee_count: int
    perspective_counts: dict[Perspective, int]


@dataclass(frozen=True)
class LoopCounts:
    """The action-learning loop over a period: questions opened and loops closed in it, experiments that came
    out of its sessions (by mandate), and follow-ups reported at its sessions."""

    opened: int
    closed: int
    closed_with_output: int
    experiments: int
    experiments_by_mandate: dict[Mandate, int]
    followed_up: int


def loop_counts(period: Period, loops: Iterable[LearningLoop]) -> LoopCounts:
    loops = list(loops)
    closed = [lo for lo in loops if lo.status == LoopStatus.CLOSED and lo.closed_at and lo.closed_at in period]
    experiments = [lo for lo in loops if lo.experiment_at and lo.experiment_at in period]
    return LoopCounts(
        opened=sum(1 for lo in loops if lo.opened_at in period),
        closed=len(closed),
        closed_with_output=sum(1 for lo in closed if lo.output_id),
        experiments=len(experiments),
        experiments_by_mandate=_count(Mandate, (lo.mandate for lo in experiments if lo.mandate)),
        followed_up=sum(1 for lo in loops if lo.followed_up_at and lo.followed_up_at in period),
    )


@dataclass(frozen=True)
class LearningReport:
    network_id: str
    period_from: datetime
    period_to: datetime
    sessions_held: int
    sessions_by_format: dict[SessionFormat, int]
    attendance_total: int
    attendance_average: float
    distinct_attendees: int
    perspective_mix: list[SessionMix]
    perspective_totals: dict[Perspective, int]
    outputs_by_kind: dict[OutputKind, int]
    reflections_by_kind: dict[ReflectionKind, int]
    loops: LoopCounts
    language: Language = DEFAULT
    summary: tuple[str, ...] = ()


def learning_report(network_id: str, period: Period, held: Iterable[Session], output_kinds: Iterable[OutputKind],
                    reflection_kinds: Iterable[ReflectionKind], loops: Iterable[LearningLoop] = (),
                    language: Language = DEFAULT) -> LearningReport:
    """``held``: the network's held or closed sessions starting in the period; ``output_kinds``: its outputs
    published (and not retracted) in the period; ``reflection_kinds``: its reflections recorded in it;
    ``loops``: its learning loops (those not touching the period count nowhere)."""
    sessions = sorted(held, key=lambda s: (s.starts_at, s.id))
    mix = [
        SessionMix(s.id, s.title, s.format, s.starts_at, len(s.attendance),
                   perspective_counts(a.perspectives for a in s.attendance))
        for s in sessions
    ]
    total = sum(m.attendee_count for m in mix)
    totals = dict.fromkeys(Perspective, 0)
    for m in mix:
        for perspective, count in m.perspective_counts.items():
            totals[perspective] += count
    outputs_by_kind = _count(OutputKind, output_kinds)
    reflections_by_kind = _count(ReflectionKind, reflection_kinds)
    counted = loop_counts(period, loops)
    summary = _summary(Texts(LEARNING, language), len(sessions), total, len({a.member_id for s in sessions
                                                                                for a in s.attendance}),
                       sum(outputs_by_kind.values()), sum(reflections_by_kind.values()), counted)
    return LearningReport(
        network_id=network_id, period_from=period.start, period_to=period.end,
        sessions_held=len(sessions),
        sessions_by_format=_count(SessionFormat, (s.format for s in sessions)),
        attendance_total=total,
        attendance_average=round(total / len(sessions), 1) if sessions else 0.0,
        distinct_attendees=len({a.member_id for s in sessions for a in s.attendance}),
        perspective_mix=mix,
        perspective_totals=totals,
        outputs_by_kind=outputs_by_kind,
        reflections_by_kind=reflections_by_kind,
        loops=counted,
        language=language,
        summary=summary,
    )


def _summary(t: Texts, sessions: int, attendance: int, distinct: int, outputs: int, reflections: int,
             loops: LoopCounts) -> tuple[str, ...]:
    """The report in four sentences, in the reader's language."""
    average = t.decimal(attendance / sessions if sessions else 0.0)
    mandates = loops.experiments_by_mandate
    return (
        t("sessions", sessions=t.n("count.session", sessions), attendance=t.n("count.attendance", attendance),
          average=average, people=t.n("count.person", distinct)),
        t("outputs", outputs=t.n("count.output", outputs), reflections=t.n("count.reflection", reflections)),
        t("loops", opened=t.n("count.opened", loops.opened), closed=t.n("count.closed", loops.closed),
          with_output=loops.closed_with_output),
        t("experiments", experiments=t.n("count.experiment", loops.experiments), yes=mandates[Mandate.YES],
          asked=mandates[Mandate.ASKED], no=mandates[Mandate.NO], followed=loops.followed_up),
    )


def _count(enum: type[E], values: Iterable[E]) -> dict[E, int]:
    counted = Counter(values)
    return {member: counted.get(member, 0) for member in enum}
