"""An event effect applied as the kit's ``event_handler`` applies it: once per event id for its consumer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from services.common.events import Envelope
from services.common.uow import AbstractUnitOfWork, apply_once


def consume(effect: Callable[[Any, Any], None], envelope: Envelope, payload: Any, uow: AbstractUnitOfWork,
            consumer: str) -> bool:
    """Whether the effect ran (False: the consumer had this event already)."""
    return apply_once(uow, envelope.id, consumer, lambda u: effect(payload, u))
