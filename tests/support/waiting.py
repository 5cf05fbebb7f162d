"""The one bounded wait of the test suite: poll until an answer is acceptable, or fail saying what was awaited.

Events travel between services asynchronously, so many tests must wait for an effect to show. Every layer
waits with this (integration under eventlet's monkey patching, where ``time.sleep`` yields to other green
threads), so that a wait that runs out always names what it waited for and the last answer it saw.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

ARRIVAL = 20.0  # seconds: long enough for an event to travel its chain on a healthy machine


def eventually(probe: Callable[[], Any], what: str, timeout: float = ARRIVAL, *,
               accept: Callable[[Any], Any] = bool, interval: float = 0.1) -> Any:
    """``probe()``'s first answer that ``accept`` holds for (by default: the first truthy one).

    Fails the test with ``what`` and the last answer when none came within ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    while True:
        answer = probe()
        if accept(answer):
            return answer
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout:g} s; last answer: {_short(answer)}")
        time.sleep(interval)


def _short(answer: Any, limit: int = 500) -> str:
    shown = repr(answer)
    return shown if len(shown) <= limit else f"{shown[:limit]}... ({len(shown)} characters)"
