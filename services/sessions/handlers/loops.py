"""The action-learning loop: a member opens a learning question, brings it to a session, leaves with an experiment
(and their mandate for it), reports back at a later session, and the loop closes, naming what it produced.

The owner and their network's coordinators and facilitators move a loop; who reads it is
:func:`services.sessions.domain.access.sees_loop`. Sessions and outputs named in a request are checked here and
refused as a 422 naming the field.
"""

from __future__ import annotations

import uuid

from services.common.caller import Caller, require
from services.common.errors import NotFound, PermissionDenied, ValidationFailed
from services.common.vocabulary import MembershipRole
from services.sessions.domain import access
from services.sessions.domain.loops import LearningLoop
from services.sessions.domain.outputs import Output
from services.sessions.domain.session import Session
from services.sessions.handlers.common import ensure_network_members, known_network, now
from services.sessions.ports import Directory, SessionsUoW
from services.sessions.schemas.commands import (
    BringQuestion,
    ChangeMandate,
    CloseLoop,
    FollowUpExperiment,
    ListLearningQuestions,
    OpenLearningQuestion,
    StartExperiment,
)
from services.sessions.schemas.views import LearningLoopOut, LearningLoopPage

NOT_INSIDE = "you open learning questions in your own networks only"


def open_question(caller: Caller, cmd: OpenLearningQuestion, uow: SessionsUoW, directory: Directory) -> LearningLoopOut:
    require(access.can_open_question(caller, cmd.network_id), NOT_INSIDE)
    member_id = caller.member_id
    assert member_id is not None
    with uow:
        known_network(uow, directory, cmd.network_id, must_be_active=True)
        try:
            ensure_network_members(uow, directory, cmd.network_id, [("member_id", member_id)])
        except ValidationFailed:  # the owner is the caller: outside the network is a matter of permission
            raise PermissionDenied(NOT_INSIDE) from None
        loop = LearningLoop.open(str(uuid.uuid4()), cmd.network_id, member_id, _role(caller, cmd.network_id),
                                 cmd.question, cmd.urgency, cmd.shared_with_network, now=now())
        uow.loops.add(loop)
        uow.commit()
        return LearningLoopOut.model_validate(loop)


def bring_question(caller: Caller, loop_id: str, cmd: BringQuestion, uow: SessionsUoW) -> LearningLoopOut:
    with uow:
        loop = _loop_to_work_on(caller, uow, loop_id)
        loop.bring_to(_session(uow, cmd.session_id), now=now())
        return _saved(uow, loop)


def start_experiment(caller: Caller, loop_id: str, cmd: StartExperiment, uow: SessionsUoW) -> LearningLoopOut:
    with uow:
        loop = _loop_to_work_on(caller, uow, loop_id)
        session = _session(uow, cmd.session_id)
        brought_to = uow.sessions.get(loop.brought_to_session_id) if loop.brought_to_session_id else None
        loop.start_experiment(session, brought_to or session, cmd.experiment, cmd.mandate, now=now())
        return _saved(uow, loop)


def change_mandate(caller: Caller, loop_id: str, cmd: ChangeMandate, uow: SessionsUoW) -> LearningLoopOut:
    with uow:
        loop = _loop_to_work_on(caller, uow, loop_id)
        loop.change_mandate(cmd.mandate, now=now())
        return _saved(uow, loop)


def follow_up_experiment(caller: Caller, loop_id: str, cmd: FollowUpExperiment, uow: SessionsUoW) -> LearningLoopOut:
    with uow:
        loop = _loop_to_work_on(caller, uow, loop_id)
        loop.follow_up_at(_session(uow, cmd.session_id), cmd.what_happened, now=now())
        return _saved(uow, loop)


def close_loop(caller: Caller, loop_id: str, cmd: CloseLoop, uow: SessionsUoW) -> LearningLoopOut:
    with uow:
        loop = _loop_to_work_on(caller, uow, loop_id)
        loop.close(cmd.lesson, _output(uow, cmd.output_id) if cmd.output_id else None, now=now())
        return _saved(uow, loop)


def get_loop(caller: Caller, loop_id: str, uow: SessionsUoW) -> LearningLoopOut:
    with uow:
        loop = _get(uow, loop_id)
        require(access.sees_loop(caller, loop.network_id, loop.owner_id, loop.shared_with_network),
                access.LOOP_NOT_YOURS)
        return LearningLoopOut.model_validate(loop)


def list_loops(caller: Caller, query: ListLearningQuestions, uow: SessionsUoW) -> LearningLoopPage:
    """The network's staff see every loop; its other members their own and those shared with them; no one else."""
    require(caller.inside(query.network_id), "learning questions stay within their network")
    with uow:
        if access.staffs(caller, query.network_id):
            found, token = uow.loops.page(query, visible_to=None, shared=True)
        else:
            found, token = uow.loops.page(query, visible_to=caller.member_id or "", shared=True)
        return LearningLoopPage(items=[LearningLoopOut.model_validate(lo) for lo in found], next_page_token=token)


def _role(caller: Caller, network_id: str) -> MembershipRole:
    if network_id in caller.administers:
        return MembershipRole.COORDINATOR
    if network_id in caller.facilitates:
        return MembershipRole.FACILITATOR
    return MembershipRole.PARTICIPANT


def _get(uow: SessionsUoW, loop_id: str, *, for_update: bool = False) -> LearningLoop:
    loop = uow.loops.get(loop_id, for_update=for_update)
    if loop is None:
        raise NotFound(f"learning question {loop_id} not found")
    return loop


def _loop_to_work_on(caller: Caller, uow: SessionsUoW, loop_id: str) -> LearningLoop:
    loop = _get(uow, loop_id, for_update=True)
    require(access.works_on_loop(caller, loop.network_id, loop.owner_id),
            "a learning question is moved by its owner and their network's coordinators and facilitators")
    return loop


def _session(uow: SessionsUoW, session_id: str) -> Session:
    session = uow.sessions.get(session_id)
    if session is None:
        raise ValidationFailed.single("session_id", "known_session", f"no session {session_id}")
    return session


def _output(uow: SessionsUoW, output_id: str) -> Output:
    output = uow.outputs.get(output_id)
    if output is None:
        raise ValidationFailed.single("output_id", "known_output", f"no output {output_id}")
    return output


def _saved(uow: SessionsUoW, loop: LearningLoop) -> LearningLoopOut:
    uow.loops.save(loop)
    uow.commit()
    return LearningLoopOut.model_validate(loop)
