"""The correlation id a request arrives with, at either edge (``x-correlation-id`` in HTTP headers and gRPC
metadata alike)."""

from __future__ import annotations

import re
import uuid

CORRELATION_HEADER = "x-correlation-id"
# Accept a caller's id only if it is short and plain: it ends up in every log line of every service.
_VALID_CORRELATION_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def incoming_correlation_id(value: str | None) -> str:
    """The caller's id when it is acceptable, a new one otherwise."""
    if value and _VALID_CORRELATION_ID.match(value):
        return value
    return uuid.uuid4().hex
