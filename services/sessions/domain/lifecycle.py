"""The session life cycle as one table: which action is allowed in which status, and where it leads.

planned → held → closed; planned → cancelled; rescheduling keeps a session planned. Actions that do not
move the status (registering, recording attendance, publishing outputs) are in the same table, so every
"may I do this now?" question has one answer in one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from services.common.errors import IllegalTransition, violation
from services.common.vocabulary import SessionStatus

PLANNED, HELD, CLOSED, CANCELLED = (SessionStatus.PLANNED, SessionStatus.HELD, SessionStatus.CLOSED,
                                    SessionStatus.CANCELLED)


class Action(StrEnum):
    """What can be done to a session; the value reads well in "cannot <value> a <status> session"."""

    HOLD = "hold"
    CLOSE = "close"
    CANCEL = "cancel"
    RESCHEDULE = "reschedule"
    REGISTER = "register for"
    CANCEL_REGISTRATION = "cancel a registration for"
    RECORD_ATTENDANCE = "record attendance for"
    PUBLISH_OUTPUT = "publish an output of"
    REFLECT = "record a reflection on"
    CONCLUDE_STATEMENT = "record a statement's conclusion for"


TRANSITIONS: Mapping[Action, Mapping[SessionStatus, SessionStatus]] = {
    Action.HOLD: {PLANNED: HELD},
    Action.CLOSE: {HELD: CLOSED},
    Action.CANCEL: {PLANNED: CANCELLED},
    Action.RESCHEDULE: {PLANNED: PLANNED},
    Action.REGISTER: {PLANNED: PLANNED},
    Action.CANCEL_REGISTRATION: {PLANNED: PLANNED},
    Action.RECORD_ATTENDANCE: {HELD: HELD},
    Action.PUBLISH_OUTPUT: {HELD: HELD, CLOSED: CLOSED},
    Action.REFLECT: {HELD: HELD, CLOSED: CLOSED},
    Action.CONCLUDE_STATEMENT: {HELD: HELD, CLOSED: CLOSED},
}


def next_status(status: SessionStatus, action: Action) -> SessionStatus:
    """The status ``action`` leads to from ``status``, or IllegalTransition if the table has no such edge."""
    target = TRANSITIONS[action].get(status)
    if target is None:
        message = f"cannot {action.value} a {status.value} session"
        raise IllegalTransition(message, [violation("status", "illegal_transition", message)])
    return target


def allowed_actions(status: SessionStatus) -> list[Action]:
    return [action for action, edges in TRANSITIONS.items() if status in edges]
