"""Call rates per credential: a token bucket per partner API key (gRPC) and per bearer token (admin API).

Each credential may spend ``burst`` calls at once and earns ``rate`` calls back per second. Past that a call is
refused before any service is asked: ``RESOURCE_EXHAUSTED`` with a ``google.rpc.RetryInfo`` detail on the
partner API, ``429`` with a ``Retry-After`` header on the admin API, both saying how long to wait. Buckets live
in this process, so each gateway replica counts on its own: N replicas admit up to N times the rate.

Configuration: ``KRING_PARTNER_RATE``/``_BURST`` (partner gRPC API, per key) and ``KRING_ADMIN_RATE``/``_BURST``
(admin API, per member's token), in :class:`services.common.config.Settings` with the other settings; a rate of
``0`` turns a limit off (benchmarks rely on it).

The operator's token is not limited on the admin API: it is configuration, not issued, and the operator loads
data in bulk (the demo data, scripts).
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from services.common.config import Settings
from services.common.errors import RateLimited

MAX_TRACKED = 10_000  # credentials remembered at once; the least recently seen are forgotten (a full bucket)


class TooManyCalls(RateLimited):
    """A credential spent its calls; ``retry_after`` is whole seconds until the next one is earned."""

    def __init__(self, message: str, violations: list[dict[str, Any]] | None = None, retry_after: int = 1) -> None:
        super().__init__(message, violations)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Limit:
    rate: float  # calls earned per second; 0: no limit
    burst: float  # calls that may be made at once

    @property
    def enabled(self) -> bool:
        return self.rate > 0


class TokenBuckets:
    """Thread-safe buckets keyed by a credential's digest (never the credential itself)."""

    def __init__(self, limit: Limit, *, what: str = "calls", max_tracked: int = MAX_TRACKED,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self._what = what
        self._max_tracked = max_tracked
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # digest -> (tokens, at)

    def take(self, credential: str) -> None:
        """Spend one call of ``credential``; raise TooManyCalls when it has none left."""
        wait = self.wait_for(credential)
        if wait is not None:
            seconds = max(1, math.ceil(wait))
            raise TooManyCalls(f"too many {self._what} with this credential: at most {self.limit.rate:g} per second "
                               f"(bursts of {self.limit.burst:g}); retry in {seconds} s", retry_after=seconds)

    def wait_for(self, credential: str) -> float | None:
        """Spend one call; None when allowed, else the seconds until one is earned (nothing is spent)."""
        if not self.limit.enabled:
            return None
        digest = hashlib.sha256(credential.encode("utf-8", "replace")).hexdigest()
        now = self._clock()
        with self._lock:
            tokens, at = self._buckets.get(digest, (self.limit.burst, now))
            tokens = min(self.limit.burst, tokens + (now - at) * self.limit.rate)
            if tokens >= 1.0:
                self._buckets[digest] = (tokens - 1.0, now)
                wait = None
            else:
                self._buckets[digest] = (tokens, now)
                wait = (1.0 - tokens) / self.limit.rate
            self._buckets.move_to_end(digest)
            while len(self._buckets) > self._max_tracked:
                self._buckets.popitem(last=False)
        return wait


def limits_from_settings(settings: Settings) -> tuple[Limit, Limit]:
    """(partner API limit, admin API limit). Settings already refuse negative or non-numeric values; a burst
    below one call would refuse every call, so it is refused here, naming the variable."""
    return (_limit(settings.partner_rate, settings.partner_burst, "KRING_PARTNER"),
            _limit(settings.admin_rate, settings.admin_burst, "KRING_ADMIN"))


def _limit(rate: float, burst: float, prefix: str) -> Limit:
    if rate > 0 and burst < 1:
        raise ValueError(f"{prefix}_BURST must be at least 1 when {prefix}_RATE is set (got {burst:g})")
    return Limit(rate=rate, burst=burst)
