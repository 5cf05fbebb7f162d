"""Statements ("stellingen") of world cafés and knowledge cafés, what each table concluded on them, and outputs
that come from a statement: the domain and the handlers, on the fake and on SQLite migrated by Alembic."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from services.common.db import create_service_engine
from services.common.errors import IllegalTransition, NotFound, PermissionDenied, ValidationFailed
from services.common.migrations import upgrade
from services.sessions import handlers, models
from services.sessions.schemas.commands import ConcludeStatement
from services.sessions.unit_of_work import SessionsUnitOfWork
from tests.support.callers import OPERATOR, member
from tests.unit.test_sessions_world import NETWORK, World

STATEMENTS = ["Eenzaamheid is een taboe", "De wijk zorgt voor elkaar"]


@pytest.fixture(params=["fake", "sql"])
def world(request: pytest.FixtureRequest, tmp_path) -> Iterator[World]:
    if request.param == "fake":
        yield World()
        return
    url = f"sqlite:///{tmp_path / 'sessions.db'}"
    upgrade("sessions", url)
    engine = create_service_engine(url, "sessions")
    yield World(SessionsUnitOfWork(engine, producer="sessions"))
    engine.dispose()


def published_types(world: World) -> list[str]:
    if isinstance(world.uow, SessionsUnitOfWork):
        with world.uow.engine.connect() as conn:
            return list(conn.execute(select(models.outbox.c.event_type).order_by(models.outbox.c.position))
                        .scalars())
    return world.uow.published_types()


def conclude(world: World, session_id: str, number: int, text: str, caller: Any = OPERATOR) -> Any:
    return handlers.conclude_statement(caller, session_id, number, ConcludeStatement(conclusion=text), world.uow)


def cafe(world: World, **overrides: Any) -> Any:
    world.network()
    return world.held(format="knowledge_cafe", statements=STATEMENTS, **overrides)


def test_a_knowledge_cafe_records_per_statement_what_the_table_concluded(world) -> None:
    session = cafe(world)
    recorded = conclude(world, session.id, 2, "Buren zien meer dan de wijkteams denken.")
    assert (recorded.statement, recorded.statement_text) == (2, "De wijk zorgt voor elkaar")
    shown = handlers.get_session_view(OPERATOR, session.id, world.uow)
    assert [(c.statement, c.conclusion) for c in shown.conclusions] == [
        (2, "Buren zien meer dan de wijkteams denken.")]
    assert published_types(world)[-1] == "statement.concluded"


def test_a_conclusion_may_be_revised_and_the_same_text_again_records_nothing(world) -> None:
    session = cafe(world)
    conclude(world, session.id, 1, "Eerste versie")
    conclude(world, session.id, 1, "Tweede versie")
    before = published_types(world)
    conclude(world, session.id, 1, "Tweede versie")
    assert published_types(world) == before and before.count("statement.concluded") == 2
    shown = handlers.get_session_view(OPERATOR, session.id, world.uow)
    assert [c.conclusion for c in shown.conclusions] == ["Tweede versie"]


def test_a_conclusion_is_recorded_while_or_after_the_session_is_held_not_before(world) -> None:
    world.network()
    planned = world.schedule(format="world_cafe", statements=STATEMENTS)
    with pytest.raises(IllegalTransition) as raised:
        conclude(world, planned.id, 1, "Te vroeg")
    assert [(v["field"], v["rule"]) for v in raised.value.violations] == [("status", "illegal_transition")]
    session = cafe(world)
    handlers.close_session(OPERATOR, session.id, world.uow)
    assert conclude(world, session.id, 1, "Na afloop").conclusion == "Na afloop"


def test_a_statement_the_session_does_not_have_is_not_found_naming_the_statement(world) -> None:
    session = cafe(world)
    with pytest.raises(NotFound) as raised:
        conclude(world, session.id, 3, "Bestaat niet")
    assert [(v["field"], v["rule"]) for v in raised.value.violations] == [("statement", "statement_exists")]


def test_only_the_networks_coordinators_and_facilitators_record_conclusions(world) -> None:
    session = cafe(world)
    participant = member("p", member_of={NETWORK})
    with pytest.raises(PermissionDenied):
        conclude(world, session.id, 1, "Niet van mij", caller=participant)
    facilitator = member("f", facilitates={NETWORK})
    assert conclude(world, session.id, 1, "Van de begeleider", caller=facilitator).statement == 1


def test_conclusions_are_shown_only_to_the_people_inside_the_network(world) -> None:
    session = cafe(world)
    conclude(world, session.id, 1, "Binnen het netwerk")
    inside = handlers.get_session_view(member("p", member_of={NETWORK}), session.id, world.uow)
    outside = handlers.get_session_view(member("o", member_of={"elders"}), session.id, world.uow)
    assert [c.conclusion for c in inside.conclusions] == ["Binnen het netwerk"]
    assert outside.conclusions == [] and outside.statements == STATEMENTS


def test_an_output_references_the_statement_it_came_from_and_only_one_the_session_has(world) -> None:
    session = cafe(world)
    author = world.member()
    output = world.publish(session.id, [author], kind="conclusion", title="Buren zien meer", statement=2)
    assert output.statement == 2
    assert handlers.get_output(OPERATOR, output.id, world.uow, world.feeds).statement == 2  # type: ignore[union-attr]
    with pytest.raises(ValidationFailed) as raised:
        world.publish(session.id, [author], kind="conclusion", title="Nergens vandaan", statement=3)
    assert [(v["field"], v["rule"]) for v in raised.value.violations] == [("statement", "statement_exists")]
