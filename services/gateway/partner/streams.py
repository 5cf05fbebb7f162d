"""The partner streams open on this gateway: how many, whose, and ending them all at shutdown.

An open stream is a coroutine of the ``grpc.aio`` server waiting for the feed hub, not a thread, so the caps only
bound memory: ``KRING_GRPC_MAX_STREAMS`` in total (2,000 by default), and per partner so one partner cannot take
them all. Beyond either a new stream is refused with RESOURCE_EXHAUSTED. :meth:`OpenStreams.close_all` may be
called from any thread.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from services.common import metrics
from services.common.errors import RateLimited


class Cancellable(Protocol):
    def cancel(self) -> None: ...


class OpenStreams:
    def __init__(self, limit: int, per_partner: int) -> None:
        self.limit = limit
        self.per_partner = per_partner
        self.closing = False
        self._lock = threading.Lock()
        self._by_partner: Counter[str] = Counter()
        self._streams: set[Cancellable] = set()

    @contextmanager
    def open(self, partner_id: str, stream: Cancellable) -> Iterator[None]:
        with self._lock:
            if self.closing:
                raise RateLimited("the gateway is shutting down; reconnect with your last cursor")
            if len(self._streams) >= self.limit:
                raise RateLimited(f"this gateway serves {self.limit} streams at most; try again shortly")
            if self._by_partner[partner_id] >= self.per_partner:
                raise RateLimited(f"at most {self.per_partner} open streams per partner")
            self._by_partner[partner_id] += 1
            self._streams.add(stream)
            metrics.PARTNER_STREAMS_OPEN.inc()
        try:
            yield
        finally:
            with self._lock:
                self._by_partner[partner_id] -= 1
                if self._by_partner[partner_id] <= 0:
                    del self._by_partner[partner_id]
                self._streams.discard(stream)
                metrics.PARTNER_STREAMS_OPEN.dec()

    def __len__(self) -> int:
        with self._lock:
            return len(self._streams)

    def close_all(self) -> None:
        """End every stream now (the gateway is stopping): a stream never ends by itself, so waiting for
        streams would always take the whole grace period."""
        with self._lock:
            self.closing = True
            streams = list(self._streams)
        for stream in streams:
            stream.cancel()
