"""Copies of an output that left its network show its authors as they were attributed when it was shared.
When that attribution changes (an author is erased, or changes their name or their consent to be named),
every published, not retracted output they authored announces its authors anew: ``output.attribution_changed``,
which the federation service applies to every copy."""

from __future__ import annotations

from collections.abc import Iterable

from services.sessions.handlers.common import now
from services.sessions.ports import SessionsUoW


def outputs_authored_by(uow: SessionsUoW, member_id: str) -> list[str]:
    return [output.id for output in uow.outputs.by_author(member_id) if not output.retracted]


def reattribute(uow: SessionsUoW, output_ids: Iterable[str]) -> int:
    """Record ``output.attribution_changed`` for each output, in this transaction; returns how many."""
    told = 0
    for output_id in output_ids:
        output = uow.outputs.get(output_id)  # loaded through the repository, so its event is collected
        if output is not None:
            told += output.reattribute(uow.read_models.people(output.author_ids), now=now())
    return told
