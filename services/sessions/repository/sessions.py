"""Sessions with their contributions, reschedules, registrations and attendance."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, Connection, RowMapping, delete, insert, select, union, update

from services.common.uow import TrackingRepository
from services.common.vocabulary import Perspective, SessionFormat, SessionMode, SessionStatus
from services.sessions.domain.participation import Attendee, Registration, RegistrationStatus
from services.sessions.domain.planning import Contribution
from services.sessions.domain.session import Conclusion, Reschedule, Session, SessionOutline
from services.sessions.models import attendance, contributions, registrations, reschedules, sessions
from services.sessions.repository.paging import decode_page_token, encode_page_token
from services.sessions.repository.rows import after_key, grouped, utc, utc_or_none
from services.sessions.schemas.commands import ListSessions

HELD_OR_CLOSED = (SessionStatus.HELD.value, SessionStatus.CLOSED.value)


class SessionRepository(TrackingRepository):
    def __init__(self, connection: Connection) -> None:
        super().__init__()
        self.connection = connection

    def get(self, session_id: str, *, for_update: bool = False) -> Session | None:
        """``for_update`` locks the row until commit, so concurrent registrations cannot overbook."""
        query = select(sessions).where(sessions.c.id == session_id)
        if for_update:
            query = query.with_for_update()
        row = self.connection.execute(query).mappings().first()
        return self._track(self._load([row])[0]) if row else None

    def outline(self, session_id: str) -> SessionOutline | None:
        """One row's few columns: no children are read, however many registrations the session has."""
        row = self.connection.execute(
            select(sessions.c.id, sessions.c.network_id, sessions.c.status, sessions.c.statements)
            .where(sessions.c.id == session_id)
        ).mappings().first()
        if row is None:
            return None
        return SessionOutline(id=row["id"], network_id=row["network_id"], status=SessionStatus(row["status"]),
                              statements=tuple(row["statements"]))

    def add(self, session: Session) -> None:
        self.connection.execute(insert(sessions).values(**self._row(session)))
        self._write_children(session)
        self._track(session)

    def save(self, session: Session) -> None:
        self.connection.execute(update(sessions).where(sessions.c.id == session.id).values(**self._row(session)))
        for child in (contributions, reschedules, registrations, attendance):
            self.connection.execute(delete(child).where(child.c.session_id == session.id))
        self._write_children(session)

    def page(self, query: ListSessions) -> tuple[list[Session], str | None]:
        """Sessions matching every given filter, ordered by (starts_at, id), keyset-paged."""
        conditions: list[ColumnElement[bool]] = []
        if query.network_id:
            conditions.append(sessions.c.network_id == query.network_id)
        if query.status:
            conditions.append(sessions.c.status == query.status.value)
        if query.starts_from:
            conditions.append(sessions.c.starts_at >= query.starts_from)
        if query.starts_before:
            conditions.append(sessions.c.starts_at < query.starts_before)
        if query.page_token:
            conditions.append(after_key(sessions.c.starts_at, sessions.c.id, decode_page_token(query.page_token)))
        rows = self.connection.execute(
            select(sessions).where(*conditions).order_by(sessions.c.starts_at, sessions.c.id)
            .limit(query.page_size + 1)
        ).mappings().all()
        page = self._load(rows[: query.page_size])
        more = len(rows) > query.page_size
        return page, encode_page_token(page[-1].starts_at, page[-1].id) if more else None

    def held_between(self, network_id: str, start: datetime, end: datetime) -> list[Session]:
        rows = self.connection.execute(
            select(sessions).where(sessions.c.network_id == network_id, sessions.c.status.in_(HELD_OR_CLOSED),
                                   sessions.c.starts_at >= start, sessions.c.starts_at < end)
            .order_by(sessions.c.starts_at, sessions.c.id)
        ).mappings().all()
        return self._load(rows)

    def involving(self, member_id: str) -> list[Session]:
        """Sessions the member registered for, attended or contributed to."""
        ids = union(*(select(t.c.session_id).where(t.c.member_id == member_id)
                      for t in (registrations, attendance, contributions)))
        rows = self.connection.execute(
            select(sessions).where(sessions.c.id.in_(select(ids.subquery().c.session_id)))
            .order_by(sessions.c.starts_at, sessions.c.id)
        ).mappings().all()
        return self._load(rows)

    def _load(self, rows: Sequence[RowMapping]) -> list[Session]:
        ids = [row["id"] for row in rows]
        children = {
            table.name: grouped(self.connection.execute(
                select(table).where(table.c.session_id.in_(ids)).order_by(*order)
            ).mappings(), "session_id")
            for table, order in ((contributions, [contributions.c.position]),
                                 (reschedules, [reschedules.c.position]),
                                 (registrations, [registrations.c.position]),
                                 (attendance, [attendance.c.member_id]))
        } if ids else {}
        return [self._session(row, {name: found.get(row["id"], []) for name, found in children.items()})
                for row in rows]

    @staticmethod
    def _session(row: RowMapping, children: dict[str, list[RowMapping]]) -> Session:
        return Session(
            id=row["id"], network_id=row["network_id"], title=row["title"], format=SessionFormat(row["format"]),
            mode=SessionMode(row["mode"]), location=row["location"], meeting_url=row["meeting_url"],
            starts_at=utc(row["starts_at"]), ends_at=utc(row["ends_at"]), capacity=row["capacity"],
            agenda=row["agenda"], statements=list(row["statements"]), status=SessionStatus(row["status"]),
            revision=row["revision"], cancel_reason=row["cancel_reason"], created_at=utc(row["created_at"]),
            updated_at=utc(row["updated_at"]), attendance_revision=row["attendance_revision"],
            attendance_recorded_at=utc_or_none(row["attendance_recorded_at"]),
            conclusions={int(number): Conclusion(c["text"], utc(datetime.fromisoformat(c["concluded_at"])))
                         for number, c in (row["statement_conclusions"] or {}).items()},
            contributions=[Contribution(c["member_id"], c["topic"]) for c in children["session_contributions"]],
            reschedules=[
                Reschedule(utc(r["previous_starts_at"]), utc(r["previous_ends_at"]), utc(r["starts_at"]),
                           utc(r["ends_at"]), r["reason"], utc(r["rescheduled_at"]))
                for r in children["session_reschedules"]
            ],
            registrations={
                r["member_id"]: Registration(r["member_id"], RegistrationStatus(r["status"]), r["prepared"],
                                             r["unprepared"], r["position"], utc(r["registered_at"]),
                                             utc_or_none(r["cancelled_at"]))
                for r in children["registrations"]
            },
            attendance=[Attendee(a["member_id"], tuple(Perspective(p) for p in a["perspectives"]))
                        for a in children["attendance"]],
        )

    @staticmethod
    def _row(session: Session) -> dict[str, object]:
        return {
            "id": session.id, "network_id": session.network_id, "title": session.title,
            "format": session.format.value, "mode": session.mode.value, "location": session.location,
            "meeting_url": session.meeting_url, "starts_at": session.starts_at, "ends_at": session.ends_at,
            "capacity": session.capacity, "agenda": session.agenda, "statements": session.statements,
            "status": session.status.value, "revision": session.revision,
            "attendance_revision": session.attendance_revision,
            "attendance_recorded_at": session.attendance_recorded_at, "cancel_reason": session.cancel_reason,
            "statement_conclusions": {str(number): {"text": c.text, "concluded_at": c.concluded_at.isoformat()}
                                      for number, c in session.conclusions.items()},
            "created_at": session.created_at, "updated_at": session.updated_at,
        }

    def _write_children(self, session: Session) -> None:
        sid = session.id
        batches = (
            (contributions, [{"session_id": sid, "position": i, "member_id": c.member_id, "topic": c.topic}
                             for i, c in enumerate(session.contributions)]),
            (reschedules, [{"session_id": sid, "position": i, "previous_starts_at": r.previous_starts_at,
                            "previous_ends_at": r.previous_ends_at, "starts_at": r.starts_at, "ends_at": r.ends_at,
                            "reason": r.reason, "rescheduled_at": r.rescheduled_at}
                           for i, r in enumerate(session.reschedules)]),
            (registrations, [{"session_id": sid, "member_id": r.member_id, "status": r.status.value,
                              "prepared": r.prepared, "unprepared": r.unprepared, "position": r.position,
                              "registered_at": r.registered_at, "cancelled_at": r.cancelled_at}
                             for r in session.registrations.values()]),
            (attendance, [{"session_id": sid, "member_id": a.member_id,
                           "perspectives": [p.value for p in a.perspectives]} for a in session.attendance]),
        )
        for table, rows in batches:
            if rows:
                self.connection.execute(insert(table), rows)
