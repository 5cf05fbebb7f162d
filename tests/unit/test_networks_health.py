"""The network health report: for each of the nine steps of a community of practice (seed 004), whether the
data shows it, the evidence a coordinator reads, and what is missing."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.common.vocabulary import (
    Mandate,
    MembershipRole,
    NetworkKind,
    NetworkLevel,
    OutputKind,
    Perspective,
    UnpreparedPolicy,
    Visibility,
)
from services.networks.domain import Network
from services.networks.domain.health import (
    NOT_MEASURABLE,
    NOT_SHOWN,
    SHOWN,
    LoopFacts,
    MemberFacts,
    OutputFacts,
    SessionFacts,
    health_steps,
)
from services.networks.schemas import HealthStep

T0 = datetime(2025, 1, 14, 19, 30, tzinfo=UTC)
P = Perspective
PARTICIPANT = MembershipRole.PARTICIPANT
FACILITATOR = MembershipRole.FACILITATOR
COORDINATOR = MembershipRole.COORDINATOR

KEYS = ["frame_theme", "connect_urgency", "diverse_perspectives", "mandate_to_experiment", "two_facilitators",
        "group_responsibility", "act_and_reflect", "sustained_rhythm", "communicate_results"]


def network(**overrides: Any) -> Network:
    return Network.create("utrecht-eenzaamheid", now=T0, parent=None, **{
        "name": "Eenzaamheid Utrecht", "level": NetworkLevel.LOCAL, "kind": NetworkKind.COMMUNITY_OF_PRACTICE,
        "theme": "Eenzaamheid onder ouderen", "urgency": "Een op de drie 75-plussers voelt zich eenzaam",
        "host_organisation": None, "parent_id": None, "region": "Utrecht", "cadence_weeks": 6, "start_date": None,
        "requires_preparation": False, "unprepared_policy": UnpreparedPolicy.REFUSE,
    } | overrides)


def member(member_id: str, *perspectives: Perspective, role: MembershipRole = PARTICIPANT) -> MemberFacts:
    return MemberFacts(member_id, role, tuple(perspectives))


def members_with(counts: dict[Perspective, int]) -> list[MemberFacts]:
    """One member per count, each with that single perspective."""
    return [member(f"{p}-{i}", p) for p, n in counts.items() for i in range(n)]


def sessions_with_gaps(gaps_in_days: Iterable[int], start: datetime = T0,
                       contributors: tuple[str, ...] = ()) -> list[SessionFacts]:
    starts = [start]
    for gap in gaps_in_days:
        starts.append(starts[-1] + timedelta(days=gap))
    return [SessionFacts(s, contributors) for s in starts]


def outputs(**visibilities: int) -> list[OutputFacts]:
    return [OutputFacts(OutputKind.LESSON, Visibility(v)) for v, n in visibilities.items() for _ in range(n)]


def report(net: Network | None = None, members: Sequence[MemberFacts] = (), held: Sequence[SessionFacts] = (),
           published: Sequence[OutputFacts] = (), reflections: int = 0) -> dict[str, HealthStep]:
    steps = health_steps(net or network(), list(members), list(held), list(published), reflections, language="en")
    return {step.key: step for step in steps}


def step(key: str, **facts: Any) -> HealthStep:
    return report(**facts)[key]


# --- the report as a whole ---------------------------------------------------------------------------------


@pytest.mark.parametrize("data", ["empty", "rich"])
def test_the_report_always_has_the_nine_steps_in_order(data: str) -> None:
    facts: dict[str, Any] = {} if data == "empty" else {
        "members": members_with({P.PRACTITIONER: 3, P.RESIDENT: 2}), "held": sessions_with_gaps([42] * 14),
        "published": outputs(network=2, public=1), "reflections": 5,
    }
    steps = health_steps(network(), facts.get("members", []), facts.get("held", []), facts.get("published", []),
                         facts.get("reflections", 0))
    assert [(s.step, s.key) for s in steps] == list(enumerate(KEYS, start=1))
    assert all(s.status in (SHOWN, NOT_SHOWN, NOT_MEASURABLE) and s.evidence and s.title for s in steps)


def test_a_step_that_is_not_shown_says_what_is_missing_and_a_shown_step_does_not() -> None:
    steps = report().values()
    assert all(s.missing for s in steps if s.status == NOT_SHOWN)
    assert all(s.missing is None for s in steps if s.status != NOT_SHOWN)


# --- 1 and 2: theme and urgency -----------------------------------------------------------------------------


def test_step_1_the_theme_is_shown_with_the_theme_itself_as_evidence() -> None:
    shown = step("frame_theme", net=network(theme="Armoede en schulden in de wijk"))
    assert (shown.step, shown.status, shown.evidence) == (1, SHOWN, 'theme: "Armoede en schulden in de wijk"')


def test_step_2_a_recorded_urgency_is_shown_and_quoted() -> None:
    shown = step("connect_urgency", net=network(urgency="Wachtlijsten in de jeugdzorg"))
    assert (shown.status, shown.evidence) == (SHOWN, 'urgency: "Wachtlijsten in de jeugdzorg"')


@pytest.mark.parametrize("urgency", [None, ""])
def test_step_2_without_an_urgency_is_not_shown(urgency: str | None) -> None:
    missing = step("connect_urgency", net=network(urgency=urgency))
    assert (missing.status, missing.evidence) == (NOT_SHOWN, "no urgency recorded")
    assert missing.missing == "record why the theme is urgent for the participants"


# --- 3: diverse perspectives --------------------------------------------------------------------------------


def test_step_3_five_perspectives_among_23_members_are_shown_most_common_first() -> None:
    members = members_with({P.PRACTITIONER: 9, P.RESIDENT: 6, P.LIVED_EXPERIENCE: 4, P.VOLUNTEER: 3,
                            P.MUNICIPALITY_POLICY: 1})
    shown = step("diverse_perspectives", members=members)
    assert shown.status == SHOWN
    assert shown.evidence == ("5 perspectives among 23 members (practitioner 9, resident 6, lived experience 4, "
                              "volunteer 3, municipality policy 1)")


def test_step_3_three_perspectives_are_enough() -> None:
    members = members_with({P.PRACTITIONER: 1, P.RESIDENT: 1, P.RESEARCH: 1})
    assert step("diverse_perspectives", members=members).status == SHOWN


def test_step_3_a_member_with_several_perspectives_counts_towards_each() -> None:
    members = [member("m-1", P.RESIDENT, P.LIVED_EXPERIENCE, P.VOLUNTEER)]
    shown = step("diverse_perspectives", members=members)
    assert shown.status == SHOWN
    assert shown.evidence == "3 perspectives among 1 member (resident 1, lived experience 1, volunteer 1)"


def test_step_3_two_perspectives_are_not_shown_and_the_absent_ones_are_suggested() -> None:
    members = members_with({P.PRACTITIONER: 7, P.LIVED_EXPERIENCE: 2})
    missing = step("diverse_perspectives", members=members)
    assert missing.status == NOT_SHOWN
    assert missing.evidence == "2 perspectives among 9 members (practitioner 7, lived experience 2)"
    assert missing.missing == "at least 3 perspectives; consider municipality policy, client, resident"


def test_step_3_with_no_members_is_not_shown() -> None:
    missing = step("diverse_perspectives")
    assert (missing.status, missing.evidence) == (NOT_SHOWN, "0 perspectives among 0 members")


# --- 4: mandate ------------------------------------------------------------------------------------------------


def loops(*specs: tuple[str | None, bool], days_ago: int = 30, role: MembershipRole = PARTICIPANT) -> list[LoopFacts]:
    """One loop per (mandate, followed up): an experiment ``days_ago`` before NOW."""
    at = NOW - timedelta(days=days_ago)
    return [LoopFacts(role, False, at - timedelta(days=7), "s-1", at, Mandate(m) if m else None,
                      at + timedelta(days=42) if followed else None) for m, followed in specs]


NOW = T0 + timedelta(days=600)
GROUP_EVIDENCE = "participants brought a topic, contribution or learning question to {} of {} sessions held"


def mandate_step(found: list[LoopFacts]) -> HealthStep:
    [step4] = [s for s in health_steps(network(), [], [], [], 0, found, NOW, "en") if s.step == 4]
    return step4


def test_step_4_is_measurable_shown_when_most_experiments_had_a_mandate_and_one_was_followed_up() -> None:
    shown = mandate_step(loops(("yes", True), ("yes", False), ("asked", False)))
    assert (shown.status, shown.missing, shown.little_data) == (SHOWN, None, False)
    assert shown.evidence == ("in the last 12 months: 3 experiments in practice, 2 with a mandate (1 asked for), "
                              "1 of those followed up at a later session")


def test_step_4_without_experiments_is_not_shown_and_says_it_is_judged_from_little_data() -> None:
    empty = mandate_step([])
    assert (empty.status, empty.little_data) == (NOT_SHOWN, True)
    assert "experiment in practice" in (empty.missing or "")
    assert empty.little_data_note == "only 0 experiments recorded in the period"


def test_step_4_mandates_for_fewer_than_half_of_the_experiments_are_not_enough() -> None:
    few = mandate_step(loops(("yes", True), ("no", False), ("asked", False), ("no", False)))
    assert (few.status, few.missing) == (NOT_SHOWN, "mandates for at least half of the experiments")


def test_step_4_a_mandate_without_any_follow_up_is_not_enough() -> None:
    unreported = mandate_step(loops(("yes", False), ("yes", False), ("yes", False)))
    assert (unreported.status, unreported.little_data) == (NOT_SHOWN, False)
    assert unreported.missing == "a follow-up at a later session of an experiment with a mandate"


def test_step_4_counts_only_experiments_of_the_last_twelve_months() -> None:
    old = mandate_step(loops(("yes", True), days_ago=400) + loops(("no", False)))
    assert old.status == NOT_SHOWN and old.evidence.startswith("in the last 12 months: 1 experiment in practice, 0")


# --- 5: two facilitators -------------------------------------------------------------------------------------


def test_step_5_two_facilitators_from_different_perspectives_are_shown_alphabetically() -> None:
    members = [member("f-1", P.PRACTITIONER, role=FACILITATOR), member("f-2", P.LIVED_EXPERIENCE, role=FACILITATOR),
               member("m-1", P.RESIDENT)]
    shown = step("two_facilitators", members=members)
    assert (shown.status, shown.evidence) == (SHOWN, "2 facilitators: lived experience and practitioner")


def test_step_5_two_facilitators_from_the_same_perspective_are_not_shown() -> None:
    members = [member("f-1", P.PRACTITIONER, role=FACILITATOR), member("f-2", P.PRACTITIONER, role=FACILITATOR)]
    missing = step("two_facilitators", members=members)
    assert (missing.status, missing.evidence) == (NOT_SHOWN, "2 facilitators: practitioner and practitioner")
    assert missing.missing == "facilitators from different perspectives"


def test_step_5_a_facilitator_is_judged_by_the_first_perspective_they_list() -> None:
    members = [member("f-1", P.PRACTITIONER, P.LIVED_EXPERIENCE, role=FACILITATOR),
               member("f-2", P.PRACTITIONER, role=FACILITATOR)]
    assert step("two_facilitators", members=members).status == NOT_SHOWN


def test_step_5_one_facilitator_is_not_shown() -> None:
    missing = step("two_facilitators", members=[member("f-1", P.RESEARCH, role=FACILITATOR)])
    assert (missing.status, missing.missing) == (NOT_SHOWN, "two facilitators")
    assert missing.evidence.endswith(": research")


def test_step_5_coordinators_and_participants_are_not_facilitators() -> None:
    members = [member("c-1", P.MUNICIPALITY_POLICY, role=COORDINATOR), member("m-1", P.RESIDENT)]
    missing = step("two_facilitators", members=members)
    assert (missing.status, missing.evidence, missing.missing) == (NOT_SHOWN, "0 facilitators", "two facilitators")


def test_step_5_a_facilitator_without_perspectives_shows_as_unknown() -> None:
    members = [member("f-1", role=FACILITATOR), member("f-2", P.VOLUNTEER, role=FACILITATOR)]
    shown = step("two_facilitators", members=members)
    assert shown.evidence == "2 facilitators: unknown perspective and volunteer"


# --- 6: responsibility with the group --------------------------------------------------------------------------

GROUP = [member("f-1", P.PRACTITIONER, role=FACILITATOR), member("m-1", P.RESIDENT), member("m-2", P.VOLUNTEER),
         member("c-1", P.MUNICIPALITY_POLICY, role=COORDINATOR)]


def held_with(*contributors: tuple[str, ...]) -> list[SessionFacts]:
    return [SessionFacts(T0 + timedelta(weeks=6 * i), c) for i, c in enumerate(contributors)]


def test_step_6_without_sessions_is_not_shown() -> None:
    missing = step("group_responsibility", members=GROUP)
    assert (missing.status, missing.evidence, missing.missing) == (NOT_SHOWN, "no sessions held yet", "hold sessions")


def test_step_6_a_participant_contributing_to_a_third_of_the_sessions_is_shown() -> None:
    shown = step("group_responsibility", members=GROUP, held=held_with(("f-1", "m-1"), ("f-1",), ("f-1",)))
    assert (shown.status, shown.evidence) == (SHOWN, GROUP_EVIDENCE.format(1, 3))


def test_step_6_a_participant_contributing_to_less_than_a_third_is_not_shown() -> None:
    missing = step("group_responsibility", members=GROUP,
                   held=held_with(("m-2",), ("f-1",), ("f-1",), ("f-1",)))
    assert (missing.status, missing.evidence) == (NOT_SHOWN, GROUP_EVIDENCE.format(1, 4))
    assert missing.missing == ("participants, not only facilitators, bringing something to at least a third of the "
                               "sessions")


@pytest.mark.parametrize("sessions", [3, 6, 9, 12, 30, 99])
def test_step_6_exactly_a_third_is_enough_for_any_number_of_sessions(sessions: int) -> None:
    contributors = [("m-1",)] * (sessions // 3) + [("f-1",)] * (sessions - sessions // 3)
    assert step("group_responsibility", members=GROUP, held=held_with(*contributors)).status == SHOWN


def test_step_6_facilitators_coordinators_and_outsiders_presenting_do_not_count() -> None:
    missing = step("group_responsibility", members=GROUP,
                   held=held_with(("f-1",), ("c-1",), ("guest-speaker",), ()))
    assert (missing.status, missing.evidence) == (NOT_SHOWN, GROUP_EVIDENCE.format(0, 4))


# --- 7: act and reflect --------------------------------------------------------------------------------------


def test_step_7_recorded_reflections_are_shown_with_the_learning_questions() -> None:
    published = [OutputFacts(OutputKind.LEARNING_QUESTION, Visibility.NETWORK)] * 2 + outputs(public=3)
    shown = step("act_and_reflect", published=published, reflections=4)
    assert (shown.status, shown.evidence) == (SHOWN, "4 reflections and 2 learning questions recorded")


def test_step_7_learning_questions_without_reflections_are_not_shown() -> None:
    published = [OutputFacts(OutputKind.LEARNING_QUESTION, Visibility.NETWORK)] * 3
    missing = step("act_and_reflect", published=published, reflections=0)
    assert (missing.status, missing.evidence) == (NOT_SHOWN, "0 reflections and 3 learning questions recorded")
    assert missing.missing == "members recording reflections after sessions"


# --- 8: at least 18 months of sessions every six weeks ----------------------------------------------------------


def test_step_8_eleven_sessions_over_fourteen_months_are_not_yet_enough() -> None:
    missing = step("sustained_rhythm", held=sessions_with_gaps([43] * 10))  # 430 days
    assert missing.status == NOT_SHOWN
    assert missing.evidence == "11 sessions in 14 months, median gap 6.1 weeks"
    assert missing.missing == "4 more months of sessions"


def test_step_8_eighteen_months_of_sessions_every_six_weeks_are_shown() -> None:
    shown = step("sustained_rhythm", held=sessions_with_gaps([42] * 14))  # 588 days
    assert (shown.status, shown.evidence) == (SHOWN, "15 sessions in 19 months, median gap 6.0 weeks")


def test_step_8_a_median_gap_of_six_and_a_half_weeks_is_still_every_six_weeks() -> None:
    # 14 gaps, the middle two 45 and 46 days: the median is 45.5 days, exactly 6.5 weeks
    shown = step("sustained_rhythm", held=sessions_with_gaps([45, 46] * 6 + [45, 60]))
    assert (shown.status, shown.evidence) == (SHOWN, "15 sessions in 21 months, median gap 6.5 weeks")


def test_step_8_a_median_gap_just_over_six_and_a_half_weeks_is_not() -> None:
    missing = step("sustained_rhythm", held=sessions_with_gaps([46] * 14))  # 6.57 weeks
    assert (missing.status, missing.evidence) == (NOT_SHOWN, "15 sessions in 21 months, median gap 6.6 weeks")
    assert missing.missing == "sessions at least every six weeks"


def test_step_8_the_median_ignores_a_single_long_summer_break() -> None:
    shown = step("sustained_rhythm", held=sessions_with_gaps([42] * 6 + [98] + [42] * 7))
    assert shown.status == SHOWN
    assert shown.evidence.endswith("median gap 6.0 weeks")


def test_step_8_too_short_and_too_sparse_names_both_gaps() -> None:
    missing = step("sustained_rhythm", held=sessions_with_gaps([70] * 4))  # 280 days, 10 weeks apart
    assert missing.evidence == "5 sessions in 9 months, median gap 10.0 weeks"
    assert missing.missing == "9 more months of sessions; sessions at least every six weeks"


def test_step_8_the_order_in_which_sessions_arrive_does_not_matter() -> None:
    held = sessions_with_gaps([42] * 14)
    assert step("sustained_rhythm", held=held[::-1]) == step("sustained_rhythm", held=held)


@pytest.mark.parametrize("count", [0, 1])
def test_step_8_fewer_than_two_sessions_show_no_rhythm(count: int) -> None:
    missing = step("sustained_rhythm", held=sessions_with_gaps([42] * (count - 1)) if count else [])
    assert missing.status == NOT_SHOWN
    assert missing.evidence.startswith(f"{count} session")
    assert missing.missing == "sessions every six weeks for 18 months"


def test_step_8_a_span_just_short_of_18_months_is_not_reported_as_18_months() -> None:
    # 13 gaps of 41 days = 533 days = 17.5 months: short of the rule, so the report must not read
    # "in 18 months" on the evidence line and "0 more months" on the missing line.
    missing = step("sustained_rhythm", held=sessions_with_gaps([41] * 13))
    assert missing.status == NOT_SHOWN
    assert "in 18 months" not in missing.evidence
    assert not (missing.missing or "").startswith("0 more months")


# --- 9: name and communicate results ------------------------------------------------------------------------


def test_step_9_outputs_shared_beyond_the_network_are_shown() -> None:
    shown = step("communicate_results", published=outputs(network=3, linked=4, federation=2, public=3))
    assert (shown.status, shown.evidence) == (SHOWN, "9 outputs shared beyond the network, 12 published in all")


@pytest.mark.parametrize("visibility", [Visibility.LINKED, Visibility.FEDERATION, Visibility.PUBLIC])
def test_step_9_any_visibility_beyond_the_network_counts(visibility: Visibility) -> None:
    assert step("communicate_results", published=outputs(**{visibility.value: 1})).status == SHOWN


def test_step_9_outputs_kept_within_the_network_are_not_shown() -> None:
    missing = step("communicate_results", published=outputs(network=5))
    assert (missing.status, missing.evidence) == (NOT_SHOWN, "0 outputs shared beyond the network, 5 published in all")
    assert missing.missing == "outputs shared with linked networks, the federation or the public"


# --- steps 2 and 6 count what the participants bring; little data is said -----------------------------------------


def question(role: MembershipRole = PARTICIPANT, urgent: bool = True, brought_to: str | None = None) -> LoopFacts:
    return LoopFacts(role, urgent, NOW - timedelta(days=20), brought_to)


def all_steps(language: str = "en", **facts: Any) -> dict[str, HealthStep]:
    steps = health_steps(facts.pop("net", network()), facts.get("members", []), facts.get("held", []),
                         facts.get("published", []), facts.get("reflections", 0), facts.get("loops", []), NOW,
                         language)  # type: ignore[arg-type]
    return {s.key: s for s in steps}


def test_step_2_is_shown_from_the_urgency_participants_state_in_their_learning_questions() -> None:
    urgency = all_steps(net=network(urgency=None), loops=[question(), question(), question(urgent=False),
                                                          question(role=COORDINATOR)])["connect_urgency"]
    assert (urgency.status, urgency.little_data) == (SHOWN, False)
    assert urgency.evidence == "participants say why it is urgent to them in 2 of 3 learning questions"


def test_step_2_participants_questions_without_urgency_are_not_shown_whatever_the_coordinators_wrote() -> None:
    urgency = all_steps(loops=[question(urgent=False)])["connect_urgency"]
    assert (urgency.status, urgency.missing) == (NOT_SHOWN, "participants saying in their learning questions why "
                                                            "the theme is urgent to them")
    assert (urgency.little_data, urgency.little_data_note) == (True, "judged from 1 learning question of participants")


def test_step_2_from_the_coordinators_urgency_alone_is_shown_but_flagged_as_little_data() -> None:
    urgency = all_steps(loops=[question(role=FACILITATOR)])["connect_urgency"]
    assert (urgency.status, urgency.little_data) == (SHOWN, True)
    assert "no participant has brought a learning question" in (urgency.little_data_note or "")


def test_step_6_a_participants_learning_question_brought_to_a_session_counts_a_staff_members_does_not() -> None:
    held = [SessionFacts(T0 + timedelta(weeks=6 * i), (), f"s-{i}") for i in range(4)]
    members = [member("p-1", P.RESIDENT), member("f-1", P.PRACTITIONER, role=FACILITATOR)]
    by_staff = all_steps(members=members, held=held, loops=[question(FACILITATOR, brought_to="s-0"),
                                                            question(COORDINATOR, brought_to="s-1")])
    assert by_staff["group_responsibility"].status == NOT_SHOWN
    by_participants = all_steps(members=members, held=held, loops=[question(brought_to="s-0"),
                                                                   question(brought_to="s-2")])
    shown = by_participants["group_responsibility"]
    assert (shown.status, shown.evidence, shown.little_data) == (SHOWN, GROUP_EVIDENCE.format(2, 4), False)


def test_steps_judged_from_few_sessions_say_so_and_steps_with_enough_data_do_not() -> None:
    few = all_steps(held=sessions_with_gaps([42]))
    assert few["group_responsibility"].little_data_note == "judged from 2 sessions held"
    assert few["sustained_rhythm"].little_data and not few["frame_theme"].little_data
    many = all_steps(held=sessions_with_gaps([42] * 5))
    assert not many["sustained_rhythm"].little_data and not many["group_responsibility"].little_data


# --- Dutch and English ----------------------------------------------------------------------------------------------


def test_the_report_is_dutch_by_default_with_every_title_evidence_and_missing_text_in_dutch() -> None:
    dutch = health_steps(network(), [], [], [], 0)
    english = health_steps(network(), [], [], [], 0, language="en")
    assert dutch[3].title == "Zorg voor doorwerking in de praktijk: mandaat om te experimenteren"
    assert dutch[5].title == "Leg verantwoordelijkheid bij de groep"
    for nl, en in zip(dutch, english, strict=True):
        assert (nl.key, nl.status) == (en.key, en.status)
        assert (nl.title != en.title and nl.evidence != en.evidence) or nl.step == 1
        assert ((nl.missing is None) == (en.missing is None) and nl.missing != en.missing) or nl.missing is None


@pytest.mark.parametrize(("language", "gaps", "expected"), [
    ("en", [42], "2 sessions in 1 month, median gap 6.0 weeks"),
    ("nl", [42], "2 sessies in 1 maand, mediane tussenpoos 6,0 weken"),
    ("en", [42, 42], "3 sessions in 2 months, median gap 6.0 weeks"),
    ("nl", [42, 42], "3 sessies in 2 maanden, mediane tussenpoos 6,0 weken"),
    ("nl", [10], "2 sessies in 0 maanden, mediane tussenpoos 1,4 weken"),
])
def test_step_8_reads_naturally_in_both_languages_with_plurals_and_decimals(language: str, gaps: list[int],
                                                                           expected: str) -> None:
    assert all_steps(language, held=sessions_with_gaps(gaps))["sustained_rhythm"].evidence == expected


def test_step_8_says_what_is_missing_in_dutch_with_the_right_plural() -> None:
    rhythm = all_steps("nl", held=sessions_with_gaps([42]))["sustained_rhythm"]
    assert rhythm.missing == "nog 17 maanden sessies"
    one_more = all_steps("nl", held=sessions_with_gaps([42] * 12 + [31]))["sustained_rhythm"]
    assert one_more.missing == "nog 1 maand sessies"


def test_step_2_with_neither_an_urgency_nor_participants_questions_is_not_shown_from_no_data() -> None:
    urgency = all_steps(net=network(urgency=None))["connect_urgency"]
    assert (urgency.status, urgency.evidence, urgency.little_data_note) == (
        NOT_SHOWN, "no urgency recorded", "judged from 0 learning questions of participants")
