"""The action-learning loop: a member's learning question brought to a session, the experiment in practice that
came out of it with the member's mandate, the follow-up at a later session, and the close naming its output.
Who sees and moves a loop, what its events carry, and how the learning report counts loops."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from services.common.caller import Caller
from services.common.catalogue import MemberErased
from services.common.errors import IllegalTransition, NotFound, PermissionDenied, ValidationFailed
from services.common.vocabulary import LoopStatus, Mandate
from services.sessions import handlers
from services.sessions.schemas.commands import (
    BringQuestion,
    CancelSession,
    ChangeMandate,
    CloseLoop,
    FollowUpExperiment,
    LearningReportQuery,
    ListLearningQuestions,
    OpenLearningQuestion,
    RetractOutput,
    StartExperiment,
)
from services.sessions.schemas.views import LearningLoopOut, SessionOut
from tests.support.callers import OPERATOR, member
from tests.support.consumers import consume
from tests.unit.test_sessions_world import NETWORK, PAST, World, envelope_of

STAFF = member("coordinator-1", administers={NETWORK})
FACILITATOR = member("facilitator-1", facilitates={NETWORK})
OUTSIDER = member("outsider-1", member_of={"elsewhere"}, administers={"elsewhere"})


@pytest.fixture
def world() -> World:
    return World()


def held_at(world: World, days_ago: int) -> SessionOut:
    starts = PAST - timedelta(days=days_ago)
    return world.held(starts_at=starts.isoformat(), ends_at=(starts + timedelta(hours=2)).isoformat())


def open_question(world: World, owner: str, **overrides: Any) -> LearningLoopOut:
    request = {"network_id": NETWORK, "question": "Hoe betrek ik bewoners die nooit komen?",
               "urgency": "In mijn wijk haken juist de eenzame bewoners af"} | overrides
    return handlers.open_question(world.caller(owner), OpenLearningQuestion.model_validate(request), world.uow,
                                  world.directory)


def experiment(world: World, caller: Caller, loop_id: str, session_id: str,
               mandate: str = "yes") -> LearningLoopOut:
    cmd = StartExperiment(session_id=session_id, experiment="Drie bewoners thuis opzoeken", mandate=Mandate(mandate))
    return handlers.start_experiment(caller, loop_id, cmd, world.uow)


def follow_up(world: World, caller: Caller, loop_id: str, session_id: str) -> LearningLoopOut:
    cmd = FollowUpExperiment(session_id=session_id, what_happened="Twee kwamen naar het kenniscafé")
    return handlers.follow_up_experiment(caller, loop_id, cmd, world.uow)


def full_loop(world: World, owner: str) -> tuple[LearningLoopOut, dict[str, str]]:
    """A question brought to a session 30 days ago, an experiment from it, followed up at the one a week ago."""
    first, later = held_at(world, 30), world.held()
    loop = open_question(world, owner)
    handlers.bring_question(world.caller(owner), loop.id, BringQuestion(session_id=first.id), world.uow)
    experiment(world, world.caller(owner), loop.id, first.id)
    return follow_up(world, world.caller(owner), loop.id, later.id), {"first": first.id, "later": later.id}


# --- opening a question: the member's own ------------------------------------------------------------------------


def test_a_member_opens_a_learning_question_of_their_own_and_the_event_carries_neither_words_nor_owner(
    world: World,
) -> None:
    anna = world.member()
    loop = open_question(world, anna)
    assert (loop.owner_id, loop.status, loop.owner_role, loop.revision) == (anna, "open", "participant", 1)
    [payload] = world.uow.payloads("learning_question.opened")
    assert payload["urgency_stated"] is True and payload["owner_role"] == "participant"
    assert anna not in str(payload) and "bewoners" not in str(payload)
    assert "owner_id" not in payload and "question" not in payload


def test_a_question_is_opened_only_by_a_member_of_the_network_never_by_the_operator_or_from_outside(
    world: World,
) -> None:
    cmd = OpenLearningQuestion(network_id=NETWORK, question="Waarom?")
    with pytest.raises(PermissionDenied):
        handlers.open_question(OPERATOR, cmd, world.uow, world.directory)
    outsider = world.member(network_id="elsewhere")
    with pytest.raises(PermissionDenied, match="your own networks"):
        handlers.open_question(world.caller(outsider), cmd, world.uow, world.directory)
    # a token that claims the network, of someone the members service does not know in it
    with pytest.raises(PermissionDenied, match="your own networks"):
        handlers.open_question(member("stranger", member_of={NETWORK}), cmd, world.uow, world.directory)
    assert world.uow.loops.rows == {}


def test_a_staff_members_question_is_recorded_with_their_role_so_reports_tell_it_from_a_participants(
    world: World,
) -> None:
    coordinator = world.member("Carla Coördinator")
    caller = member(coordinator, administers={NETWORK}, member_of={NETWORK})
    loop = handlers.open_question(caller, OpenLearningQuestion(network_id=NETWORK, question="Hoe?"), world.uow,
                                  world.directory)
    assert loop.owner_role == "coordinator"
    assert world.uow.payloads("learning_question.opened")[0]["urgency_stated"] is False


def test_an_empty_question_is_refused_naming_the_field() -> None:
    with pytest.raises(Exception) as raised:
        OpenLearningQuestion.model_validate({"network_id": NETWORK, "question": "   "})
    assert "question" in str(raised.value)


# --- the loop's steps -----------------------------------------------------------------------------------------


def test_the_loop_goes_round_question_brought_experiment_follow_up_close_with_its_output(world: World) -> None:
    anna = world.member()
    loop, sessions = full_loop(world, anna)
    assert (loop.status, loop.mandate, loop.follow_up_session_id) == ("followed_up", "yes", sessions["later"])
    output = world.publish(sessions["later"], [anna], kind="lesson")
    closed = handlers.close_loop(STAFF, loop.id, CloseLoop(lesson="Thuis opzoeken werkt", output_id=output.id),
                                 world.uow)
    assert (closed.status, closed.output_id, closed.revision) == ("closed", output.id, 5)
    assert [t for t in world.uow.published_types() if t.startswith(("learning", "experiment"))] == [
        "learning_question.opened", "learning_question.brought", "experiment.started", "experiment.reported",
        "learning_loop.closed"]
    [payload] = world.uow.payloads("learning_loop.closed")
    assert (payload["output_id"], payload["status"], payload["mandate"]) == (output.id, "closed", "yes")


def test_a_step_out_of_order_is_refused_as_a_conflict_and_changes_nothing(world: World) -> None:
    anna = world.member()
    loop, session = open_question(world, anna), world.held()
    with pytest.raises(IllegalTransition, match="cannot record an experiment for a loop that is open") as raised:
        experiment(world, world.caller(anna), loop.id, session.id)
    assert raised.value.http_status == 409
    with pytest.raises(IllegalTransition, match="cannot close a loop that is open"):
        handlers.close_loop(STAFF, loop.id, CloseLoop(), world.uow)
    assert world.uow.loops.rows[loop.id].status == LoopStatus.OPEN


def test_a_question_is_brought_to_a_session_of_its_own_network_that_is_not_cancelled(world: World) -> None:
    anna = world.member()
    loop = open_question(world, anna)
    world.network("elsewhere")
    other = world.schedule(network_id="elsewhere")
    cancelled = world.schedule()
    handlers.cancel_session(OPERATOR, cancelled.id, CancelSession(), world.uow)
    for session_id, rule in ((other.id, "same_network"), (cancelled.id, "not_cancelled"),
                             ("no-such-session", "known_session")):
        with pytest.raises(ValidationFailed) as raised:
            handlers.bring_question(world.caller(anna), loop.id, BringQuestion(session_id=session_id), world.uow)
        assert raised.value.http_status == 422
        assert raised.value.violations == [{"field": "session_id", "rule": rule,
                                            "message": raised.value.violations[0]["message"]}]
    planned = world.schedule()
    assert handlers.bring_question(world.caller(anna), loop.id, BringQuestion(session_id=planned.id),
                                   world.uow).brought_to_session_id == planned.id


def test_an_experiment_comes_out_of_a_held_session_not_before_the_one_the_question_was_brought_to(
    world: World,
) -> None:
    anna = world.member()
    earlier, brought, planned = held_at(world, 30), world.held(), world.schedule()
    loop = open_question(world, anna)
    handlers.bring_question(world.caller(anna), loop.id, BringQuestion(session_id=brought.id), world.uow)
    for session_id, rule in ((planned.id, "held_session"), (earlier.id, "not_before_brought")):
        with pytest.raises(ValidationFailed) as raised:
            experiment(world, world.caller(anna), loop.id, session_id)
        assert raised.value.violations[0]["field"] == "session_id"
        assert raised.value.violations[0]["rule"] == rule
    assert experiment(world, world.caller(anna), loop.id, brought.id, mandate="asked").mandate == "asked"


def test_a_follow_up_is_reported_at_a_later_held_session_than_the_experiments(world: World) -> None:
    anna = world.member()
    session = world.held()
    loop = open_question(world, anna)
    handlers.bring_question(world.caller(anna), loop.id, BringQuestion(session_id=session.id), world.uow)
    experiment(world, world.caller(anna), loop.id, session.id)
    with pytest.raises(ValidationFailed) as raised:
        follow_up(world, world.caller(anna), loop.id, session.id)
    assert (raised.value.violations[0]["field"], raised.value.violations[0]["rule"]) == ("session_id",
                                                                                           "later_session")


def test_a_mandate_asked_for_is_changed_while_the_experiment_runs_and_only_then(world: World) -> None:
    anna = world.member()
    first, later = held_at(world, 30), world.held()
    loop = open_question(world, anna)
    handlers.bring_question(world.caller(anna), loop.id, BringQuestion(session_id=first.id), world.uow)
    experiment(world, world.caller(anna), loop.id, first.id, mandate="asked")
    changed = handlers.change_mandate(world.caller(anna), loop.id, ChangeMandate(mandate=Mandate.YES), world.uow)
    assert changed.mandate == "yes"
    assert world.uow.payloads("experiment.mandate_changed")[0]["mandate"] == "yes"
    follow_up(world, world.caller(anna), loop.id, later.id)
    with pytest.raises(IllegalTransition):
        handlers.change_mandate(world.caller(anna), loop.id, ChangeMandate(mandate=Mandate.NO), world.uow)


def test_a_loop_closes_with_a_live_output_of_its_own_network_only(world: World) -> None:
    anna = world.member()
    loop, sessions = full_loop(world, anna)
    world.network("elsewhere")
    bram = world.member("Bram", network_id="elsewhere")
    elsewhere = world.held(network_id="elsewhere")
    foreign = world.publish(elsewhere.id, [bram])
    retracted = world.publish(sessions["later"], [anna])
    handlers.retract_output(OPERATOR, retracted.id, RetractOutput(), world.uow)
    for output_id, rule in ((foreign.id, "same_network"), (retracted.id, "live_output"), ("nope", "known_output")):
        with pytest.raises(ValidationFailed) as raised:
            handlers.close_loop(world.caller(anna), loop.id, CloseLoop(output_id=output_id), world.uow)
        assert (raised.value.violations[0]["field"], raised.value.violations[0]["rule"]) == ("output_id", rule)
    assert handlers.close_loop(world.caller(anna), loop.id, CloseLoop(), world.uow).output_id is None


# --- who sees and moves a loop -------------------------------------------------------------------------------------


def test_the_owner_and_the_networks_staff_move_a_loop_other_members_and_outsiders_do_not(world: World) -> None:
    anna, bram = world.member(), world.member("Bram Kok")
    session = world.schedule()
    loop = open_question(world, anna, shared_with_network=True)
    for caller in (world.caller(bram), OUTSIDER):
        with pytest.raises(PermissionDenied):
            handlers.bring_question(caller, loop.id, BringQuestion(session_id=session.id), world.uow)
    assert handlers.bring_question(FACILITATOR, loop.id, BringQuestion(session_id=session.id),
                                   world.uow).status == "brought"
    with pytest.raises(NotFound):
        handlers.bring_question(STAFF, "no-such-loop", BringQuestion(session_id=session.id), world.uow)


def test_a_question_not_shared_is_seen_by_its_owner_and_the_networks_staff_only(world: World) -> None:
    anna, bram = world.member(), world.member("Bram Kok")
    private = open_question(world, anna)
    shared = open_question(world, anna, shared_with_network=True, question="Gedeeld")
    for caller in (world.caller(anna), STAFF, FACILITATOR, OPERATOR):
        assert handlers.get_loop(caller, private.id, world.uow).question == private.question
    for caller in (world.caller(bram), OUTSIDER):
        with pytest.raises(PermissionDenied):
            handlers.get_loop(caller, private.id, world.uow)
    assert handlers.get_loop(world.caller(bram), shared.id, world.uow).question == "Gedeeld"
    with pytest.raises(PermissionDenied):
        handlers.get_loop(OUTSIDER, shared.id, world.uow)


def test_the_list_shows_staff_every_question_a_member_their_own_and_shared_ones_and_outsiders_nothing(
    world: World,
) -> None:
    anna, bram = world.member(), world.member("Bram Kok")
    mine = open_question(world, anna)
    shared = open_question(world, anna, shared_with_network=True)
    brams = open_question(world, bram)
    query = ListLearningQuestions(network_id=NETWORK)

    def ids(caller: Caller) -> set[str]:
        return {lo.id for lo in handlers.list_loops(caller, query, world.uow).items}

    assert ids(STAFF) == ids(OPERATOR) == {mine.id, shared.id, brams.id}
    assert ids(world.caller(anna)) == {mine.id, shared.id}
    assert ids(world.caller(bram)) == {shared.id, brams.id}
    with pytest.raises(PermissionDenied):
        handlers.list_loops(OUTSIDER, query, world.uow)
    opened = handlers.list_loops(STAFF, ListLearningQuestions(network_id=NETWORK, status=LoopStatus.OPEN), world.uow)
    assert len(opened.items) == 3


def test_the_members_export_holds_their_loops_and_erasure_removes_their_words_but_keeps_the_count(
    world: World,
) -> None:
    anna = world.member()
    loop, _ = full_loop(world, anna)
    export = handlers.export_member(world.caller(anna), anna, world.uow)
    assert [lo.id for lo in export.learning_loops] == [loop.id]
    payload = MemberErased(member_id=anna, revision=9)
    consume(handlers.member_erased, envelope_of(payload), payload, world.uow, "sessions.on_member_erased")
    [stored] = world.uow.loops.rows.values()
    assert stored.owner_id != anna
    assert (stored.question, stored.urgency, stored.experiment, stored.follow_up) == (None, None, None, None)
    report = handlers.get_learning_report(OPERATOR, NETWORK, LearningReportQuery(), world.uow, world.directory)
    assert report.loops.opened == 1


# --- the learning report counts loops opened and closed -------------------------------------------------------


def test_the_learning_report_counts_loops_opened_and_closed_experiments_by_mandate_and_follow_ups(
    world: World,
) -> None:
    anna, bram = world.member(), world.member("Bram Kok")
    loop, sessions = full_loop(world, anna)
    output = world.publish(sessions["later"], [anna])
    handlers.close_loop(STAFF, loop.id, CloseLoop(output_id=output.id), world.uow)
    other = open_question(world, bram)
    handlers.bring_question(STAFF, other.id, BringQuestion(session_id=sessions["first"]), world.uow)
    experiment(world, STAFF, other.id, sessions["first"], mandate="no")
    open_question(world, bram)
    report = handlers.get_learning_report(STAFF, NETWORK, LearningReportQuery(), world.uow, world.directory)
    counted = report.loops
    assert (counted.opened, counted.closed, counted.closed_with_output) == (3, 1, 1)
    assert (counted.experiments, counted.followed_up) == (2, 1)
    assert {k: v for k, v in counted.experiments_by_mandate.items() if v} == {"yes": 1, "no": 1}
    earlier = handlers.get_learning_report(STAFF, NETWORK, LearningReportQuery(
        period_to=PAST - timedelta(days=60)), world.uow, world.directory)
    assert (earlier.loops.opened, earlier.loops.closed, earlier.loops.experiments) == (0, 0, 0)


def test_the_learning_report_summary_is_dutch_by_default_and_english_on_request_with_plurals(world: World) -> None:
    anna = world.member()
    full_loop(world, anna)
    dutch = handlers.get_learning_report(STAFF, NETWORK, LearningReportQuery(), world.uow, world.directory)
    english = handlers.get_learning_report(STAFF, NETWORK, LearningReportQuery(language="en"), world.uow,
                                           world.directory)
    assert (dutch.language, english.language) == ("nl", "en")
    assert dutch.summary[0] == "2 sessies gehouden, 0 aanwezigen (0,0 per sessie), 0 verschillende mensen"
    assert dutch.summary[2] == "1 leervraag ingebracht, 0 leercycli rond (0 met een opbrengst)"
    assert english.summary[2] == "1 learning question opened, 0 loops closed (0 with an output)"
    world.attend(world.held().id, anna)
    one = handlers.get_learning_report(STAFF, NETWORK, LearningReportQuery(), world.uow, world.directory)
    assert one.summary[0] == "3 sessies gehouden, 1 aanwezige (0,3 per sessie), 1 persoon"
    assert english.summary[3] == ("1 experiment in practice: 1 with a mandate, 0 asked for, 0 without; "
                                  "1 followed up")
