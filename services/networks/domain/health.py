"""The network health report: the nine steps of a community of practice (seed 004), read from the data.

Each step says whether the data shows it, the evidence, and what is missing, in the reader's language (the
catalogue :mod:`services.common.i18n.health`). A step the data cannot show is reported as ``not_measurable``,
never guessed; a step judged from little data says so (``little_data`` and a note of what it rests on).
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.common.i18n import DEFAULT, Language, Texts
from services.common.i18n.health import HEALTH
from services.common.vocabulary import Mandate, MembershipRole, OutputKind, Perspective, Visibility
from services.networks.domain.network import Network
from services.networks.schemas import HealthStep

SHOWN, NOT_SHOWN, NOT_MEASURABLE = "shown", "not_shown", "not_measurable"
MIN_PERSPECTIVES = 3
MIN_MONTHS = 18
MAX_MEDIAN_GAP_WEEKS = 6.5  # "every six weeks", with the slack real calendars need
PARTICIPANT_SHARE = 1 / 3
DAYS_PER_MONTH = 30.44
WINDOW = timedelta(days=365)  # steps judged per period: the twelve months up to the report
MANDATE_SHARE = 1 / 2  # at least half of the experiments with the organisation's mandate
FEW_EXPERIMENTS = 3  # fewer than this: step 4 is judged from little data
FEW_QUESTIONS = 3  # fewer participants' learning questions than this: step 2 is judged from little data
FEW_SESSIONS = 3  # fewer sessions held than this: steps 6 and 8 are judged from little data


@dataclass(frozen=True)
class MemberFacts:
    member_id: str
    role: MembershipRole
    perspectives: tuple[Perspective, ...]


@dataclass(frozen=True)
class SessionFacts:
    starts_at: datetime
    contributor_ids: tuple[str, ...]
    session_id: str = ""


@dataclass(frozen=True)
class LoopFacts:
    """A member's action-learning loop, as the sessions service's events describe it: no words, no owner."""

    owner_role: MembershipRole
    urgency_stated: bool
    opened_at: datetime
    brought_to_session_id: str | None = None
    experiment_at: datetime | None = None
    mandate: Mandate | None = None
    followed_up_at: datetime | None = None
    closed_at: datetime | None = None
    output_id: str | None = None


@dataclass(frozen=True)
class OutputFacts:
    kind: OutputKind
    visibility: Visibility


def health_steps(network: Network, members: list[MemberFacts], held: list[SessionFacts],
                 outputs: list[OutputFacts], reflections: int, loops: list[LoopFacts] | None = None,
                 now: datetime | None = None, language: Language = DEFAULT) -> list[HealthStep]:
    """``held``: sessions held or closed; ``outputs``: published and not retracted; ``loops``: the members'
    learning loops; ``now``: the end of the period steps 2 and 4 judge (the twelve months before it)."""
    t, loops = Texts(HEALTH, language), loops or []
    end = now or max((lo.opened_at for lo in loops), default=None)
    recent = [lo for lo in loops if end is not None and end - WINDOW <= lo.opened_at <= end]
    return [
        _theme(t, network), _urgency(t, network, recent), _perspectives(t, members), _mandate(t, loops, end),
        _facilitators(t, members), _group_responsibility(t, members, held, loops),
        _act_and_reflect(t, outputs, reflections), _rhythm(t, held), _results(t, outputs),
    ]


def _human(t: Texts, perspective: Perspective) -> str:
    return t(f"perspective.{perspective.value}")


def _step(t: Texts, n: int, key: str, status: str, evidence: str, missing: str | None = None,
          little_data: str | None = None) -> HealthStep:
    return HealthStep(step=n, key=key, title=t(f"title.{key}"), status=status, evidence=evidence, missing=missing,
                      little_data=little_data is not None, little_data_note=little_data)


def _theme(t: Texts, network: Network) -> HealthStep:
    return _step(t, 1, "frame_theme", SHOWN, t("evidence.theme", theme=network.theme))


def _urgency(t: Texts, network: Network, recent: list[LoopFacts]) -> HealthStep:
    """Urgency as the participants state it: in their learning questions of the last twelve months. The urgency
    the coordinators recorded for the network counts too, flagged as little data while no participant has brought
    a question; when participants brought questions and none says why it is urgent to them, the step is not shown."""
    key = "connect_urgency"
    questions = [lo for lo in recent if lo.owner_role == MembershipRole.PARTICIPANT]
    stated = sum(1 for lo in questions if lo.urgency_stated)
    said = [t("evidence.urgency", urgency=network.urgency)] if network.urgency else []
    if questions:
        said.append(t.n("evidence.participant_urgency", len(questions), stated=stated))
    evidence = "; ".join(said) or t("evidence.no_urgency")
    few = t.n("little.few_questions", len(questions)) if 0 < len(questions) < FEW_QUESTIONS else None
    if stated:
        return _step(t, 2, key, SHOWN, evidence, little_data=few)
    if questions:
        return _step(t, 2, key, NOT_SHOWN, evidence, t("missing.participant_urgency"), little_data=few)
    if network.urgency:
        return _step(t, 2, key, SHOWN, evidence, little_data=t("little.urgency_from_staff"))
    return _step(t, 2, key, NOT_SHOWN, evidence, t("missing.urgency"), little_data=t.n("little.few_questions", 0))


def _perspectives(t: Texts, members: list[MemberFacts]) -> HealthStep:
    counts = Counter(p for m in members for p in m.perspectives)
    listed = ", ".join(f"{_human(t, p)} {n}" for p, n in counts.most_common())
    evidence = t("evidence.perspectives", perspectives=t.n("count.perspective", len(counts)),
                 members=t.n("count.member", len(members)))
    evidence += f" ({listed})" if listed else ""
    if len(counts) >= MIN_PERSPECTIVES:
        return _step(t, 3, "diverse_perspectives", SHOWN, evidence)
    absent = [_human(t, p) for p in Perspective if p not in counts][:3]
    return _step(t, 3, "diverse_perspectives", NOT_SHOWN, evidence,
                 t("missing.perspectives", minimum=MIN_PERSPECTIVES, absent=", ".join(absent)))


def _mandate(t: Texts, loops: list[LoopFacts], end: datetime | None) -> HealthStep:
    """Experiments that came out of sessions in the period: how many had the organisation's mandate, and how many
    of those were followed up at a later session. Shown when at least half had the mandate and at least one
    mandated experiment was followed up."""
    key = "mandate_to_experiment"
    experiments = [lo for lo in loops if lo.experiment_at and end and end - WINDOW <= lo.experiment_at <= end]
    mandated = [lo for lo in experiments if lo.mandate == Mandate.YES]
    followed = sum(1 for lo in mandated if lo.followed_up_at)
    asked = sum(1 for lo in experiments if lo.mandate == Mandate.ASKED)
    evidence = t("evidence.mandate", experiments=t.n("count.experiment", len(experiments)), mandated=len(mandated),
                 asked=asked, followed=followed)
    little = t.n("little.few_experiments", len(experiments)) if len(experiments) < FEW_EXPERIMENTS else None
    enough_mandates = len(mandated) >= len(experiments) * MANDATE_SHARE
    if mandated and followed and enough_mandates:
        return _step(t, 4, key, SHOWN, evidence, little_data=little)
    missing = ("missing.experiments" if not experiments else "missing.mandates" if not enough_mandates or not mandated
               else "missing.follow_up")
    return _step(t, 4, key, NOT_SHOWN, evidence, t(missing), little_data=little)


def _facilitators(t: Texts, members: list[MemberFacts]) -> HealthStep:
    facilitators = [m for m in members if m.role == MembershipRole.FACILITATOR]
    first = sorted(_human(t, m.perspectives[0]) if m.perspectives else t("unknown_perspective")
                   for m in facilitators)
    evidence = t.n("count.facilitator", len(facilitators)) + (f": {t.join(first)}" if first else "")
    if len(facilitators) >= 2 and len(set(first)) >= 2:
        return _step(t, 5, "two_facilitators", SHOWN, evidence)
    missing = "missing.two_facilitators" if len(facilitators) < 2 else "missing.facilitator_perspectives"
    return _step(t, 5, "two_facilitators", NOT_SHOWN, evidence, t(missing))


def _group_responsibility(t: Texts, members: list[MemberFacts], held: list[SessionFacts],
                          loops: list[LoopFacts]) -> HealthStep:
    """Sessions to which participants (not staff) brought something: a topic or contribution on the programme, or
    a learning question of their own."""
    key = "group_responsibility"
    if not held:
        return _step(t, 6, key, NOT_SHOWN, t("evidence.no_sessions"), t("missing.hold_sessions"),
                     little_data=t.n("little.few_sessions", 0))
    participants = {m.member_id for m in members if m.role == MembershipRole.PARTICIPANT}
    with_questions = {lo.brought_to_session_id for lo in loops
                      if lo.owner_role == MembershipRole.PARTICIPANT and lo.brought_to_session_id}
    with_participant = sum(1 for s in held
                           if participants.intersection(s.contributor_ids) or s.session_id in with_questions)
    evidence = t.n("evidence.group", len(held), with_participant=with_participant)
    few = t.n("little.few_sessions", len(held)) if len(held) < FEW_SESSIONS else None
    if with_participant >= len(held) * PARTICIPANT_SHARE:
        return _step(t, 6, key, SHOWN, evidence, little_data=few)
    return _step(t, 6, key, NOT_SHOWN, evidence, t("missing.group"), little_data=few)


def _act_and_reflect(t: Texts, outputs: list[OutputFacts], reflections: int) -> HealthStep:
    questions = sum(1 for o in outputs if o.kind == OutputKind.LEARNING_QUESTION)
    evidence = t("evidence.reflect", reflections=t.n("count.reflection", reflections),
                 questions=t.n("count.learning_question", questions))
    if reflections:
        return _step(t, 7, "act_and_reflect", SHOWN, evidence)
    return _step(t, 7, "act_and_reflect", NOT_SHOWN, evidence, t("missing.reflect"))


def _rhythm(t: Texts, held: list[SessionFacts]) -> HealthStep:
    key = "sustained_rhythm"
    starts = sorted(s.starts_at for s in held)
    few = t.n("little.few_sessions", len(starts)) if len(starts) < FEW_SESSIONS else None
    if len(starts) < 2:
        return _step(t, 8, key, NOT_SHOWN, t("evidence.held", sessions=t.n("count.session", len(starts))),
                     t("missing.rhythm", months=MIN_MONTHS), little_data=few)
    months = (starts[-1] - starts[0]).days / DAYS_PER_MONTH
    gap = statistics.median((b - a).days / 7 for a, b in itertools.pairwise(starts))
    evidence = t("evidence.rhythm", sessions=t.n("count.session", len(starts)),
                 months=t.n("count.month", math.floor(months)), gap=t.decimal(gap))
    missing = []
    if months < MIN_MONTHS:
        missing.append(t.n("missing.more_months", math.ceil(MIN_MONTHS - months)))
    if gap > MAX_MEDIAN_GAP_WEEKS:
        missing.append(t("missing.every_six_weeks"))
    if missing:
        return _step(t, 8, key, NOT_SHOWN, evidence, "; ".join(missing), little_data=few)
    return _step(t, 8, key, SHOWN, evidence, little_data=few)


def _results(t: Texts, outputs: list[OutputFacts]) -> HealthStep:
    shared = sum(1 for o in outputs if o.visibility != Visibility.NETWORK)
    evidence = t("evidence.results", shared=t.n("count.output", shared), total=len(outputs))
    if shared:
        return _step(t, 9, "communicate_results", SHOWN, evidence)
    return _step(t, 9, "communicate_results", NOT_SHOWN, evidence, t("missing.results"))
