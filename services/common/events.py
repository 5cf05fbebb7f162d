"""The event envelope and the registry behind the catalogue.

An event on the bus is one JSON object::

    {"id": uuid, "type": "member.registered", "version": 1, "occurred_at": iso-8601,
     "producer": "members", "correlation_id": "...", "payload": {...}}

``type`` + ``version`` select the payload model in :mod:`services.common.catalogue`. A consumer that meets
an unknown type or version, or a payload that does not validate, cannot process it: it goes to the
dead-letter queue with the reason (see :mod:`services.common.messaging`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from services.common.errors import ValidationFailed, from_pydantic


class EventPayload(BaseModel):
    """Base of every event payload. Subclasses are registered with :func:`event`."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    event_type: ClassVar[str]
    event_version: ClassVar[int]
    # The field naming whom the event is about (a member id): the outbox indexes it so that erasure can
    # remove earlier events carrying that person's data.
    subject_field: ClassVar[str | None] = None

    def subject(self) -> str | None:
        return getattr(self, self.subject_field) if self.subject_field else None


class Envelope(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: uuid.UUID
    type: str = Field(min_length=1, max_length=100)
    version: int = Field(ge=1)
    occurred_at: datetime
    producer: str = Field(min_length=1, max_length=50)
    correlation_id: str = Field(min_length=1, max_length=100)
    payload: dict[str, Any]

    def to_wire(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


_REGISTRY: dict[tuple[str, int], type[EventPayload]] = {}
P = TypeVar("P", bound=type[EventPayload])


def event(event_type: str, version: int = 1) -> Callable[[P], P]:
    """Class decorator: register a payload model as ``event_type`` at ``version``."""

    def register(cls: P) -> P:
        key = (event_type, version)
        if key in _REGISTRY:
            raise RuntimeError(f"event {event_type} v{version} registered twice")
        cls.event_type = event_type
        cls.event_version = version
        _REGISTRY[key] = cls
        return cls

    return register


def registered_events() -> dict[tuple[str, int], type[EventPayload]]:
    return dict(_REGISTRY)


def new_envelope(payload: EventPayload, *, producer: str, correlation_id: str | None = None) -> Envelope:
    return Envelope(
        id=uuid.uuid4(),
        type=payload.event_type,
        version=payload.event_version,
        occurred_at=datetime.now(UTC),
        producer=producer,
        correlation_id=correlation_id or uuid.uuid4().hex,
        payload=payload.model_dump(mode="json"),
    )


class UnprocessableEvent(ValidationFailed):
    """A message that no retry can fix: not an envelope, unknown type/version, or invalid payload."""

    code = "unprocessable_event"


def parse_event(body: Any) -> tuple[Envelope, EventPayload]:
    """Validate a message body into its envelope and typed payload, or raise UnprocessableEvent."""
    if not isinstance(body, dict):
        raise UnprocessableEvent(f"event body is {type(body).__name__}, not a JSON object")
    try:
        envelope = Envelope.model_validate(body)
    except ValidationError as exc:
        raise UnprocessableEvent(f"not an event envelope: {from_pydantic(exc).message}") from exc
    model = _REGISTRY.get((envelope.type, envelope.version))
    if model is None:
        raise UnprocessableEvent(f"unknown event {envelope.type} v{envelope.version}")
    try:
        return envelope, model.model_validate(envelope.payload)
    except ValidationError as exc:
        raise UnprocessableEvent(
            f"invalid payload for {envelope.type} v{envelope.version}: {from_pydantic(exc).message}"
        ) from exc
