"""The ``kring.v1`` enums and Kring's vocabulary, both directions: for every process that speaks the partner API
(the gateway serving it, the federation relay calling another instance's).

Proto enum values are the vocabulary's values with the enum's prefix, upper-cased: ``OUTPUT_KIND_LESSON`` is
``lesson``, ``SESSION_MODE_IN_PERSON`` is ``in_person``.
"""

from __future__ import annotations

from functools import lru_cache

from google.protobuf.internal.enum_type_wrapper import EnumTypeWrapper


def enum_prefix(enum_type: EnumTypeWrapper) -> str:
    return enum_type.Name(0).removesuffix("UNSPECIFIED")


def enum_number(enum_type: EnumTypeWrapper, value: str | None) -> int:
    """``"lesson"`` → ``OUTPUT_KIND_LESSON``; None → UNSPECIFIED. A value the proto lacks is a bug (ValueError)."""
    if value is None:
        return 0
    return _enum_number(enum_type, str(value))


@lru_cache(maxsize=1024)
def _enum_number(enum_type: EnumTypeWrapper, value: str) -> int:
    """Every feed item converts several enums: the name arithmetic is done once per value, not per item."""
    return enum_type.Value(enum_prefix(enum_type) + value.upper())


def enum_text(enum_type: EnumTypeWrapper, number: int) -> str:
    """``OUTPUT_KIND_LESSON`` → ``"lesson"``. ValueError for a number the proto does not define."""
    return enum_type.Name(number).removeprefix(enum_prefix(enum_type)).lower()
