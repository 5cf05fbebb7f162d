"""The session life cycle: planned → held → closed, planned → cancelled; rescheduling keeps history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.common.errors import IllegalTransition, ValidationFailed
from services.common.vocabulary import SessionFormat, SessionMode, SessionStatus
from services.sessions.domain.lifecycle import TRANSITIONS, Action, allowed_actions, next_status
from services.sessions.domain.participation import PreparationRule
from services.sessions.domain.planning import Contribution
from services.sessions.domain.session import Session

T0 = datetime(2026, 3, 2, 19, 0, tzinfo=UTC)
BEFORE_START = T0 - timedelta(days=1)
AFTER_START = T0 + timedelta(hours=3)


def planned(**overrides: Any) -> Session:
    plan: dict[str, Any] = {
        "network_id": "net-1", "title": "Leersessie", "format": SessionFormat.LEARNING_SESSION,
        "mode": SessionMode.ONLINE, "location": None, "meeting_url": "https://meet.example.org/kring",
        "starts_at": T0, "ends_at": T0 + timedelta(hours=2), "capacity": None, "agenda": "",
        "contributions": [], "statements": [],
    } | overrides
    return Session.schedule("s-1", now=BEFORE_START, **plan)


def in_status(status: SessionStatus) -> Session:
    session = planned()
    if status in (SessionStatus.HELD, SessionStatus.CLOSED):
        session.hold(now=AFTER_START)
    if status == SessionStatus.CLOSED:
        session.close(now=AFTER_START)
    if status == SessionStatus.CANCELLED:
        session.cancel("storm", now=BEFORE_START)
    session.events.clear()
    return session


def attempt(session: Session, action: Action) -> None:
    """Perform ``action`` with harmless arguments."""
    later = T0 + timedelta(days=7)
    {
        Action.HOLD: lambda: session.hold(now=AFTER_START),
        Action.CLOSE: lambda: session.close(now=AFTER_START),
        Action.CANCEL: lambda: session.cancel(None, now=AFTER_START),
        Action.RESCHEDULE: lambda: session.reschedule(later, later + timedelta(hours=1), None, now=AFTER_START),
        Action.REGISTER: lambda: session.register("m-1", None, PreparationRule(), now=AFTER_START),
        Action.CANCEL_REGISTRATION: lambda: session.cancel_registration("m-1", now=AFTER_START),
        Action.RECORD_ATTENDANCE: lambda: session.record_attendance([], now=AFTER_START),
        Action.PUBLISH_OUTPUT: lambda: session.ensure_allowed(Action.PUBLISH_OUTPUT),
        Action.REFLECT: lambda: session.ensure_allowed(Action.REFLECT),
        Action.CONCLUDE_STATEMENT: lambda: session.conclude_statement(1, "Samen", now=AFTER_START),
    }[action]()


ILLEGAL = [(status, action) for action, edges in TRANSITIONS.items() for status in SessionStatus
           if status not in edges]


def test_a_scheduled_session_is_planned_at_revision_1_and_records_session_scheduled() -> None:
    session = planned(contributions=[Contribution("m-1", "intro"), Contribution("m-1", "casus"),
                                     Contribution("m-2", "reflectie")])
    assert (session.status, session.revision) == (SessionStatus.PLANNED, 1)
    [event] = session.events
    assert event.event_type == "session.scheduled"
    assert event.contributor_ids == ["m-1", "m-2"]  # each contributor once, in order


def test_the_happy_path_planned_held_closed_emits_one_snapshot_per_transition_with_rising_revisions() -> None:
    session = planned()
    session.hold(now=AFTER_START)
    session.close(now=AFTER_START)
    assert session.status == SessionStatus.CLOSED
    assert [(e.event_type, e.revision, e.status) for e in session.events] == [
        ("session.scheduled", 1, "planned"), ("session.held", 2, "held"), ("session.closed", 3, "closed"),
    ]


def test_a_planned_session_can_be_cancelled_with_a_reason() -> None:
    session = planned()
    session.cancel("the venue flooded", now=BEFORE_START)
    assert (session.status, session.cancel_reason) == (SessionStatus.CANCELLED, "the venue flooded")
    assert session.events[-1].event_type == "session.cancelled"
    assert session.events[-1].reason == "the venue flooded"


@pytest.mark.parametrize(("status", "action"), ILLEGAL, ids=[f"{a.name.lower()}-when-{s}" for s, a in ILLEGAL])
def test_every_action_the_table_does_not_allow_is_an_illegal_transition_naming_the_rule(
    status: SessionStatus, action: Action
) -> None:
    session = in_status(status)
    with pytest.raises(IllegalTransition) as raised:
        attempt(session, action)
    message = f"cannot {action.value} a {status.value} session"
    assert raised.value.violations == [{"field": "status", "rule": "illegal_transition", "message": message}]
    assert (session.status, session.events) == (status, [])


def test_closed_and_cancelled_are_terminal() -> None:
    assert [a for a in allowed_actions(SessionStatus.CANCELLED)] == []
    assert set(allowed_actions(SessionStatus.CLOSED)) == {Action.PUBLISH_OUTPUT, Action.REFLECT,
                                                          Action.CONCLUDE_STATEMENT}


def test_next_status_follows_the_table() -> None:
    assert next_status(SessionStatus.PLANNED, Action.HOLD) == SessionStatus.HELD
    assert next_status(SessionStatus.HELD, Action.CLOSE) == SessionStatus.CLOSED
    assert next_status(SessionStatus.PLANNED, Action.RESCHEDULE) == SessionStatus.PLANNED


def test_a_session_cannot_be_marked_held_before_it_starts() -> None:
    session = planned()
    with pytest.raises(IllegalTransition) as raised:
        session.hold(now=T0 - timedelta(minutes=1))
    assert [(v["field"], v["rule"]) for v in raised.value.violations] == [("starts_at", "not_started")]
    assert session.status == SessionStatus.PLANNED


def test_a_session_can_be_marked_held_from_the_moment_it_starts() -> None:
    session = planned()
    session.hold(now=T0)
    assert session.status == SessionStatus.HELD


def test_rescheduling_keeps_the_previous_times_in_the_history_and_in_the_event() -> None:
    session = planned()
    first, second = T0 + timedelta(days=7), T0 + timedelta(days=14)
    session.reschedule(first, first + timedelta(hours=2), "speaker ill", now=BEFORE_START)
    session.reschedule(second, second + timedelta(hours=1), None, now=BEFORE_START)
    assert (session.starts_at, session.status, session.revision) == (second, SessionStatus.PLANNED, 3)
    assert [(r.previous_starts_at, r.starts_at, r.reason) for r in session.reschedules] == [
        (T0, first, "speaker ill"), (first, second, None),
    ]
    event = session.events[-1]
    assert (event.event_type, event.previous_starts_at, event.starts_at) == ("session.rescheduled", first, second)


def test_rescheduling_to_the_same_times_changes_nothing() -> None:
    session = in_status(SessionStatus.PLANNED)
    assert session.reschedule(T0, T0 + timedelta(hours=2), None, now=BEFORE_START) is False
    assert (session.revision, session.reschedules, session.events) == (1, [], [])


def test_rescheduling_checks_the_new_times() -> None:
    session = planned()
    with pytest.raises(ValidationFailed) as raised:
        session.reschedule(T0, T0 - timedelta(hours=1), None, now=BEFORE_START)
    assert raised.value.violations[0]["rule"] == "after_starts_at"
