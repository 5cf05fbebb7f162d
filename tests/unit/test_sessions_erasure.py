"""Following member.erased: the member's registrations, attendance, authorship, contributions and reflections
are re-pointed at one pseudonym (reflection texts deleted), so counts stay right and nobody is left; and the
privacy export of what this service holds about a member."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from services.common.catalogue import MemberErased
from services.common.errors import ValidationFailed
from services.sessions import handlers
from services.sessions.domain.outputs import FORMER_MEMBER
from services.sessions.domain.read_models import is_pseudonym
from services.sessions.schemas.commands import LearningReportQuery
from services.sessions.schemas.views import OutputOut
from tests.support.callers import OPERATOR, reader
from tests.support.consumers import consume
from tests.unit.test_sessions_world import NETWORK, PAST, World, envelope_of


@pytest.fixture
def world() -> World:
    return World()


def erase(world: World, member_id: str, event_id: uuid.UUID | None = None) -> None:
    payload = MemberErased(member_id=member_id, revision=10)
    consume(handlers.member_erased, envelope_of(payload, event_id), payload, world.uow, "sessions.on_member_erased")


def involve(world: World, member_id: str) -> dict[str, str]:
    """The member registers for, contributes to and attends a session, publishes and reflects on it."""
    session = world.schedule(starts_at=PAST.isoformat(), ends_at=(PAST + timedelta(hours=2)).isoformat(),
                             contributions=[{"member_id": member_id, "topic": "Mijn verhaal"}])
    world.register(session.id, member_id)
    handlers.hold_session(OPERATOR, session.id, world.uow)
    world.attend(session.id, member_id)
    output = world.publish(session.id, [member_id], visibility="public")
    world.reflect(session.id, member_id, text="Ik durf nu hulp te vragen")
    return {"session": session.id, "output": output.id}


def test_erasure_leaves_no_trace_of_the_member_id_in_any_row(world: World) -> None:
    fatima = world.member("Fatima", perspectives=("lived_experience",))
    involve(world, fatima)
    erase(world, fatima)
    stored = repr((world.uow.sessions.rows, world.uow.outputs.rows, world.uow.reflections.rows))
    assert fatima not in stored
    assert "Ik durf nu hulp te vragen" not in stored


def test_erasure_keeps_every_count(world: World) -> None:
    fatima, bram = world.member("Fatima"), world.member("Bram")
    ids = involve(world, fatima)
    before = handlers.get_learning_report(OPERATOR, NETWORK, LearningReportQuery(), world.uow, world.directory)
    erase(world, fatima)
    after = handlers.get_learning_report(OPERATOR, NETWORK, LearningReportQuery(), world.uow, world.directory)
    period = {"period_from", "period_to"}  # "the last twelve months" moved on a little between the calls
    assert after.model_dump(exclude=period) == before.model_dump(exclude=period)
    assert after.distinct_attendees == 1
    session = handlers.get_session_view(OPERATOR, ids["session"], world.uow)
    assert (session.registered_count, session.attendee_count, len(session.contributions)) == (1, 1, 1)
    assert world.uow.read_models.membership(NETWORK, bram).active  # other members are untouched


def test_one_pseudonym_stands_in_for_the_member_everywhere_and_differs_per_member(world: World) -> None:
    fatima, jan = world.member("Fatima"), world.member("Jan")
    first, second = involve(world, fatima), involve(world, jan)
    erase(world, fatima)
    erase(world, jan)
    session = world.uow.sessions.rows[first["session"]]
    pseudonym = next(iter(session.registrations))
    assert is_pseudonym(pseudonym)
    assert session.attendance[0].member_id == session.contributions[0].member_id == pseudonym
    assert world.uow.outputs.rows[first["output"]].author_ids == [pseudonym]
    assert world.uow.outputs.rows[second["output"]].author_ids != [pseudonym]


def test_an_erased_author_appears_as_a_former_member_inside_and_outside_the_network(world: World) -> None:
    fatima = world.member("Fatima", named=True)
    ids = involve(world, fatima)
    erase(world, fatima)
    for viewers in ([NETWORK], []):
        view = handlers.get_output(reader(*viewers), ids["output"], world.uow, world.feeds)
        assert isinstance(view, OutputOut)
        assert (view.authors[0].shown_as, view.authors[0].named) == (FORMER_MEMBER, False)


def test_erasure_is_idempotent_for_a_redelivered_event_and_for_a_second_erasure(world: World) -> None:
    fatima = world.member("Fatima")
    ids = involve(world, fatima)
    event_id = uuid.uuid4()
    erase(world, fatima, event_id)
    after_first = repr(world.uow.sessions.rows[ids["session"]])
    erase(world, fatima, event_id)
    erase(world, fatima)  # another erased event (another envelope) finds nothing left to re-point
    assert repr(world.uow.sessions.rows[ids["session"]]) == after_first


def test_an_erased_member_can_no_longer_register(world: World) -> None:
    fatima = world.member("Fatima")
    erase(world, fatima)
    del world.directory.members[fatima]  # the members service no longer knows them either
    with pytest.raises(ValidationFailed) as raised:
        world.register(world.schedule().id, fatima)
    assert raised.value.violations[0]["rule"] == "network_member"


def test_the_export_lists_registrations_attendance_contributions_authorship_and_reflections(world: World) -> None:
    fatima = world.member("Fatima")
    ids = involve(world, fatima)
    exported = handlers.export_member(OPERATOR, fatima, world.uow)
    [involvement] = exported.sessions
    assert (involvement.session_id, involvement.attended, involvement.contributed_topics) == (
        ids["session"], True, ["Mijn verhaal"])
    assert involvement.registration.status == "registered"
    assert [a.output_id for a in exported.authorship] == [ids["output"]]
    assert [r.text for r in exported.reflections] == ["Ik durf nu hulp te vragen"]


def test_after_erasure_the_export_holds_nothing_about_the_member(world: World) -> None:
    fatima = world.member("Fatima")
    involve(world, fatima)
    erase(world, fatima)
    exported = handlers.export_member(OPERATOR, fatima, world.uow)
    assert (exported.sessions, exported.authorship, exported.reflections) == ([], [], [])
