"""Capped exponential backoff with jitter: how long the relay waits before trying a peer again."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    initial: float = 1.0  # seconds before the first retry
    cap: float = 60.0  # never longer than this
    multiplier: float = 2.0
    jitter: float = 0.5  # the share of each delay drawn at random, so peers retried together spread out

    def delay(self, failures: int, rand: Callable[[], float] = random.random) -> float:
        """The wait after ``failures`` consecutive failures (1 for the first): ``initial · multiplier^(n-1)``,
        capped, of which the last ``jitter`` share is drawn uniformly. Always in [(1 - jitter)·d, d], d ≤ cap."""
        ceiling = min(self.cap, self.initial * self.multiplier ** max(0, min(failures - 1, 64)))
        return ceiling * (1.0 - self.jitter * rand())
