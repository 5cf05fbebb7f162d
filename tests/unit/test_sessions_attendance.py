"""Recording who attended: only for a held session, registered people or network members, perspectives
copied at recording time, counts (not names) on the bus."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.common.errors import IllegalTransition, ValidationFailed
from services.common.vocabulary import Perspective
from services.sessions import handlers
from services.sessions.domain.participation import Attendee, perspective_counts
from services.sessions.domain.read_models import Person
from tests.support.callers import OPERATOR
from tests.unit.test_sessions_world import PAST, World


@pytest.fixture
def world() -> World:
    return World()


def test_attendance_is_recorded_only_for_a_held_session(world: World) -> None:
    planned, anna = world.schedule(), world.member()
    with pytest.raises(IllegalTransition, match="cannot record attendance for a planned session"):
        world.attend(planned.id, anna)


def test_recording_attendance_publishes_counts_and_perspective_mix_but_no_member_ids(world: World) -> None:
    session = world.held()
    anna = world.member("Anna", perspectives=("resident", "volunteer"))
    bram = world.member("Bram", perspectives=("practitioner",))
    recorded = world.attend(session.id, anna, bram)
    assert (recorded.attendee_count, recorded.revision) == (2, 1)
    payload = world.uow.payloads("attendance.recorded")[0]
    assert payload["attendee_count"] == 2
    assert {k: v for k, v in payload["perspective_counts"].items() if v} == {"resident": 1, "volunteer": 1,
                                                                               "practitioner": 1}
    assert anna not in str(payload) and bram not in str(payload)


def test_recording_again_replaces_the_list_and_raises_the_attendance_revision(world: World) -> None:
    session = world.held()
    anna, bram = world.member("Anna"), world.member("Bram")
    world.attend(session.id, anna, bram)
    again = world.attend(session.id, bram)
    assert (again.member_ids, again.attendee_count, again.revision) == ([bram], 1, 2)
    assert [p["revision"] for p in world.uow.payloads("attendance.recorded")] == [1, 2]
    assert handlers.get_session_view(OPERATOR, session.id, world.uow).attendee_count == 1


def test_a_registered_person_who_is_no_longer_a_member_still_counts_as_present(world: World) -> None:
    session = world.schedule(starts_at=PAST.isoformat(), ends_at=(PAST + timedelta(hours=2)).isoformat())
    anna = world.member()
    world.register(session.id, anna)
    handlers.hold_session(OPERATOR, session.id, world.uow)
    world.uow.read_models.memberships.clear()
    world.directory.members[anna].networks.clear()  # she left the network after the session
    assert world.attend(session.id, anna).attendee_count == 1


def test_someone_neither_registered_nor_a_member_cannot_be_recorded_as_present(world: World) -> None:
    session = world.held()
    anna, stranger = world.member("Anna"), world.member("Stranger", network_id="elsewhere")
    with pytest.raises(ValidationFailed) as raised:
        world.attend(session.id, anna, stranger)
    assert [(v["field"], v["rule"]) for v in raised.value.violations] == [("member_ids.1", "network_member")]
    assert handlers.get_attendance(OPERATOR, session.id, world.uow).attendee_count == 0


def test_perspectives_are_copied_when_recorded_so_a_later_profile_change_does_not_rewrite_history(
    world: World,
) -> None:
    session = world.held()
    anna = world.member("Anna", perspectives=("resident",))
    world.attend(session.id, anna)
    world.uow.read_models.persons[anna] = Person(anna, 9, "Anna", (Perspective.RESEARCH,), False)
    assert {k for k, v in handlers.get_attendance(OPERATOR, session.id, world.uow).perspective_counts.items() if v} == {
        Perspective.RESIDENT}


def test_duplicates_in_the_attendance_list_count_once(world: World) -> None:
    session, anna = world.held(), world.member()
    assert world.attend(session.id, anna, anna).attendee_count == 1


def test_a_person_with_two_perspectives_counts_for_both_and_every_perspective_is_reported() -> None:
    counts = perspective_counts([(Perspective.RESIDENT, Perspective.VOLUNTEER), (Perspective.RESIDENT,)])
    assert counts[Perspective.RESIDENT] == 2 and counts[Perspective.VOLUNTEER] == 1
    assert set(counts) == set(Perspective)


def test_an_attendee_is_a_value() -> None:
    assert Attendee("m", (Perspective.CLIENT,)) == Attendee("m", (Perspective.CLIENT,))
