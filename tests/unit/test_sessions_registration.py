"""Registering for a session: capacity and a first-come-first-served waitlist, the preparation policy, and
membership checks that ask the members service when the read model has not caught up."""

from __future__ import annotations

import pytest

from services.common.caller import Caller
from services.common.errors import IllegalTransition, NotFound, PermissionDenied, Unavailable, ValidationFailed
from services.common.vocabulary import MembershipRole
from services.sessions import handlers
from services.sessions.domain.read_models import MembershipRecord
from services.sessions.schemas.commands import CancelSession, ListSessions, RegisterForSession
from tests.support.callers import OPERATOR
from tests.unit.test_sessions_world import NETWORK, World


@pytest.fixture
def world() -> World:
    return World()


def statuses(world: World, session_id: str) -> dict[str, tuple[str, int | None]]:
    listed = handlers.list_registrations(OPERATOR, session_id, world.uow).items
    return {r.member_id: (r.status, r.waitlist_position) for r in listed}


def test_registering_within_capacity_gives_a_seat(world: World) -> None:
    session = world.schedule(capacity=2)
    registration = world.register(session.id, world.member())
    assert (registration.status, registration.waitlist_position, registration.unprepared) == ("registered", None,
                                                                                              False)


def test_at_capacity_members_join_the_waitlist_in_order_of_arrival(world: World) -> None:
    session = world.schedule(capacity=1)
    anna, bram, cees = world.member("Anna"), world.member("Bram"), world.member("Cees")
    for member in (anna, bram, cees):
        world.register(session.id, member)
    assert statuses(world, session.id) == {anna: ("registered", None), bram: ("waitlisted", 1),
                                           cees: ("waitlisted", 2)}
    counts = handlers.get_session_view(OPERATOR, session.id, world.uow)
    assert (counts.registered_count, counts.waitlisted_count) == (1, 2)


def test_cancelling_a_seat_promotes_the_first_on_the_waitlist(world: World) -> None:
    session = world.schedule(capacity=1)
    anna, bram, cees = world.member("Anna"), world.member("Bram"), world.member("Cees")
    for member in (anna, bram, cees):
        world.register(session.id, member)
    cancelled = handlers.cancel_registration(OPERATOR, session.id, anna, world.uow)
    assert cancelled.status == "cancelled" and cancelled.cancelled_at is not None
    assert statuses(world, session.id) == {anna: ("cancelled", None), bram: ("registered", None),
                                           cees: ("waitlisted", 1)}


def test_cancelling_from_the_waitlist_frees_no_seat_and_promotes_nobody(world: World) -> None:
    session = world.schedule(capacity=1)
    anna, bram, cees = world.member("Anna"), world.member("Bram"), world.member("Cees")
    for member in (anna, bram, cees):
        world.register(session.id, member)
    handlers.cancel_registration(OPERATOR, session.id, bram, world.uow)
    assert statuses(world, session.id)[cees] == ("waitlisted", 1)
    assert statuses(world, session.id)[anna] == ("registered", None)


def test_registering_again_after_cancelling_joins_the_back_of_the_queue(world: World) -> None:
    session = world.schedule(capacity=1)
    anna, bram = world.member("Anna"), world.member("Bram")
    world.register(session.id, anna)
    world.register(session.id, bram)
    handlers.cancel_registration(OPERATOR, session.id, anna, world.uow)
    assert world.register(session.id, anna).status == "waitlisted"
    assert statuses(world, session.id)[bram] == ("registered", None)


def test_a_session_without_capacity_never_waitlists(world: World) -> None:
    session = world.schedule(capacity=None)
    assert {world.register(session.id, world.member(f"M{i}")).status for i in range(30)} == {"registered"}


def test_registering_twice_returns_the_existing_registration_unchanged(world: World) -> None:
    session = world.schedule()
    anna = world.member()
    first = world.register(session.id, anna)
    world.directory.members.clear()  # a second registration does not even ask again
    assert world.register(session.id, anna, prepared=True) == first
    assert len(handlers.list_registrations(OPERATOR, session.id, world.uow).items) == 1


def test_cancelling_twice_changes_nothing_and_cancelling_a_stranger_is_not_found(world: World) -> None:
    session = world.schedule()
    anna = world.member()
    world.register(session.id, anna)
    first = handlers.cancel_registration(OPERATOR, session.id, anna, world.uow)
    assert handlers.cancel_registration(OPERATOR, session.id, anna, world.uow) == first
    with pytest.raises(NotFound) as raised:
        handlers.cancel_registration(OPERATOR, session.id, world.member("Bram"), world.uow)
    assert raised.value.violations[0]["rule"] == "registered"


def test_a_member_reads_their_own_seat_or_place_on_the_waitlist_and_whether_they_marked_it_prepared(
    world: World,
) -> None:
    session = world.schedule(capacity=1)
    anna, bram, cees = world.member("Anna"), world.member("Bram"), world.member("Cees")
    for member in (anna, bram, cees):
        world.register(session.id, member, prepared=member == cees)
    seen = {m: handlers.get_registration(world.caller(m), session.id, m, world.uow) for m in (anna, bram, cees)}
    assert {m: (r.status, r.waitlist_position, r.prepared) for m, r in seen.items()} == {
        anna: ("registered", None, False), bram: ("waitlisted", 1, False), cees: ("waitlisted", 2, True)}
    handlers.cancel_registration(world.caller(anna), session.id, anna, world.uow)
    assert handlers.get_registration(world.caller(cees), session.id, cees, world.uow).waitlist_position == 1
    cancelled = handlers.get_registration(world.caller(anna), session.id, anna, world.uow)
    assert (cancelled.status, cancelled.cancelled_at is not None) == ("cancelled", True)


def test_reading_a_registration_never_made_is_not_found_naming_the_rule(world: World) -> None:
    session, anna = world.schedule(), world.member()
    with pytest.raises(NotFound) as raised:
        handlers.get_registration(world.caller(anna), session.id, anna, world.uow)
    assert [(v["field"], v["rule"]) for v in raised.value.violations] == [("member_id", "registered")]


def test_a_member_may_not_read_another_members_registration_but_the_networks_staff_may(world: World) -> None:
    session, anna, bram = world.schedule(), world.member("Anna"), world.member("Bram")
    world.register(session.id, bram)
    with pytest.raises(PermissionDenied):
        handlers.get_registration(world.caller(anna), session.id, bram, world.uow)
    facilitator = Caller.member("fien", facilitates=[NETWORK])
    assert handlers.get_registration(facilitator, session.id, bram, world.uow).status == "registered"


def test_a_registration_is_read_without_locking_the_session(world: World) -> None:
    session, anna = world.schedule(), world.member()
    world.register(session.id, anna)
    world.uow.sessions.locked.clear()
    handlers.get_registration(world.caller(anna), session.id, anna, world.uow)
    assert session.id not in world.uow.sessions.locked


def test_a_session_in_a_list_carries_the_callers_own_registration_and_nobody_elses(world: World) -> None:
    full, open_, untouched = world.schedule(capacity=1), world.schedule(), world.schedule()
    anna, bram = world.member("Anna"), world.member("Bram")
    world.register(full.id, bram)
    world.register(full.id, anna)
    world.register(open_.id, bram)
    handlers.register_for_session(world.caller(anna), open_.id, None, RegisterForSession(), world.uow,
                                  world.directory)
    handlers.cancel_registration(world.caller(anna), open_.id, anna, world.uow)
    page = handlers.list_sessions(world.caller(anna), ListSessions(network_id=NETWORK), world.uow)
    assert {s.id: s.my_registration for s in page.items} == {full.id: "waitlisted", open_.id: "cancelled",
                                                             untouched.id: None}
    # bram's seats show to bram only; the operator (no member of anything) has none
    assert handlers.get_session_view(world.caller(bram), full.id, world.uow).my_registration == "registered"
    assert handlers.get_session_view(OPERATOR, full.id, world.uow).my_registration is None


def test_registration_and_cancelling_are_only_for_planned_sessions(world: World) -> None:
    anna = world.member()
    held = world.held()
    with pytest.raises(IllegalTransition, match="cannot register for a held session"):
        world.register(held.id, anna)
    planned = world.schedule()
    world.register(planned.id, anna)
    handlers.cancel_session(OPERATOR, planned.id, CancelSession(), world.uow)
    with pytest.raises(IllegalTransition, match="cannot cancel a registration for a cancelled session"):
        handlers.cancel_registration(OPERATOR, planned.id, anna, world.uow)


def test_registering_locks_the_session_row_so_two_registrations_cannot_both_take_the_last_seat(world: World) -> None:
    session = world.schedule(capacity=1)
    world.register(session.id, world.member())
    assert session.id in world.uow.sessions.locked


# --- preparation (action learning) -----------------------------------------------------------------------


def test_a_network_that_refuses_unprepared_participants_refuses_a_registration_not_marked_prepared(
    world: World,
) -> None:
    world.network(requires_preparation=True, unprepared_policy="refuse")
    session, anna = world.schedule(format="action_learning_session"), world.member()
    for prepared in (None, False):
        with pytest.raises(ValidationFailed) as raised:
            world.register(session.id, anna, prepared=prepared)
        assert [(v["field"], v["rule"]) for v in raised.value.violations] == [("prepared", "preparation_required")]
    assert world.register(session.id, anna, prepared=True).unprepared is False


def test_a_network_that_flags_unprepared_participants_accepts_and_flags_them(world: World) -> None:
    world.network(requires_preparation=True, unprepared_policy="flag")
    session = world.schedule(format="action_learning_session")
    assert world.register(session.id, world.member("Anna"), prepared=False).unprepared is True
    assert world.register(session.id, world.member("Bram"), prepared=True).unprepared is False


def test_without_a_preparation_requirement_nobody_is_flagged(world: World) -> None:
    session = world.schedule()
    assert world.register(session.id, world.member(), prepared=None).unprepared is False


# --- membership ------------------------------------------------------------------------------------------


def test_only_members_of_the_network_can_register(world: World) -> None:
    session = world.schedule()
    outsider = world.member(network_id="another-network")
    with pytest.raises(ValidationFailed) as raised:
        world.register(session.id, outsider)
    assert [(v["field"], v["rule"]) for v in raised.value.violations] == [("member_id", "network_member")]


def test_a_member_the_read_model_knows_is_not_asked_about(world: World) -> None:
    session = world.schedule()
    world.register(session.id, world.member())
    assert world.directory.asked == []


def test_a_member_who_joined_a_moment_ago_is_asked_of_the_members_service_and_remembered(world: World) -> None:
    session = world.schedule()
    anna = world.member(in_read_model=False)
    assert world.register(session.id, anna).status == "registered"
    assert world.directory.asked == [f"member:{anna}"]
    assert world.uow.read_models.membership(NETWORK, anna).active
    assert world.uow.read_models.person(anna).name == "Anna de Vries"


def test_a_member_who_left_and_rejoined_since_the_last_event_is_accepted_after_asking(world: World) -> None:
    session = world.schedule()
    anna = world.member(in_read_model=False)
    world.uow.read_models.memberships[(NETWORK, anna)] = MembershipRecord(NETWORK, anna, MembershipRole.PARTICIPANT, 1,
                                                                    active=False)
    assert world.register(session.id, anna).status == "registered"
    assert world.uow.read_models.membership(NETWORK, anna).revision == 2


def test_when_the_members_service_does_not_answer_the_registration_fails_and_changes_nothing(world: World) -> None:
    session = world.schedule()
    anna = world.member(in_read_model=False)
    world.directory.unavailable = True
    with pytest.raises(Unavailable):
        world.register(session.id, anna)
    assert handlers.list_registrations(OPERATOR, session.id, world.uow).items == []
