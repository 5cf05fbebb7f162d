"""Reflections after a session, and the network's learning report that counts them with sessions,
attendance, perspective mix and outputs, over a period, naming nobody."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.common.caller import Caller
from services.common.errors import IllegalTransition, NotFound, PermissionDenied, ValidationFailed
from services.sessions import handlers
from services.sessions.domain.reports import DEFAULT_PERIOD, Period
from services.sessions.schemas.commands import CancelSession, LearningReportQuery, ListReflections, RetractOutput
from services.sessions.schemas.views import LearningReportOut
from tests.support.callers import OPERATOR
from tests.unit.test_sessions_world import NETWORK, NOW, PAST, World


@pytest.fixture
def world() -> World:
    return World()


def report(world: World, **query: datetime) -> LearningReportOut:
    return handlers.get_learning_report(OPERATOR, NETWORK, LearningReportQuery(**query), world.uow, world.directory)


# --- reflections -----------------------------------------------------------------------------------------


def test_a_member_records_a_reflection_after_a_held_session_and_the_event_names_neither_member_nor_text(
    world: World,
) -> None:
    session, anna = world.held(), world.member()
    reflection = world.reflect(session.id, anna, kind="self_image", text="Ik zie mezelf nu als ervaringsdeskundige")
    assert (reflection.member_id, reflection.kind, reflection.session_id) == (anna, "self_image", session.id)
    [payload] = world.uow.payloads("reflection.recorded")
    assert set(payload) == {"reflection_id", "network_id", "session_id", "kind", "recorded_at"}


def test_reflections_are_recorded_only_after_a_held_or_closed_session(world: World) -> None:
    anna = world.member()
    with pytest.raises(IllegalTransition, match="cannot record a reflection on a planned session"):
        world.reflect(world.schedule().id, anna)
    closed = world.held()
    handlers.close_session(OPERATOR, closed.id, world.uow)
    assert world.reflect(closed.id, anna).kind == "behaviour"


def test_a_reflection_on_another_networks_session_is_refused_as_a_permission_like_a_registration(
    world: World,
) -> None:
    with pytest.raises(PermissionDenied, match="your own networks") as raised:
        world.reflect(world.held().id, world.member(network_id="elsewhere"))
    assert (raised.value.http_status, raised.value.grpc_status) == (403, "PERMISSION_DENIED")
    assert world.uow.payloads("reflection.recorded") == []


def own(world: World, caller: Caller, **query: object) -> list[str]:
    """The texts of the reflections ``caller`` reads, every page followed."""
    texts: list[str] = []
    token = None
    while True:
        page = handlers.list_reflections(caller, ListReflections.model_validate({**query, "page_token": token}),
                                         world.uow)
        texts += [r.text or "" for r in page.items]
        if not (token := page.next_page_token):
            return texts


def test_a_member_reads_their_own_reflections_newest_first_across_pages_and_no_one_elses(world: World) -> None:
    session, anna, bram = world.held(), world.member(), world.member("Bram")
    for text in ("eerste", "tweede", "derde"):
        world.reflect(session.id, anna, text=text)
    world.reflect(session.id, bram, text="van Bram")
    assert own(world, world.caller(anna), page_size=2) == ["derde", "tweede", "eerste"]
    assert own(world, world.caller(bram)) == ["van Bram"]


def test_reading_reflections_records_no_event_because_it_is_a_read() -> None:
    world = World()
    session, anna = world.held(), world.member()
    world.reflect(session.id, anna)
    before = list(world.uow.published)
    own(world, world.caller(anna))
    assert world.uow.published == before


def test_another_members_reflections_are_refused_even_to_their_networks_coordinator(world: World) -> None:
    anna = world.member()
    world.reflect(world.held().id, anna)
    coordinator = Caller.member("coco", administers=[NETWORK], member_of=[NETWORK])
    with pytest.raises(PermissionDenied, match="you read your own") as raised:
        handlers.list_reflections(coordinator, ListReflections(member_id=anna), world.uow)
    assert raised.value.http_status == 403


def test_the_operator_reads_a_named_members_reflections_and_must_name_one(world: World) -> None:
    anna = world.member()
    world.reflect(world.held().id, anna, text="mijn woorden")
    assert own(world, OPERATOR, member_id=anna) == ["mijn woorden"]
    with pytest.raises(ValidationFailed) as raised:
        handlers.list_reflections(OPERATOR, ListReflections(), world.uow)
    assert (raised.value.violations[0]["field"], raised.value.violations[0]["rule"]) == ("member_id", "required")


def test_an_operator_signed_in_as_a_person_reads_their_own_reflections_without_naming_themself(world: World) -> None:
    anna = world.member()
    world.reflect(world.held().id, anna, text="als mens")
    assert own(world, Caller(kind="operator", member_id=anna)) == ["als mens"]


def test_a_partner_reads_no_ones_reflections(world: World) -> None:
    with pytest.raises(PermissionDenied):
        handlers.list_reflections(Caller.partner("p1", [NETWORK]), ListReflections(), world.uow)


# --- the learning report ---------------------------------------------------------------------------------


def populated(world: World) -> dict[str, str]:
    """Two held sessions, one cancelled, one planned; attendance, outputs (one retracted) and reflections."""
    anna = world.member("Anna Visser", perspectives=("resident", "lived_experience"), named=True)
    bram = world.member("Bram Kok", perspectives=("practitioner",))
    cafe = world.held(format="world_cafe", statements=["Wat is zorg?"])
    circle = world.held(format="intervision", starts_at=(PAST + timedelta(days=1)).isoformat(),
                        ends_at=(PAST + timedelta(days=1, hours=2)).isoformat())
    handlers.cancel_session(OPERATOR, world.schedule().id, CancelSession(), world.uow)
    world.schedule()
    world.attend(cafe.id, anna, bram)
    world.attend(circle.id, anna)
    world.publish(cafe.id, [anna], kind="conclusion")
    world.publish(cafe.id, [bram], kind="lesson")
    retracted = world.publish(circle.id, [bram], kind="lesson")
    handlers.retract_output(OPERATOR, retracted.id, RetractOutput(), world.uow)
    world.reflect(cafe.id, anna, kind="perspective")
    world.reflect(circle.id, bram, kind="perspective")
    world.reflect(circle.id, bram, kind="task_conception")
    return {"anna": anna, "bram": bram, "cafe": cafe.id, "circle": circle.id}


def test_the_report_counts_sessions_held_by_format_and_attendance(world: World) -> None:
    ids = populated(world)
    counted = report(world)
    assert counted.sessions_held == 2
    assert {k: v for k, v in counted.sessions_by_format.items() if v} == {"world_cafe": 1, "intervision": 1}
    assert (counted.attendance_total, counted.attendance_average, counted.distinct_attendees) == (3, 1.5, 2)
    assert [m.session_id for m in counted.perspective_mix] == [ids["cafe"], ids["circle"]]


def test_the_report_shows_the_perspective_mix_per_session_and_overall(world: World) -> None:
    populated(world)
    counted = report(world)
    first, second = ({k: v for k, v in m.perspective_counts.items() if v} for m in counted.perspective_mix)
    assert first == {"resident": 1, "lived_experience": 1, "practitioner": 1}
    assert second == {"resident": 1, "lived_experience": 1}
    assert {k: v for k, v in counted.perspective_totals.items() if v} == {"resident": 2, "lived_experience": 2,
                                                                         "practitioner": 1}


def test_the_report_counts_outputs_not_retracted_and_reflections_by_kind(world: World) -> None:
    populated(world)
    counted = report(world)
    assert {k: v for k, v in counted.outputs_by_kind.items() if v} == {"conclusion": 1, "lesson": 1}
    assert {k: v for k, v in counted.reflections_by_kind.items() if v} == {"perspective": 2, "task_conception": 1}


def test_the_report_names_nobody_and_carries_no_member_id(world: World) -> None:
    ids = populated(world)
    text = report(world).model_dump_json()
    for secret in (ids["anna"], ids["bram"], "Anna", "Visser", "Bram", "Kok", "Ik vraag"):
        assert secret not in text


def test_the_period_is_half_open_and_excludes_what_lies_outside_it(world: World) -> None:
    populated(world)
    start = PAST + timedelta(days=1)  # the intervision session starts exactly here
    only_second = report(world, period_from=start, period_to=start + timedelta(hours=1))
    assert only_second.sessions_held == 1
    assert report(world, period_from=PAST - timedelta(days=30), period_to=PAST).sessions_held == 0


def test_the_default_period_is_the_last_twelve_months() -> None:
    period = Period.of(None, None, now=NOW)
    assert (period.end, period.end - period.start) == (NOW, DEFAULT_PERIOD)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    assert Period.of(start, None, now=NOW).end == start + DEFAULT_PERIOD


def test_a_period_that_ends_before_it_starts_is_refused(world: World) -> None:
    with pytest.raises(ValidationFailed) as raised:
        report(world, period_from=NOW, period_to=NOW - timedelta(days=1))
    assert raised.value.violations[0]["rule"] == "after_period_from"


def test_the_report_of_an_unknown_network_is_not_found(world: World) -> None:
    with pytest.raises(NotFound):
        handlers.get_learning_report(OPERATOR, "nowhere", LearningReportQuery(), world.uow, world.directory)


def test_an_empty_network_reports_zeros_not_errors(world: World) -> None:
    counted = report(world)
    assert (counted.sessions_held, counted.attendance_average, counted.perspective_mix) == (0, 0.0, [])


def test_outputs_and_reflections_count_in_the_period_of_their_session_not_when_they_were_recorded(
    world: World,
) -> None:
    long_ago = NOW - timedelta(days=430)
    old = world.held(starts_at=long_ago.isoformat(), ends_at=(long_ago + timedelta(hours=2)).isoformat())
    recent, anna = world.held(), world.member()
    for session in (old, recent):
        world.publish(session.id, [anna], kind="lesson")
        world.reflect(session.id, anna, kind="behaviour")

    last_year = report(world)
    earlier = report(world, period_from=long_ago - timedelta(days=1), period_to=long_ago + timedelta(days=1))

    assert sum(last_year.outputs_by_kind.values()) == 1 and sum(last_year.reflections_by_kind.values()) == 1
    assert sum(earlier.outputs_by_kind.values()) == 1 and sum(earlier.reflections_by_kind.values()) == 1
