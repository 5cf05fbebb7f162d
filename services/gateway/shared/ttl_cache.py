"""A small thread-safe cache whose entries expire, bounded by evicting the least recently used: what both
authenticators keep of the answers to "whose token (or key) is this?"."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from enum import Enum
from typing import Final, Generic, Literal, TypeVar

V = TypeVar("V")


class Missing(Enum):
    """A cached value may itself be None (a rejected token), so absence needs its own marker: the one member of
    its own type, so that ``value is MISSING`` leaves the value's type for the rest."""

    MISSING = "missing"


MISSING: Final = Missing.MISSING


class TtlCache(Generic[V]):
    def __init__(self, ttl: float, max_entries: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, tuple[float, V]] = OrderedDict()

    def get(self, key: str) -> V | Literal[Missing.MISSING]:
        """The live value for ``key``, or MISSING."""
        now = self._clock()
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return MISSING
            if entry[0] <= now:
                del self._entries[key]
                return MISSING
            self._entries.move_to_end(key)
            return entry[1]

    def put(self, key: str, value: V) -> None:
        with self._lock:
            self._entries[key] = (self._clock() + self.ttl, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def discard_where(self, matches: Callable[[V], bool]) -> None:
        with self._lock:
            for key in [k for k, (_, value) in self._entries.items() if matches(value)]:
                del self._entries[key]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
