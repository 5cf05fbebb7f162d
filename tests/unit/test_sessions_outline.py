"""A session's outline (id, network, status, statements): what publishing an output reads instead of the whole
session with its registrations. Run against the fake unit of work and against the SQL one on a migrated SQLite
file: both keep the same contract."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine, event

from services.common.errors import IllegalTransition, NotFound, PermissionDenied, ValidationFailed
from services.common.vocabulary import SessionStatus
from services.sessions import handlers
from services.sessions.domain.lifecycle import Action
from services.sessions.domain.session import Session, SessionOutline
from services.sessions.schemas.commands import PublishOutput
from services.sessions.unit_of_work import SessionsUnitOfWork
from tests.support.callers import OPERATOR, reader
from tests.unit.test_sessions_fakes import FakeSessionRepository
from tests.unit.test_sessions_world import NETWORK, World

STATEMENTS = ["Eenzaamheid is een taboe", "De wijk zorgt voor elkaar"]


@pytest.fixture(params=["fake", "sql"])
def world(request: pytest.FixtureRequest, migrated_engine: Callable[[str], Engine]) -> World:
    if request.param == "fake":
        return World()
    return World(SessionsUnitOfWork(migrated_engine("sessions"), producer="sessions"))


def outline(world: World, session_id: str) -> SessionOutline | None:
    with world.uow as uow:
        return uow.sessions.outline(session_id)


def registrations(world: World, session_id: str) -> list[tuple[str, str, int]]:
    listed = handlers.list_registrations(OPERATOR, session_id, world.uow).items
    return [(r.member_id, r.status, r.waitlist_position or 0) for r in listed]


def test_the_outline_of_a_stored_session_carries_its_id_network_status_and_statements(world: World) -> None:
    session = world.held(format="knowledge_cafe", statements=STATEMENTS)
    found = outline(world, session.id)
    assert found == SessionOutline(id=session.id, network_id=NETWORK, status=SessionStatus.HELD,
                                   statements=tuple(STATEMENTS))
    assert (found.has_statement(2), found.has_statement(3)) == (True, False)
    handlers.close_session(OPERATOR, session.id, world.uow)
    assert outline(world, session.id).status == SessionStatus.CLOSED  # type: ignore[union-attr]


def test_an_unknown_session_has_no_outline(world: World) -> None:
    assert outline(world, "no-such-session") is None


def test_an_outline_is_no_session_and_cannot_be_changed(world: World) -> None:
    found = outline(world, world.schedule().id)
    assert found is not None and not isinstance(found, Session)
    with pytest.raises(dataclasses.FrozenInstanceError):
        found.status = SessionStatus.HELD  # type: ignore[misc]


def test_the_outline_allows_and_refuses_what_the_whole_session_does(world: World) -> None:
    planned = world.schedule()
    found = outline(world, planned.id)
    assert found is not None
    with pytest.raises(IllegalTransition, match="cannot publish an output of a planned session"):
        found.ensure_allowed(Action.PUBLISH_OUTPUT)
    found.ensure_allowed(Action.REGISTER)


def test_publishing_an_output_of_a_session_with_many_registrations_leaves_every_registration_in_place(
    world: World,
) -> None:
    session = world.schedule(format="knowledge_cafe", statements=STATEMENTS, capacity=40,
                             starts_at="2020-01-01T19:00:00+00:00", ends_at="2020-01-01T21:00:00+00:00")
    for n in range(50):  # ten of them on the waitlist
        world.register(session.id, world.member(f"Deelnemer {n}"))
    handlers.hold_session(OPERATOR, session.id, world.uow)
    before = registrations(world, session.id)
    assert len(before) == 50 and sum(1 for _, status, _ in before if status == "waitlisted") == 10
    author = before[0][0]
    world.publish(session.id, [author], kind="conclusion", title="Buren zien meer", statement=2)
    assert registrations(world, session.id) == before


def test_publishing_an_output_reads_no_registrations(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    session = world.schedule(starts_at="2020-01-01T19:00:00+00:00", ends_at="2020-01-01T21:00:00+00:00")
    anna = world.member()
    world.register(session.id, anna)
    handlers.hold_session(OPERATOR, session.id, world.uow)
    read: list[str] = []
    if isinstance(world.uow, SessionsUnitOfWork):
        def remember(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            read.append(statement)
        event.listen(world.uow.engine, "before_cursor_execute", remember)
    else:
        def whole_session(*args: Any, **kwargs: Any) -> None:
            raise AssertionError("publishing loaded the whole session")
        monkeypatch.setattr(FakeSessionRepository, "get", whole_session)
    world.publish(session.id, [anna])
    assert read or not isinstance(world.uow, SessionsUnitOfWork)
    assert not [s for s in read if any(f"FROM {t}" in s for t in ("registrations", "attendance", "session_"))]


def test_publishing_checks_the_session_then_the_caller_then_the_status_then_the_authors(world: World) -> None:
    stranger = "not-a-member"
    with pytest.raises(NotFound, match="session no-such-session not found"):
        world.publish("no-such-session", [stranger])
    planned = world.schedule()
    cmd = PublishOutput.model_validate({"kind": "lesson", "title": "T", "authors": [stranger]})
    with pytest.raises(PermissionDenied):
        handlers.publish_output(reader(NETWORK), planned.id, cmd, world.uow, world.directory)
    with pytest.raises(IllegalTransition):
        world.publish(planned.id, [stranger])
    held = world.held()
    with pytest.raises(ValidationFailed):
        world.publish(held.id, [stranger])
