"""Names that no other test run has used, so tests can share one stack (and a database) without colliding."""

from __future__ import annotations

import uuid


def fresh_tag() -> str:
    """Eight hex characters, new on every call: a suffix for names, e-mail addresses and client ids."""
    return uuid.uuid4().hex[:8]
