"""Reflections of members after a session, and the learning report that counts them with the rest."""

from __future__ import annotations

import uuid

from services.common.caller import Caller, require
from services.common.errors import PermissionDenied, ValidationFailed
from services.sessions.domain import access
from services.sessions.domain.lifecycle import Action
from services.sessions.domain.reflections import Reflection
from services.sessions.domain.reports import Period, learning_report
from services.sessions.handlers.common import ensure_network_members, get_outline, known_network, now
from services.sessions.ports import Directory, SessionsUoW
from services.sessions.schemas.commands import LearningReportQuery, ListReflections, RecordReflection
from services.sessions.schemas.views import LearningReportOut, ReflectionOut, ReflectionPage


def record_reflection(caller: Caller, cmd: RecordReflection, uow: SessionsUoW, directory: Directory) -> ReflectionOut:
    require(access.can_record_reflection(caller), "reflections are personal: a member records their own")
    member_id = caller.member_id
    assert member_id is not None
    with uow:
        session = get_outline(uow, cmd.session_id)
        require(access.can_reflect_on(caller, session.network_id), "you reflect on sessions of your own networks only")
        session.ensure_allowed(Action.REFLECT)
        try:
            ensure_network_members(uow, directory, session.network_id, [("member_id", member_id)])
        except ValidationFailed:  # the member is the caller: outside the network is a matter of permission
            raise PermissionDenied("you reflect on sessions of your own networks only") from None
        reflection = Reflection.record(str(uuid.uuid4()), session, member_id, cmd.kind, cmd.text, now=now())
        uow.reflections.add(reflection)
        uow.commit()
        return ReflectionOut.model_validate(reflection)


def list_reflections(caller: Caller, query: ListReflections, uow: SessionsUoW) -> ReflectionPage:
    """A person's own reflections, newest first. A read, not an export: nothing is audited (the export, which
    copies everything held about a person, is)."""
    member_id = query.member_id or caller.member_id
    if member_id is None:  # the operator token is no person: it must say whose
        require(caller.operator, "reflections are personal: you read your own")
        raise ValidationFailed.single("member_id", "required", "the operator names the member whose reflections "
                                                               "to read")
    require(access.reads_reflections_of(caller, member_id), "reflections are personal: you read your own")
    with uow:
        found, token = uow.reflections.page_of_member(member_id, query.page_size, query.page_token)
        return ReflectionPage(items=[ReflectionOut.model_validate(r) for r in found], next_page_token=token)


def get_learning_report(caller: Caller, network_id: str, query: LearningReportQuery, uow: SessionsUoW,
                        directory: Directory) -> LearningReportOut:
    require(access.staffs(caller, network_id), access.NOT_STAFF)
    period = Period.of(query.period_from, query.period_to, now=now())
    with uow:
        known_network(uow, directory, network_id)
        report = learning_report(
            network_id, period,
            held=uow.sessions.held_between(network_id, period.start, period.end),
            output_kinds=uow.outputs.kinds_published_between(network_id, period.start, period.end),
            reflection_kinds=uow.reflections.kinds_between(network_id, period.start, period.end),
            loops=uow.loops.touching(network_id, period.start, period.end),
            language=query.language,
        )
        return LearningReportOut.model_validate(report)
