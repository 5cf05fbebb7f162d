"""The ``kring.v1`` enums and Kring's vocabulary, both directions: for every process that speaks the partner API
(the gateway serving it, the federation relay calling another instance's).

Proto enum values are the vocabulary's values with the enum's prefix, upper-cased: ``OUTPUT_KIND_LESSON`` is
``lesson``, ``SESSION_MODE_IN_PERSON`` is ``in_person``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TypeVar, cast

from google.protobuf.internal.enum_type_wrapper import EnumTypeWrapper

V = TypeVar("V", bound=int)  # a proto enum (``pb.OutputKind``), which the generated stubs declare an int class


def enum_prefix(enum_type: EnumTypeWrapper) -> str:
    return enum_type.Name(0).removesuffix("UNSPECIFIED")


def enum_number(enum_type: type[V], value: str | None) -> V:
    """``"lesson"`` → ``OUTPUT_KIND_LESSON``; None → UNSPECIFIED. A value the proto lacks is a bug (ValueError).

    Typed as the enum, so that it can be given to a message's field of that enum."""
    # The stubs declare the enum a class with EnumTypeWrapper for metaclass; at run time it is that wrapper.
    number = 0 if value is None else _enum_number(cast(EnumTypeWrapper, enum_type), str(value))
    # ... and a field of the enum's type is a plain int at run time: its members are ints.
    return cast(V, number)


@lru_cache(maxsize=1024)
def _enum_number(enum_type: EnumTypeWrapper, value: str) -> int:
    """Every feed item converts several enums: the name arithmetic is done once per value, not per item."""
    return enum_type.Value(enum_prefix(enum_type) + value.upper())


def enum_text(enum_type: EnumTypeWrapper, number: int) -> str:
    """``OUTPUT_KIND_LESSON`` → ``"lesson"``. ValueError for a number the proto does not define."""
    return enum_type.Name(number).removeprefix(enum_prefix(enum_type)).lower()
