"""Registering for a session, the waitlist, and recording who attended."""

from __future__ import annotations

from services.common.caller import Caller, require
from services.common.errors import ValidationFailed
from services.sessions.domain import access
from services.sessions.domain.lifecycle import Action
from services.sessions.domain.participation import Attendee
from services.sessions.handlers.common import ensure_network_members, get_session, known_network, now, people_facts
from services.sessions.handlers.presenters import attendance_view, registration_view
from services.sessions.ports import Directory, SessionsUoW
from services.sessions.schemas.commands import RecordAttendance, RegisterForSession
from services.sessions.schemas.views import AttendanceOut, RegistrationList, RegistrationOut


def register_for_session(caller: Caller, session_id: str, member_id: str | None, cmd: RegisterForSession,
                         uow: SessionsUoW, directory: Directory) -> RegistrationOut:
    """``member_id``: whom to register; None registers the caller."""
    member_id = member_id or caller.member_id
    if member_id is None:
        raise ValidationFailed.single("member_id", "required", "the operator names the member to register")
    with uow:
        session = get_session(uow, session_id, for_update=True)
        require(access.can_register_for_session(caller, session.network_id, member_id),
                "you register yourself for sessions of your own networks only")
        session.ensure_allowed(Action.REGISTER)
        network = known_network(uow, directory, session.network_id)
        if member_id not in session.registered_ids():  # registering again needs no second check
            ensure_network_members(uow, directory, session.network_id, [("member_id", member_id)])
        registration, changed = session.register(member_id, cmd.prepared, network.preparation_rule(), now=now())
        if changed:
            uow.sessions.save(session)
        uow.commit()  # also keeps what the members service told us
        return registration_view(session, registration)


def cancel_registration(caller: Caller, session_id: str, member_id: str, uow: SessionsUoW) -> RegistrationOut:
    with uow:
        session = get_session(uow, session_id, for_update=True)
        require(access.can_cancel_registration(caller, session.network_id, member_id),
                "you cancel your own registrations only")
        registration, changed = session.cancel_registration(member_id, now=now())
        if changed:
            uow.sessions.save(session)
            uow.commit()
        return registration_view(session, registration)


def get_registration(caller: Caller, session_id: str, member_id: str, uow: SessionsUoW) -> RegistrationOut:
    """One member's registration: a seat, the waitlist (with the place in it) or cancelled; 404 when the member
    never registered."""
    with uow:
        session = get_session(uow, session_id)
        require(access.can_read_registration(caller, session.network_id, member_id),
                "you read your own registrations only")
        return registration_view(session, session.registration_of(member_id))


def list_registrations(caller: Caller, session_id: str, uow: SessionsUoW) -> RegistrationList:
    with uow:
        session = get_session(uow, session_id)
        require(access.staffs(caller, session.network_id), access.NOT_STAFF)
        ordered = sorted(session.registrations.values(), key=lambda r: r.position)
        return RegistrationList(session_id=session.id, capacity=session.capacity,
                                items=[registration_view(session, r) for r in ordered])


def record_attendance(caller: Caller, session_id: str, cmd: RecordAttendance, uow: SessionsUoW,
                      directory: Directory) -> AttendanceOut:
    """Attendees must have registered or be members of the network. Their perspectives are copied now, so a
    later change of profile does not rewrite who was in the room."""
    with uow:
        session = get_session(uow, session_id, for_update=True)
        require(access.staffs(caller, session.network_id), access.NOT_STAFF)
        session.ensure_allowed(Action.RECORD_ATTENDANCE)
        registered = session.registered_ids()
        unregistered = [(f"member_ids.{i}", m) for i, m in enumerate(cmd.member_ids) if m not in registered]
        people = ensure_network_members(uow, directory, session.network_id, unregistered)
        people |= people_facts(uow, directory, [m for m in cmd.member_ids if m not in people])
        session.record_attendance([Attendee(m, people[m].perspectives) for m in cmd.member_ids], now=now())
        uow.sessions.save(session)
        uow.commit()
        return attendance_view(session)


def get_attendance(caller: Caller, session_id: str, uow: SessionsUoW) -> AttendanceOut:
    with uow:
        session = get_session(uow, session_id)
        require(access.staffs(caller, session.network_id), access.NOT_STAFF)
        return attendance_view(session)
