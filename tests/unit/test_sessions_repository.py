"""The SQL repositories and unit of work keep the contract the fakes stand in for: the same handler flows
run against a migrated SQLite database, and what is stored comes back the same (times aware, in UTC)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, timedelta

import pytest
from sqlalchemy import Engine, select

from services.common.catalogue import MemberErased
from services.sessions import handlers, models
from services.sessions.domain.read_models import Person
from services.sessions.schemas.commands import (
    LearningReportQuery,
    ListOutputs,
    ListReflections,
    ListSessions,
    RetractOutput,
)
from services.sessions.schemas.views import OutputTombstone
from services.sessions.unit_of_work import SessionsUnitOfWork
from tests.support.callers import OPERATOR, reader
from tests.support.consumers import consume
from tests.unit.test_sessions_world import NETWORK, PAST, World, envelope_of


@pytest.fixture
def engine(migrated_engine: Callable[[str], Engine]) -> Engine:
    return migrated_engine("sessions")


@pytest.fixture
def world(engine: Engine) -> World:
    return World(SessionsUnitOfWork(engine, producer="sessions"))


def outbox_types(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(select(models.outbox.c.event_type).order_by(models.outbox.c.position)).scalars())


def test_a_session_with_its_waitlist_and_history_comes_back_as_it_was_stored(world: World, engine: Engine) -> None:
    session = world.schedule(capacity=1, contributions=[{"member_id": "m-x", "topic": "Casus"}],
                             starts_at="2026-12-01T19:00:00+01:00", ends_at="2026-12-01T21:00:00+01:00")
    anna, bram, cees = world.member("Anna"), world.member("Bram"), world.member("Cees")
    for member in (anna, bram, cees):
        world.register(session.id, member, prepared=True)
    handlers.cancel_registration(OPERATOR, session.id, anna, world.uow)
    loaded = handlers.get_session_view(OPERATOR, session.id, world.uow)
    assert loaded.starts_at.tzinfo == UTC and loaded.starts_at.hour == 18
    assert (loaded.registered_count, loaded.waitlisted_count, loaded.contributions[0].topic) == (1, 1, "Casus")
    listed = handlers.list_registrations(OPERATOR, session.id, world.uow).items
    assert [(r.member_id, r.status, r.waitlist_position) for r in listed] == [
        (anna, "cancelled", None), (bram, "registered", None), (cees, "waitlisted", 1)]
    assert listed[0].cancelled_at.tzinfo is not None
    assert outbox_types(engine) == ["session.scheduled"]


def test_the_whole_flow_writes_its_events_to_the_outbox_in_order(world: World, engine: Engine) -> None:
    session = world.held()
    anna = world.member("Anna", perspectives=("client",))
    world.attend(session.id, anna)
    output = world.publish(session.id, [anna], kind="resource", url="https://example.org/clip",
                           resource_type="knowledge_clip", themes=["Zorg"])
    handlers.retract_output(OPERATOR, output.id, RetractOutput(), world.uow)
    world.reflect(session.id, anna)
    handlers.close_session(OPERATOR, session.id, world.uow)
    assert outbox_types(engine) == ["session.scheduled", "session.held", "attendance.recorded", "output.published",
                                    "output.retracted", "reflection.recorded", "session.closed"]
    assert isinstance(handlers.get_output(reader(NETWORK), output.id, world.uow, world.feeds), OutputTombstone)
    assert handlers.get_attendance(OPERATOR, session.id, world.uow).perspective_counts["client"] == 1


def test_sessions_and_outputs_page_by_keyset_on_sqlite(world: World) -> None:
    sessions = [world.held(starts_at=(PAST + timedelta(hours=h)).isoformat(),
                           ends_at=(PAST + timedelta(hours=h + 1)).isoformat()).id for h in (3, 1, 2)]
    anna = world.member()
    for session_id in sessions:
        world.publish(session_id, [anna])
    first = handlers.list_sessions(OPERATOR, ListSessions(network_id=NETWORK, page_size=2), world.uow)
    second = handlers.list_sessions(OPERATOR, ListSessions(network_id=NETWORK, page_size=2,
                                                 page_token=first.next_page_token), world.uow)
    assert [s.id for s in first.items + second.items] == [sessions[1], sessions[2], sessions[0]]
    assert second.next_page_token is None
    inside = ListOutputs(network_id=NETWORK, page_size=2)
    outputs = handlers.list_outputs(reader(NETWORK), inside, world.uow)
    assert len(outputs.items) == 2 and outputs.next_page_token


def test_a_members_reflections_page_newest_first_by_keyset_on_sqlite(world: World) -> None:
    session, anna = world.held(), world.member()
    written = [world.reflect(session.id, anna, text=f"reflectie {n}").id for n in range(3)]
    world.reflect(session.id, world.member("Bram"))
    first = handlers.list_reflections(world.caller(anna), ListReflections(page_size=2), world.uow)
    second = handlers.list_reflections(world.caller(anna), ListReflections(page_size=2,
                                                                           page_token=first.next_page_token), world.uow)
    assert [r.id for r in first.items + second.items] == written[::-1]
    assert second.next_page_token is None


def test_the_read_model_upsert_never_lets_an_older_revision_overwrite_a_newer_one(world: World) -> None:
    uow = world.uow
    with uow:
        uow.read_models.put_person(Person("m-1", 5, "New", (), True))
        uow.read_models.put_person(Person("m-1", 4, "Old", (), False))
        uow.commit()
    with uow:
        assert uow.read_models.person("m-1").name == "New"


def test_erasure_leaves_the_member_id_in_no_table_and_keeps_the_report(world: World, engine: Engine) -> None:
    fatima = world.member("Fatima")
    session = world.schedule(starts_at=PAST.isoformat(), ends_at=(PAST + timedelta(hours=1)).isoformat(),
                             contributions=[{"member_id": fatima, "topic": "Mijn verhaal"}])
    world.register(session.id, fatima)
    handlers.hold_session(OPERATOR, session.id, world.uow)
    world.attend(session.id, fatima)
    world.publish(session.id, [fatima])
    world.reflect(session.id, fatima, text="Mijn eigen woorden")
    before = handlers.get_learning_report(OPERATOR, NETWORK, LearningReportQuery(), world.uow, world.directory)
    payload = MemberErased(member_id=fatima, revision=9)
    consume(handlers.member_erased, envelope_of(payload), payload, world.uow, "sessions.on_member_erased")
    after = handlers.get_learning_report(OPERATOR, NETWORK, LearningReportQuery(), world.uow, world.directory)
    assert (after.attendance_total, after.reflections_by_kind) == (before.attendance_total,
                                                                   before.reflections_by_kind)
    with engine.connect() as conn:
        for table in (models.registrations, models.attendance, models.output_authors, models.reflections,
                      models.contributions):
            assert fatima not in repr(conn.execute(select(table)).all())
        assert "Mijn eigen woorden" not in repr(conn.execute(select(models.reflections)).all())
    exported = handlers.export_member(OPERATOR, fatima, world.uow)
    assert (exported.sessions, exported.authorship, exported.reflections) == ([], [], [])


def test_a_processed_event_is_remembered_in_the_same_transaction(world: World) -> None:
    payload = MemberErased(member_id=str(uuid.uuid4()), revision=2)
    envelope = envelope_of(payload)
    with world.uow as uow:
        assert uow.begin_consuming(envelope.id, "sessions.on_member_erased")
        uow.commit()
    with world.uow as uow:
        assert not uow.begin_consuming(envelope.id, "sessions.on_member_erased")


def test_a_learning_loop_goes_round_in_sql_with_its_events_in_the_outbox_and_is_counted_listed_and_erased(
    world: World, engine: Engine,
) -> None:
    from services.common.vocabulary import LoopStatus
    from services.sessions.schemas.commands import CloseLoop, ListLearningQuestions
    from tests.unit.test_sessions_loops import STAFF, full_loop, open_question

    anna, bram = world.member("Anna"), world.member("Bram")
    loop, sessions = full_loop(world, anna)
    output = world.publish(sessions["later"], [anna])
    closed = handlers.close_loop(STAFF, loop.id, CloseLoop(lesson="Het werkt", output_id=output.id), world.uow)
    assert (closed.status, closed.output_id, closed.mandate) == ("closed", output.id, "yes")
    open_question(world, bram, shared_with_network=True)
    private = open_question(world, bram)
    loaded = handlers.get_loop(world.caller(anna), loop.id, world.uow)
    assert loaded.closed_at is not None and loaded.closed_at.tzinfo == UTC and loaded.opened_at.tzinfo == UTC
    assert [t for t in outbox_types(engine) if t.startswith(("learning", "experiment"))] == [
        "learning_question.opened", "learning_question.brought", "experiment.started", "experiment.reported",
        "learning_loop.closed", "learning_question.opened", "learning_question.opened"]
    seen = handlers.list_loops(world.caller(anna), ListLearningQuestions(network_id=NETWORK), world.uow).items
    assert private.id not in {lo.id for lo in seen} and len(seen) == 2
    page = handlers.list_loops(STAFF, ListLearningQuestions(network_id=NETWORK, page_size=2), world.uow)
    rest = handlers.list_loops(STAFF, ListLearningQuestions(network_id=NETWORK, page_size=2,
                                                            page_token=page.next_page_token), world.uow)
    assert len(page.items) + len(rest.items) == 3 and rest.next_page_token is None
    only_closed = handlers.list_loops(STAFF, ListLearningQuestions(network_id=NETWORK, status=LoopStatus.CLOSED),
                                      world.uow)
    assert [lo.id for lo in only_closed.items] == [loop.id]
    report = handlers.get_learning_report(OPERATOR, NETWORK, LearningReportQuery(), world.uow, world.directory)
    assert (report.loops.opened, report.loops.closed, report.loops.closed_with_output) == (3, 1, 1)
    payload = MemberErased(member_id=anna, revision=9)
    consume(handlers.member_erased, envelope_of(payload), payload, world.uow, "sessions.on_member_erased")
    erased = handlers.get_loop(OPERATOR, loop.id, world.uow)
    assert (erased.owner_id != anna, erased.question, erased.experiment, erased.lesson) == (True, None, None, None)
