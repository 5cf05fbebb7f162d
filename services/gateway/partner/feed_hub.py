"""Live partner streams without an RPC per stream per tick.

The federation service keeps one append-only log of every delivery, retraction and attribution change, per
recipient network, in commit order; its position is the cursor partners resume from. One :class:`FeedHub`
thread per gateway reads that log for every network (``log_after`` without ``network_ids``) and hands each entry
to the streams subscribed to its network. It reads when it is told the log grew: the federation service records
``feed.appended`` with every transaction that appends to the log, and the gateway's change feed
(:mod:`services.gateway.shared.changes`) calls :meth:`FeedHub.notify`. While the change feed is live the hub
otherwise reads only every ``safety_interval`` seconds (a bound, should an event be lost); while it is not, it
polls every ``interval`` seconds as before.

A stream (:class:`FeedFollower`) starts from its client's cursor:

1. it catches up by itself, page by page (``log_after`` with its networks), until it reaches the hub;
2. it subscribes: from that moment the hub queues for it every entry after the hub's position ``P``;
3. it reads the log again from where it got to up to ``P`` (the hub may have moved on between 1 and 2);
4. it follows its queue, passing over what it already sent (by cursor).

Each entry is sent once, in order, and none is skipped, whatever the hub did meanwhile. A stream whose client
reads too slowly overflows its bounded queue; it then drops the queue and goes back to step 1 from the last
cursor it sent, so memory stays bounded and still nothing is lost.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

from services.common.errors import KringError

log = logging.getLogger(__name__)

# log_after(cursor, network_ids or None for every network, limit) -> {"entries": [...], "next_cursor": int}
LogReader = Callable[[int, list[str] | None, int], dict[str, Any]]

PAGE = 500


class Subscription:
    """One stream's queue of entries for its networks after ``start``."""

    def __init__(self, networks: frozenset[str], start: int, capacity: int) -> None:
        self.networks = networks
        self.start = start
        self.capacity = capacity
        self.overflowed = False
        self._items: deque[dict[str, Any]] = deque()
        self._lock = threading.Lock()
        self._ready = threading.Event()

    def offer(self, entry: dict[str, Any]) -> None:
        with self._lock:
            if self.overflowed:
                return
            if len(self._items) >= self.capacity:
                self.overflowed = True
                self._items.clear()
            else:
                self._items.append(entry)
        self._ready.set()

    def wake(self) -> None:
        self._ready.set()

    def take(self, timeout: float) -> list[dict[str, Any]]:
        """Whatever is queued, waiting up to ``timeout`` seconds for something (or a wake-up)."""
        self._ready.wait(timeout)
        with self._lock:
            self._ready.clear()
            items = list(self._items)
            self._items.clear()
        return items


class FeedHub:
    def __init__(self, read_log: LogReader, *, interval: float = 0.15, idle_interval: float = 1.0,
                 batch: int = PAGE, capacity: int = 10_000, retry_interval: float = 2.0,
                 safety_interval: float = 5.0, live: Callable[[], bool] | None = None) -> None:
        self._read = read_log
        self.interval = interval
        self.safety_interval = safety_interval
        self.live = live or (lambda: False)  # whether feed.appended events reach notify() now
        self.notified = 0
        self.idle_interval = idle_interval  # while nobody streams, keep up at a slower pace
        self.batch = batch
        self.capacity = capacity
        self.retry_interval = retry_interval
        self._position: int | None = None  # None until the end of the log is found
        self._subscriptions: set[Subscription] = set()
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._stopping = threading.Event()
        self._wake = threading.Event()  # a new stream: read now rather than at the end of an idle pause
        self._thread: threading.Thread | None = None

    # --- for streams -----------------------------------------------------------------------------------

    @property
    def position(self) -> int | None:
        with self._lock:
            return self._position

    def wait_ready(self, timeout: float) -> bool:
        return self._ready.wait(timeout)

    def subscribe(self, networks: frozenset[str]) -> Subscription | None:
        """A queue of every entry for ``networks`` after the hub's position; None until the hub has one."""
        with self._lock:
            if self._position is None:
                self._start_locked()  # the first stream starts the hub: a gateway nobody streams from reads nothing
                return None
            subscription = Subscription(networks, self._position, self.capacity)
            self._subscriptions.add(subscription)
        self._wake.set()
        return subscription

    def notify(self, network_ids: list[str]) -> None:
        """The log grew for these networks (a ``feed.appended`` event): read it now if anyone streams them."""
        self.notified += 1
        wanted = set(network_ids)
        with self._lock:
            streamed = any(not wanted.isdisjoint(s.networks) for s in self._subscriptions)
        if streamed:
            self._wake.set()

    def unsubscribe(self, subscription: Subscription) -> None:
        with self._lock:
            self._subscriptions.discard(subscription)

    @property
    def subscribers(self) -> int:
        with self._lock:
            return len(self._subscriptions)

    # --- the hub's own work --------------------------------------------------------------------------------

    def poll(self) -> bool:
        """Read one page of the log after the hub's position and dispatch it. True if the log had more."""
        position = self.position
        if position is None:
            head = self.find_head()
            with self._lock:
                self._position = head
            self._ready.set()
            return False
        page = self._read(position, None, self.batch)
        with self._lock:
            for entry in page["entries"]:
                for subscription in self._subscriptions:
                    if entry["network_id"] in subscription.networks:
                        subscription.offer(entry)
            self._position = max(position, int(page["next_cursor"]))
            return self._position > position

    def find_head(self) -> int:
        """The log's last position, in about 2·log2(N) one-row reads: the hub serves what comes next, and
        each stream reads its own past."""
        def beyond(cursor: int) -> bool:
            return int(self._read(cursor, None, 1)["next_cursor"]) > cursor

        if not beyond(0):
            return 0
        low, high = 0, 1  # something lies beyond ``low``; find a ``high`` beyond which nothing does
        while beyond(high):
            low, high = high, high * 2
        while high - low > 1:
            middle = (low + high) // 2
            if beyond(middle):
                low = middle
            else:
                high = middle
        return high

    def start(self) -> None:
        with self._lock:
            self._start_locked()

    def _start_locked(self) -> None:
        if self._thread is None and not self._stopping.is_set():
            self._thread = threading.Thread(target=self._run, name="feed-hub", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        self._wake.set()
        with self._lock:
            for subscription in self._subscriptions:
                subscription.wake()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        failing = False
        while not self._stopping.is_set():
            try:
                more = self.poll()
            except KringError as exc:  # the federation service is away: streams wait, nothing is lost
                if not failing:
                    log.warning("feed hub: cannot read the federation log (retrying every %g s): %s",
                                self.retry_interval, exc)
                failing = True
                self._stopping.wait(self.retry_interval)
                continue
            except Exception:  # a bug must not end live streams for good: log it and carry on
                log.exception("feed hub: unexpected error")
                self._stopping.wait(self.retry_interval)
                continue
            if failing:
                log.info("feed hub: reading the federation log again")
                failing = False
            if not more:
                self._wake.wait(self._pause())
                self._wake.clear()

    def _pause(self) -> float:
        """How long to wait for a wake-up before reading anyway."""
        if not self.subscribers:
            return max(self.idle_interval, self.safety_interval) if self.live() else self.idle_interval
        return self.safety_interval if self.live() else self.interval


class FeedFollower:
    """One stream: the entries for ``networks`` after ``cursor``, then each new one as the hub reads it.

    ``tick`` is called at least every ``wait`` seconds (and between pages) so the stream can re-check its
    partner's key; ``cancel`` (from any thread, e.g. the gRPC call's done-callback) ends the iteration promptly.
    """

    def __init__(self, hub: FeedHub, read_log: LogReader, networks: frozenset[str], cursor: int, *,
                 page: int = PAGE, wait: float = 1.0, tick: Callable[[], None] | None = None) -> None:
        self.hub = hub
        self.read = read_log
        self.networks = networks
        self.position = cursor  # everything for our networks up to here was sent (or passed over)
        self.page = page
        self.wait = wait
        self.tick = tick or (lambda: None)
        self._cancelled = threading.Event()
        self._subscription: Subscription | None = None

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def cancel(self) -> None:
        self._cancelled.set()
        subscription = self._subscription
        if subscription is not None:
            subscription.wake()

    def __iter__(self) -> Iterator[dict[str, Any]]:
        while not self.cancelled:
            yield from self._catch_up(until=self.hub.position)
            subscription = self.hub.subscribe(self.networks)
            if subscription is None:  # the hub has not found the end of the log yet
                self.tick()
                self.hub.wait_ready(self.wait)
                continue
            self._subscription = subscription
            try:
                yield from self._catch_up(until=subscription.start)
                yield from self._follow(subscription)
            finally:
                self._subscription = None
                self.hub.unsubscribe(subscription)

    def _catch_up(self, until: int | None) -> Iterator[dict[str, Any]]:
        """Read the log from our position until ``until`` (None: until it runs out)."""
        while not self.cancelled and (until is None or self.position < until):
            self.tick()
            read_from = self.position
            page = self.read(read_from, sorted(self.networks), self.page)
            for entry in page["entries"]:
                if self._cancelled.is_set():  # by another thread, since the loop's test
                    return
                if entry["cursor"] > self.position:
                    self.position = entry["cursor"]
                    yield entry
            next_cursor = int(page["next_cursor"])
            if next_cursor <= read_from:
                return  # nothing more for our networks
            self.position = max(self.position, next_cursor)  # past entries passed over, too

    def _follow(self, subscription: Subscription) -> Iterator[dict[str, Any]]:
        while not self.cancelled:
            self.tick()
            entries = subscription.take(self.wait)
            if subscription.overflowed:
                return  # we fell behind: read the log again from our position
            for entry in entries:
                if self._cancelled.is_set():  # by another thread, since the loop's test
                    return
                if entry["cursor"] > self.position:
                    self.position = entry["cursor"]
                    yield entry
