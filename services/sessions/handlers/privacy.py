"""The member's rights: an export of what this service holds about them, and erasure."""

from __future__ import annotations

from services.common.caller import Caller, require
from services.common.catalogue import MemberErased
from services.sessions.domain import access
from services.sessions.domain.read_models import erased_updates, new_pseudonym
from services.sessions.handlers.attribution import outputs_authored_by, reattribute
from services.sessions.handlers.common import now
from services.sessions.handlers.presenters import registration_view
from services.sessions.ports import SessionsUoW
from services.sessions.schemas.views import (
    AuthorshipOut,
    LearningLoopOut,
    ReflectionOut,
    SessionInvolvement,
    SessionsMemberExport,
)


def export_member(caller: Caller, member_id: str, uow: SessionsUoW) -> SessionsMemberExport:
    require(access.owns_personal_data(caller, member_id), "only the member or the operator may export")
    with uow:
        sessions = [
            SessionInvolvement(
                session_id=s.id, network_id=s.network_id, title=s.title, starts_at=s.starts_at, status=s.status,
                registration=registration_view(s, s.registrations[member_id]) if member_id in s.registrations
                else None,
                attended=any(a.member_id == member_id for a in s.attendance),
                contributed_topics=[c.topic for c in s.contributions if c.member_id == member_id],
            )
            for s in uow.sessions.involving(member_id)
        ]
        authorship = [
            AuthorshipOut(output_id=o.id, session_id=o.session_id, title=o.title, kind=o.kind,
                          published_at=o.published_at, retracted_at=o.retracted_at)
            for o in uow.outputs.by_author(member_id)
        ]
        reflections = [ReflectionOut.model_validate(r) for r in uow.reflections.by_member(member_id)]
        loops = [LearningLoopOut.model_validate(lo) for lo in uow.loops.by_owner(member_id)]
        return SessionsMemberExport(member_id=member_id, exported_at=now(), sessions=sessions,
                                    authorship=authorship, reflections=reflections, learning_loops=loops)


def member_erased(payload: MemberErased, uow: SessionsUoW) -> None:
    """Pseudonymise the member everywhere: one fresh pseudonym per erasure, reflection texts deleted.

    Counts stay right because rows are re-pointed, not deleted. Running it again finds nothing left to
    re-point, so it is idempotent even past the kit's processed-event record. Every published, not retracted
    output they authored then announces its authors anew: the pseudonym appears as "a former member" in every
    copy (the federation service also rewrites copies on ``member.erased``; both paths end in the same copy).
    """
    person, ended = erased_updates(uow.read_models.person(payload.member_id),
                                   uow.read_models.memberships_of(payload.member_id), payload)
    uow.read_models.put_person(person)
    for record in ended:
        uow.read_models.put_membership(record)
    authored = outputs_authored_by(uow, payload.member_id)
    uow.privacy.pseudonymise(payload.member_id, new_pseudonym())
    reattribute(uow, authored)
    uow.forget_answers_about(payload.member_id)
