"""An event effect applied as the kit's ``event_handler`` applies it: once per event id for its consumer."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from services.common.events import Envelope
from services.common.uow import AbstractUnitOfWork, apply_once


def consume(effect: Callable[[Any, Any], None], envelope: Envelope, payload: Any, uow: AbstractUnitOfWork,
            consumer: str) -> bool:
    """Whether the effect ran (False: the consumer had this event already)."""
    return apply_once(uow, envelope.id, consumer, lambda u: effect(payload, u))


class RemembersConsumedEvents:
    """For in-memory fakes of a unit of work: ``begin_consuming`` as the kit's processed-events table answers it,
    True the first time a consumer takes an event and False after. The fake keeps ``processed`` in its state
    (so a rollback forgets what the transaction took)."""

    processed: set[tuple[str, str]]

    def begin_consuming(self, event_id: uuid.UUID, consumer: str) -> bool:
        key = (str(event_id), consumer)
        if key in self.processed:
            return False
        self.processed.add(key)
        return True
