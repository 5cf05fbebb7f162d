"""Building blocks for request models shared by the services."""

from __future__ import annotations

from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError


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
