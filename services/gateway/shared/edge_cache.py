"""What the gateway keeps of the services' answers, kept fresh by their events.

An :class:`EdgeCache` holds answers by request key (a token's hash, a partner key's hash, a directory query),
each tagged with the *topics* it depends on (``member:<id>``, ``partner:<id>``, ``network:<id>``,
``feed:<network>``, ``networks``). The gateway's change feed (:mod:`.changes`) calls :meth:`EdgeCache.changed`
with the topics of every event the services record, on every gateway replica, so an answer is dropped as soon
as what it depends on changes: within the event path's latency, not a fixed lifetime.

Freshness degrades safely. While the change feed is live an entry lives up to ``max_age`` (a bound, in case an
event is ever missed); while it is not (the broker is away) entries older than ``fallback_ttl`` are not used,
which is how long the gateway trusted an answer before events drove it. When the feed comes back it clears
every cache: what changed while it was deaf is unknown.

A change arriving while an answer is being fetched must not be overwritten by that (older) answer: take a
:meth:`ticket` before asking the service and give it to :meth:`put`, which refuses the answer if any of its
topics changed since. Refusals (an unknown token) are kept for ``refusal_ttl`` at most, live feed or not.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import Enum
from typing import Final, Generic, Literal, TypeVar

V = TypeVar("V")

# Topics remembered with the moment they last changed; beyond this many the oldest are summarised by one floor.
MAX_REMEMBERED_TOPICS = 10_000


class Missing(Enum):
    """A cached value may itself be None, so absence needs its own marker."""

    MISSING = "missing"


MISSING: Final = Missing.MISSING


def never_live() -> bool:
    return False


@dataclass(frozen=True)
class _Entry(Generic[V]):
    value: V
    topics: frozenset[str]
    stored_at: float
    ttl: float | None  # its own bound (a refusal), None: the cache's


class EdgeCache(Generic[V]):
    def __init__(self, name: str, *, max_age: float = 300.0, fallback_ttl: float = 10.0,
                 refusal_ttl: float = 10.0, max_entries: int = 4096, live: Callable[[], bool] = never_live,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.name = name
        self.max_age = max_age
        self.fallback_ttl = fallback_ttl
        self.refusal_ttl = refusal_ttl
        self.max_entries = max_entries
        self.live = live  # whether changes reach this cache now (the change feed is connected)
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, _Entry[V]] = OrderedDict()
        self._by_topic: dict[str, set[str]] = {}
        self._changes = 0  # a counter of changes seen: tickets are its values
        self._changed_at: dict[str, int] = {}  # topic -> the change that last touched it
        self._floor = 0  # every topic forgotten from _changed_at changed at or before this

    # --- reading and writing ------------------------------------------------------------------------------

    def ticket(self) -> int:
        """Take before asking the service; :meth:`put` refuses the answer if its topics changed since."""
        with self._lock:
            return self._changes

    def get(self, key: str) -> V | Literal[Missing.MISSING]:
        now = self._clock()
        lifetime = self.max_age if self.live() else min(self.max_age, self.fallback_ttl)
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return MISSING
            age = now - entry.stored_at
            if age >= lifetime or (entry.ttl is not None and age >= entry.ttl):
                self._remove(key)
                return MISSING
            self._entries.move_to_end(key)
            return entry.value

    def put(self, key: str, value: V, topics: Iterable[str], ticket: int, *, refusal: bool = False,
            ttl: float | None = None) -> bool:
        """Keep ``value`` unless one of ``topics`` changed after ``ticket`` was taken; whether it was kept.

        ``ttl``: the answer's own bound in seconds (a token that expires), below the cache's."""
        tags = frozenset(topics)
        if not refusal and self.fallback_ttl <= 0 and not self.live():
            return False  # a cache that serves only while changes reach it keeps nothing meanwhile
        with self._lock:
            if ticket < self._floor or any(self._changed_at.get(topic, 0) > ticket for topic in tags):
                return False  # the answer may predate a change: the next request asks again
            if key in self._entries:
                self._remove(key)
            own = [bound for bound in (self.refusal_ttl if refusal else None, ttl) if bound is not None]
            self._entries[key] = _Entry(value, tags, self._clock(), min(own) if own else None)
            for topic in tags:
                self._by_topic.setdefault(topic, set()).add(key)
            while len(self._entries) > self.max_entries:
                self._remove(next(iter(self._entries)))
            return True

    # --- changes ------------------------------------------------------------------------------------------

    def changed(self, *topics: str) -> None:
        """Something these topics stand for changed: drop every answer that depends on it."""
        with self._lock:
            self._changes += 1
            for topic in topics:
                self._changed_at[topic] = self._changes
                for key in list(self._by_topic.get(topic, ())):
                    self._remove(key)
            if len(self._changed_at) > MAX_REMEMBERED_TOPICS:
                self._changed_at.clear()
                self._floor = self._changes

    def changed_everything(self) -> None:
        """Changes may have been missed (the feed was away): drop every answer, and any being fetched."""
        with self._lock:
            self._changes += 1
            self._floor = self._changes
            self._changed_at.clear()
            self._entries.clear()
            self._by_topic.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def _remove(self, key: str) -> None:
        entry = self._entries.pop(key)
        for topic in entry.topics:
            keys = self._by_topic.get(topic)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._by_topic[topic]
