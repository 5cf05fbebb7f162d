"""The network health report: the nine steps of a community of practice (seed 004), read from the data.

Each step says whether the data shows it, the evidence, and what is missing. A step the data cannot
show is reported as ``not_measurable``, never guessed.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

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
                 now: datetime | None = None) -> list[HealthStep]:
    """``held``: sessions held or closed; ``outputs``: published and not retracted; ``loops``: the members'
    learning loops; ``now``: the end of the period steps 4 judges (the twelve months before it)."""
    loops = loops or []
    return [
        _theme(network), _urgency(network), _perspectives(members), _mandate(loops, now), _facilitators(members),
        _group_responsibility(members, held), _act_and_reflect(outputs, reflections), _rhythm(held),
        _results(outputs),
    ]


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _human(perspective: Perspective) -> str:
    return perspective.value.replace("_", " ")


def _step(n: int, key: str, title: str, status: str, evidence: str, missing: str | None = None,
          little_data: str | None = None) -> HealthStep:
    return HealthStep(step=n, key=key, title=title, status=status, evidence=evidence, missing=missing,
                      little_data=little_data is not None, little_data_note=little_data)


def _theme(network: Network) -> HealthStep:
    return _step(1, "frame_theme", "Frame the theme sharply", SHOWN, f'theme: "{network.theme}"')


def _urgency(network: Network) -> HealthStep:
    if network.urgency:
        return _step(2, "connect_urgency", "Connect to the participants' urgency", SHOWN,
                     f'urgency: "{network.urgency}"')
    return _step(2, "connect_urgency", "Connect to the participants' urgency", NOT_SHOWN, "no urgency recorded",
                 "record why the theme is urgent for the participants")


def _perspectives(members: list[MemberFacts]) -> HealthStep:
    counts = Counter(p for m in members for p in m.perspectives)
    listed = ", ".join(f"{_human(p)} {n}" for p, n in counts.most_common())
    evidence = f"{_n(len(counts), 'perspective')} among {_n(len(members), 'member')}"
    evidence += f" ({listed})" if listed else ""
    if len(counts) >= MIN_PERSPECTIVES:
        return _step(3, "diverse_perspectives", "Recruit diverse perspectives", SHOWN, evidence)
    absent = [_human(p) for p in Perspective if p not in counts][:3]
    return _step(3, "diverse_perspectives", "Recruit diverse perspectives", NOT_SHOWN, evidence,
                 f"at least {MIN_PERSPECTIVES} perspectives; consider {', '.join(absent)}")


def _mandate(loops: list[LoopFacts], now: datetime | None) -> HealthStep:
    """Experiments that came out of sessions in the period: how many had the organisation's mandate, and how many
    of those were followed up at a later session. Shown when at least half had the mandate and at least one
    mandated experiment was followed up."""
    title = "Mandate to experiment in practice"
    end = now or max((lo.experiment_at for lo in loops if lo.experiment_at), default=None)
    experiments = [lo for lo in loops if lo.experiment_at and end and end - WINDOW <= lo.experiment_at <= end]
    mandated = [lo for lo in experiments if lo.mandate == Mandate.YES]
    followed = sum(1 for lo in mandated if lo.followed_up_at)
    asked = sum(1 for lo in experiments if lo.mandate == Mandate.ASKED)
    evidence = (f"in the last 12 months: {_n(len(experiments), 'experiment')} in practice, {len(mandated)} with a "
                f"mandate ({asked} asked for), {followed} of those followed up at a later session")
    little = (f"only {_n(len(experiments), 'experiment')} recorded in the period"
              if len(experiments) < FEW_EXPERIMENTS else None)
    if mandated and followed and len(mandated) >= len(experiments) * MANDATE_SHARE:
        return _step(4, "mandate_to_experiment", title, SHOWN, evidence, little_data=little)
    missing = ("participants leaving sessions with an experiment in practice, their mandate recorded"
               if not experiments else
               "mandates for at least half of the experiments" if len(mandated) < len(experiments) * MANDATE_SHARE
               else "a follow-up at a later session of an experiment with a mandate")
    return _step(4, "mandate_to_experiment", title, NOT_SHOWN, evidence, missing, little_data=little)


def _facilitators(members: list[MemberFacts]) -> HealthStep:
    facilitators = [m for m in members if m.role == MembershipRole.FACILITATOR]
    first = sorted(_human(m.perspectives[0]) if m.perspectives else "unknown perspective" for m in facilitators)
    evidence = f"{_n(len(facilitators), 'facilitator')}" + (f": {' and '.join(first)}" if first else "")
    if len(facilitators) >= 2 and len(set(first)) >= 2:
        return _step(5, "two_facilitators", "Two facilitators from different perspectives", SHOWN, evidence)
    missing = "two facilitators" if len(facilitators) < 2 else "facilitators from different perspectives"
    return _step(5, "two_facilitators", "Two facilitators from different perspectives", NOT_SHOWN, evidence, missing)


def _group_responsibility(members: list[MemberFacts], held: list[SessionFacts]) -> HealthStep:
    title = "Responsibility with the group"
    if not held:
        return _step(6, "group_responsibility", title, NOT_SHOWN, "no sessions held yet", "hold sessions")
    participants = {m.member_id for m in members if m.role == MembershipRole.PARTICIPANT}
    with_participant = sum(1 for s in held if participants.intersection(s.contributor_ids))
    evidence = f"participants contributed to {with_participant} of {_n(len(held), 'session')} held"
    if with_participant >= len(held) * PARTICIPANT_SHARE:
        return _step(6, "group_responsibility", title, SHOWN, evidence)
    return _step(6, "group_responsibility", title, NOT_SHOWN, evidence,
                 "participants, not only facilitators, presenting in at least a third of the sessions")


def _act_and_reflect(outputs: list[OutputFacts], reflections: int) -> HealthStep:
    questions = sum(1 for o in outputs if o.kind == OutputKind.LEARNING_QUESTION)
    evidence = f"{_n(reflections, 'reflection')} and {_n(questions, 'learning question')} recorded"
    if reflections:
        return _step(7, "act_and_reflect", "Act and reflect", SHOWN, evidence)
    return _step(7, "act_and_reflect", "Act and reflect", NOT_SHOWN, evidence,
                 "members recording reflections after sessions")


def _rhythm(held: list[SessionFacts]) -> HealthStep:
    title = "At least 18 months of sessions every six weeks"
    starts = sorted(s.starts_at for s in held)
    if len(starts) < 2:
        return _step(8, "sustained_rhythm", title, NOT_SHOWN, f"{_n(len(starts), 'session')} held",
                     f"sessions every six weeks for {MIN_MONTHS} months")
    months = (starts[-1] - starts[0]).days / DAYS_PER_MONTH
    gap = statistics.median((b - a).days / 7 for a, b in itertools.pairwise(starts))
    evidence = f"{_n(len(starts), 'session')} in {_n(math.floor(months), 'month')}, median gap {gap:.1f} weeks"
    missing = []
    if months < MIN_MONTHS:
        missing.append(f"{_n(math.ceil(MIN_MONTHS - months), 'more month')} of sessions")
    if gap > MAX_MEDIAN_GAP_WEEKS:
        missing.append("sessions at least every six weeks")
    if missing:
        return _step(8, "sustained_rhythm", title, NOT_SHOWN, evidence, "; ".join(missing))
    return _step(8, "sustained_rhythm", title, SHOWN, evidence)


def _results(outputs: list[OutputFacts]) -> HealthStep:
    shared = sum(1 for o in outputs if o.visibility != Visibility.NETWORK)
    evidence = f"{_n(shared, 'output')} shared beyond the network, {len(outputs)} published in all"
    if shared:
        return _step(9, "communicate_results", "Name and communicate results", SHOWN, evidence)
    return _step(9, "communicate_results", "Name and communicate results", NOT_SHOWN, evidence,
                 "outputs shared with linked networks, the federation or the public")
