"""Command, query and event handlers: load through the unit of work, apply the domain, commit."""

from services.sessions.handlers.events import member_changed, membership_joined, membership_left, network_changed
from services.sessions.handlers.outputs import (
    get_output,
    list_outputs,
    publish_output,
    retract_output,
)
from services.sessions.handlers.privacy import export_member, member_erased
from services.sessions.handlers.reflections import get_learning_report, record_reflection
from services.sessions.handlers.registrations import (
    cancel_registration,
    get_attendance,
    list_registrations,
    record_attendance,
    register_for_session,
)
from services.sessions.handlers.sessions import (
    cancel_session,
    close_session,
    conclude_statement,
    get_session_view,
    health,
    hold_session,
    list_sessions,
    reschedule_session,
    schedule_session,
)

__all__ = [
    "cancel_registration",
    "cancel_session",
    "close_session",
    "conclude_statement",
    "export_member",
    "get_attendance",
    "get_learning_report",
    "get_output",
    "get_session_view",
    "health",
    "hold_session",
    "list_outputs",
    "list_registrations",
    "list_sessions",
    "member_changed",
    "member_erased",
    "membership_joined",
    "membership_left",
    "network_changed",
    "publish_output",
    "record_attendance",
    "record_reflection",
    "register_for_session",
    "reschedule_session",
    "retract_output",
    "schedule_session",
]
