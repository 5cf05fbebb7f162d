"""Child processes for tests of the supervisor: small Python programs run by the interpreter running the tests."""

from __future__ import annotations

import sys


def python(code: str) -> list[str]:
    """The command line that runs ``code`` in a new process of this interpreter."""
    return [sys.executable, "-c", code]
