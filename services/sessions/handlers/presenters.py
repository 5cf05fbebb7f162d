"""Domain objects to views."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from services.common.caller import Caller
from services.common.catalogue import Attribution
from services.common.vocabulary import author_role
from services.sessions.domain import access
from services.sessions.domain.outputs import Output, attribution
from services.sessions.domain.participation import Registration, RegistrationStatus, perspective_counts
from services.sessions.domain.planning import Contribution
from services.sessions.domain.read_models import Person
from services.sessions.domain.session import Session
from services.sessions.schemas.views import (
    AttendanceOut,
    AuthorOut,
    ConclusionOut,
    ContributionOut,
    OutputOut,
    OutputTombstone,
    RegistrationOut,
    RescheduleOut,
    SessionOut,
)


def session_view(session: Session, caller: Caller, people: dict[str, Person]) -> SessionOut:
    """The session as ``caller`` may see it: the meeting link and the tables' conclusions only for the people
    inside its network, its contributors as authors of outputs appear (``people``: the contributors this
    service knows), and the caller's own registration."""
    statuses = [r.status for r in session.registrations.values()]
    meeting_url = session.meeting_url if access.sees_meeting_url(caller, session.network_id) else None
    conclusions = conclusion_views(session) if access.sees_conclusions(caller, session.network_id) else []
    inside = access.reads_as_inside(caller, session.network_id)
    mine = session.registrations.get(caller.member_id) if caller.member_id else None
    return SessionOut(
        id=session.id, network_id=session.network_id, title=session.title, format=session.format,
        mode=session.mode, location=session.location, meeting_url=meeting_url,
        starts_at=session.starts_at, ends_at=session.ends_at, capacity=session.capacity, agenda=session.agenda,
        contributions=[contribution_view(c, people, inside_network=inside) for c in session.contributions],
        statements=session.statements, conclusions=conclusions, status=session.status, revision=session.revision,
        cancel_reason=session.cancel_reason,
        reschedules=[RescheduleOut.model_validate(r) for r in session.reschedules],
        registered_count=statuses.count(RegistrationStatus.REGISTERED),
        waitlisted_count=statuses.count(RegistrationStatus.WAITLISTED),
        attendee_count=len(session.attendance) if session.attendance_revision else None,
        created_at=session.created_at, updated_at=session.updated_at,
        my_registration=mine.status if mine else None,
    )


def contribution_view(contribution: Contribution, people: dict[str, Person], *,
                      inside_network: bool) -> ContributionOut:
    author = author_view(attribution(people.get(contribution.member_id) or Person.unknown(contribution.member_id),
                                     inside_network), inside_network)
    return ContributionOut(member_id=author.member_id, shown_as=author.shown_as, named=author.named,
                           topic=contribution.topic, role=author.role)


def contributors(sessions: Iterable[Session]) -> set[str]:
    """The member ids a page of sessions needs to present its contributions."""
    return {c.member_id for s in sessions for c in s.contributions}


def conclusion_views(session: Session) -> list[ConclusionOut]:
    return [ConclusionOut(session_id=session.id, statement=number, statement_text=session.statements[number - 1],
                          conclusion=c.text, concluded_at=c.concluded_at)
            for number, c in sorted(session.conclusions.items())]


def registration_view(session: Session, registration: Registration) -> RegistrationOut:
    return RegistrationOut(
        session_id=session.id, member_id=registration.member_id, status=registration.status,
        prepared=registration.prepared, unprepared=registration.unprepared,
        waitlist_position=session.waitlist_position(registration.member_id),
        registered_at=registration.registered_at, cancelled_at=registration.cancelled_at,
    )


def attendance_view(session: Session) -> AttendanceOut:
    return AttendanceOut(
        session_id=session.id, revision=session.attendance_revision,
        member_ids=[a.member_id for a in session.attendance], attendee_count=len(session.attendance),
        perspective_counts=perspective_counts(a.perspectives for a in session.attendance),
        recorded_at=session.attendance_recorded_at,
    )


def author_view(author: Attribution, inside_network: bool) -> AuthorOut:
    return AuthorOut(member_id=author.member_id if inside_network else None, shown_as=author.shown_as,
                     named=author.named, role=author_role(author.shown_as, author.named))


def output_view(output: Output, people: dict[str, Person], *, inside_network: bool) -> OutputOut | OutputTombstone:
    """A retracted output shows only as a tombstone; authors appear as consent allows for this reader."""
    if output.retracted_at is not None:
        return OutputTombstone(id=output.id, retracted_at=output.retracted_at)
    return OutputOut(
        id=output.id, session_id=output.session_id, network_id=output.network_id, kind=output.kind,
        title=output.title, body=output.body, url=output.url, resource_type=output.resource_type,
        themes=output.themes, visibility=output.visibility, licence=output.licence,
        authors=[author_view(attribution(people.get(m) or Person.unknown(m), inside_network), inside_network)
                 for m in output.author_ids],
        published_at=output.published_at, statement=output.statement,
    )


def copy_view(copy: dict[str, Any]) -> OutputOut | OutputTombstone:
    """A copy as a feed holds it (the federation service's JSON): authors as they may be shown outside the
    output's network, never with a member id; a retracted one as its tombstone."""
    if copy.get("retracted"):
        return OutputTombstone(id=copy["output_id"], retracted_at=copy["retracted_at"])
    return OutputOut(
        id=copy["output_id"], session_id=copy.get("session_id"), network_id=copy["origin_network_id"],
        kind=copy["kind"], title=copy["title"], body=copy["body"], url=copy.get("url"),
        resource_type=copy.get("resource_type"), themes=copy["themes"], visibility=copy["visibility"],
        licence=copy["licence"], published_at=copy["published_at"],
        authors=[AuthorOut(member_id=None, shown_as=a["shown_as"], named=a["named"],
                           role=author_role(a["shown_as"], a["named"])) for a in copy["authors"]],
    )
