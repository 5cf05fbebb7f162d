"""Scheduling and the life cycle of a session, and the queries on sessions."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from services.common.caller import Caller, require
from services.sessions.domain import access
from services.sessions.domain.planning import Contribution
from services.sessions.domain.session import Session
from services.sessions.handlers.common import get_session, known_network, now
from services.sessions.handlers.presenters import contributors, session_view
from services.sessions.ports import Directory, SessionsUoW
from services.sessions.schemas.commands import (
    CancelSession,
    ConcludeStatement,
    ListSessions,
    RescheduleSession,
    ScheduleSession,
)
from services.sessions.schemas.views import ConclusionOut, ServiceHealth, SessionOut, SessionPage


def schedule_session(caller: Caller, cmd: ScheduleSession, uow: SessionsUoW, directory: Directory) -> SessionOut:
    require(access.staffs(caller, cmd.network_id), access.NOT_STAFF)
    with uow:
        known_network(uow, directory, cmd.network_id, must_be_active=True)
        session = Session.schedule(
            str(uuid.uuid4()), now=now(), network_id=cmd.network_id, title=cmd.title, format=cmd.format,
            mode=cmd.mode, location=cmd.location, meeting_url=str(cmd.meeting_url) if cmd.meeting_url else None,
            starts_at=cmd.starts_at, ends_at=cmd.ends_at, capacity=cmd.capacity, agenda=cmd.agenda,
            contributions=[Contribution(c.member_id, c.topic) for c in cmd.contributions],
            statements=list(cmd.statements),
        )
        uow.sessions.add(session)
        uow.commit()
        return _view(uow, session, caller)


def reschedule_session(caller: Caller, session_id: str, cmd: RescheduleSession, uow: SessionsUoW) -> SessionOut:
    return _change(caller, uow, session_id, lambda s: s.reschedule(cmd.starts_at, cmd.ends_at, cmd.reason, now=now()))


def hold_session(caller: Caller, session_id: str, uow: SessionsUoW) -> SessionOut:
    return _change(caller, uow, session_id, lambda s: s.hold(now=now()))


def close_session(caller: Caller, session_id: str, uow: SessionsUoW) -> SessionOut:
    return _change(caller, uow, session_id, lambda s: s.close(now=now()))


def cancel_session(caller: Caller, session_id: str, cmd: CancelSession, uow: SessionsUoW) -> SessionOut:
    return _change(caller, uow, session_id, lambda s: s.cancel(cmd.reason, now=now()))


def get_session_view(caller: Caller, session_id: str, uow: SessionsUoW) -> SessionOut:
    with uow:
        return _view(uow, get_session(uow, session_id), caller)


def list_sessions(caller: Caller, query: ListSessions, uow: SessionsUoW) -> SessionPage:
    with uow:
        found, next_token = uow.sessions.page(query)
        people = uow.read_models.people(contributors(found))
        return SessionPage(items=[session_view(s, caller, people) for s in found], next_page_token=next_token)


def health(uow: SessionsUoW) -> ServiceHealth:
    with uow:
        uow.ping()
        return ServiceHealth(service="sessions", database="ok")


def _change(caller: Caller, uow: SessionsUoW, session_id: str, change: Callable[[Session], object]) -> SessionOut:
    with uow:
        session = get_session(uow, session_id, for_update=True)
        require(access.staffs(caller, session.network_id), access.NOT_STAFF)
        change(session)
        uow.sessions.save(session)
        uow.commit()
        return _view(uow, session, caller)


def _view(uow: SessionsUoW, session: Session, caller: Caller) -> SessionOut:
    return session_view(session, caller, uow.read_models.people(contributors([session])))


def conclude_statement(caller: Caller, session_id: str, number: int, cmd: ConcludeStatement,
                       uow: SessionsUoW) -> ConclusionOut:
    """A café's table concluded on statement ``number``: its coordinators or facilitators record it, while or
    after the session is held."""
    with uow:
        session = get_session(uow, session_id)
        require(access.staffs(caller, session.network_id), access.NOT_STAFF)
        conclusion = session.conclude_statement(number, cmd.conclusion, now=now())
        uow.sessions.save(session)
        uow.commit()
        return ConclusionOut(session_id=session.id, statement=number, statement_text=session.statements[number - 1],
                             conclusion=conclusion.text, concluded_at=conclusion.concluded_at)
