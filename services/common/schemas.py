"""Building blocks for request models shared by the services.

Two kinds of value pass a plain ``str`` or ``datetime`` yet break further in, so every service refuses them in
its own commands, naming the field and the rule, whether or not the request came through the gateway (the
relay's entries from peer instances never do):

- a NUL character (U+0000) in text: PostgreSQL cannot store it (rule ``no_nul_character``);
- a time near the ends of the calendar (year 1 or 9999): converting it to UTC or adding a period to it
  overflows Python's datetime (rule ``time_in_range``).

The gateway's edge checks (``services/gateway/input_guard.py``) use the same limits, from here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Annotated, Any, ClassVar, Self, overload

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

NUL = "\x00"
NUL_RULE = "no_nul_character"
NUL_MESSAGE = "text may not contain the NUL character (U+0000)"
# Far from the ends of Python's calendar, so a period added or subtracted or a UTC offset cannot overflow,
# and wide enough for any real learning session.
EARLIEST = datetime(1000, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)
TIME_RULE = "time_in_range"
TIME_MESSAGE = "a date or time must fall between the years 1000 and 8999"


def refuse_nul(value: str) -> str:
    if NUL in value:
        raise PydanticCustomError(NUL_RULE, NUL_MESSAGE)
    return value


def time_in_range(value: datetime) -> datetime:
    """The time itself, range-checked before anything converts it (an aware one compares without overflow)."""
    if value.tzinfo is None or value.utcoffset() is None:
        inside = EARLIEST.replace(tzinfo=None) <= value < LATEST.replace(tzinfo=None)
    else:
        inside = EARLIEST <= value < LATEST
    if not inside:
        raise PydanticCustomError(TIME_RULE, TIME_MESSAGE)
    return value


def date_in_range(value: date) -> date:
    if not EARLIEST.year <= value.year < LATEST.year:
        raise PydanticCustomError(TIME_RULE, TIME_MESSAGE)
    return value


def _utc(value: datetime) -> datetime:
    return time_in_range(value).astimezone(UTC)


# Put ``NoNul`` after any StringConstraints: ``Annotated[str, StringConstraints(max_length=200), NoNul]``.
NoNul = AfterValidator(refuse_nul)
Text = Annotated[str, NoNul]
# An output's id: a session's output (a UUID) or a partner's or a peer's (longer): one type wherever an id is taken.
OutputId = Annotated[str, StringConstraints(min_length=1, max_length=100), NoNul]
# Times are compared and stored in UTC, whatever offset they came with.
UtcDatetime = Annotated[AwareDatetime, AfterValidator(_utc)]
# A time as another system sends it (with or without an offset), within the years Kring can compute with.
Timestamp = Annotated[datetime, AfterValidator(time_in_range)]
Date = Annotated[date, AfterValidator(date_in_range)]


class Command(BaseModel):
    """A request: unknown fields are an error, never silently dropped."""

    model_config = ConfigDict(extra="forbid")


class PartialUpdate(Command):
    """A change to some fields: only the fields present change; ``null`` clears an optional field, and is
    refused, naming the field, for one listed in ``non_nullable``."""

    non_nullable: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*", mode="before")
    @classmethod
    def _refuse_null(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name in cls.non_nullable:
            raise PydanticCustomError("not_null", "cannot be null; leave the field out to keep it")
        return value

    @model_validator(mode="after")
    def _something_to_change(self) -> Self:
        if not self.model_fields_set:
            raise PydanticCustomError("at_least_one_field", "give at least one field to change")
        return self

    def changes(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.model_fields_set}


@overload
def answer(result: BaseModel) -> dict[str, Any]: ...
@overload
def answer(result: Sequence[BaseModel]) -> list[dict[str, Any]]: ...
@overload
def answer(result: None) -> None: ...
def answer(result: BaseModel | Sequence[BaseModel] | None) -> dict[str, Any] | list[dict[str, Any]] | None:
    """A handler's result as the JSON an RPC entrypoint returns: a model an object, a list of models a list of
    objects, None stays None."""
    if result is None:
        return None
    if isinstance(result, BaseModel):
        return result.model_dump(mode="json")
    return [item.model_dump(mode="json") for item in result]
