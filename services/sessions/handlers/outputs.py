"""Publishing, retracting and reading the outputs of sessions."""

from __future__ import annotations

import uuid

from services.common.caller import Caller, require
from services.common.errors import NotFound, PermissionDenied, ValidationFailed, violation
from services.sessions.domain import access
from services.sessions.domain.lifecycle import Action
from services.sessions.domain.outputs import Output
from services.sessions.handlers.common import ensure_network_members, get_outline, now
from services.sessions.handlers.presenters import copy_view, output_view
from services.sessions.ports import Directory, Feeds, SessionsUoW
from services.sessions.schemas.commands import ListOutputs, PublishOutput, RetractOutput
from services.sessions.schemas.views import OutputOut, OutputPage, OutputTombstone


def publish_output(caller: Caller, session_id: str, cmd: PublishOutput, uow: SessionsUoW,
                   directory: Directory) -> OutputOut:
    with uow:
        session = get_outline(uow, session_id)  # not the registrations: a café's hundreds on every publish
        require(access.staffs(caller, session.network_id), access.NOT_STAFF)
        session.ensure_allowed(Action.PUBLISH_OUTPUT)
        people = ensure_network_members(uow, directory, session.network_id,
                                        [(f"authors.{i}", a) for i, a in enumerate(cmd.authors)])
        output = Output.publish(
            str(uuid.uuid4()), session, [people[a] for a in cmd.authors], now=now(), kind=cmd.kind,
            title=cmd.title, body=cmd.body, url=str(cmd.url) if cmd.url else None, resource_type=cmd.resource_type,
            themes=list(cmd.themes), visibility=cmd.visibility, licence=cmd.licence, statement=cmd.statement,
        )
        uow.outputs.add(output)
        uow.commit()
        view = output_view(output, people, inside_network=True)
        assert isinstance(view, OutputOut)
        return view


def retract_output(caller: Caller, output_id: str, cmd: RetractOutput, uow: SessionsUoW) -> OutputTombstone:
    with uow:
        output = _get_output(uow, output_id)
        require(access.staffs(caller, output.network_id), access.NOT_STAFF)
        if output.retract(cmd.reason, now=now()):
            uow.outputs.save(output)
            uow.commit()
        assert output.retracted_at is not None
        return OutputTombstone(id=output.id, retracted_at=output.retracted_at)


def get_output(caller: Caller, output_id: str, uow: SessionsUoW, feeds: Feeds) -> OutputOut | OutputTombstone:
    """The output, for a reader inside its network or of a public one; otherwise as the copy a feed the reader may
    read holds (a linked or federation output delivered to their network, or a partner's or another instance's
    output there): who sees the feed item opens its output."""
    with uow:
        output = uow.outputs.get(output_id)
        if output is not None and access.may_read_output(caller, output.network_id, output.visibility):
            people = uow.read_models.people(output.author_ids)
            return output_view(output, people, inside_network=access.reads_as_inside(caller, output.network_id))
    held = feeds.held_copy(caller, output_id)
    if held is not None:
        return copy_view(held)
    if output is None:
        raise NotFound(f"output {output_id} not found")
    raise PermissionDenied(f"output {output_id} is not public, and no feed you read holds it",
                           [violation("output_id", "visible_to_reader", "shared only with other networks")])


def list_outputs(caller: Caller, query: ListOutputs, uow: SessionsUoW) -> OutputPage:
    """Outside its network only public outputs are listed (the page is filtered where it is read)."""
    if query.network_id is None and query.session_id is None:
        raise ValidationFailed.single("network_id", "network_or_session", "give a network_id or a session_id")
    with uow:
        found, next_token = uow.outputs.page(query, inside=None if caller.operator else caller.networks)
        people = uow.read_models.people({m for o in found for m in o.author_ids})
        return OutputPage(items=[output_view(o, people, inside_network=access.reads_as_inside(caller, o.network_id))
                                 for o in found], next_page_token=next_token)


def _get_output(uow: SessionsUoW, output_id: str) -> Output:
    output = uow.outputs.get(output_id)
    if output is None:
        raise NotFound(f"output {output_id} not found")
    return output
