"""Command, query and event handlers: load through the unit of work, apply the domain, commit."""

from services.sessions.handlers.events import member_changed, membership_joined, membership_left, network_changed
from services.sessions.handlers.loops import (
    bring_question,
    change_mandate,
    close_loop,
    follow_up_experiment,
    get_loop,
    list_loops,
    open_question,
    start_experiment,
)
from services.sessions.handlers.outputs import (
    get_output,
    list_outputs,
    publish_output,
    retract_output,
)
from services.sessions.handlers.privacy import export_member, member_erased
from services.sessions.handlers.reflections import get_learning_report, list_reflections, record_reflection
from services.sessions.handlers.registrations import (
    cancel_registration,
    get_attendance,
    get_registration,
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
    "bring_question",
    "cancel_registration",
    "cancel_session",
    "change_mandate",
    "close_loop",
    "close_session",
    "conclude_statement",
    "export_member",
    "follow_up_experiment",
    "get_attendance",
    "get_learning_report",
    "get_loop",
    "get_output",
    "get_registration",
    "get_session_view",
    "health",
    "hold_session",
    "list_loops",
    "list_outputs",
    "list_reflections",
    "list_registrations",
    "list_sessions",
    "member_changed",
    "member_erased",
    "membership_joined",
    "membership_left",
    "network_changed",
    "open_question",
    "publish_output",
    "record_attendance",
    "record_reflection",
    "register_for_session",
    "reschedule_session",
    "retract_output",
    "schedule_session",
    "start_experiment",
]
