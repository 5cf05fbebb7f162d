"""Live partner streams without an RPC per stream per tick.

The federation service keeps one append-only log of every delivery, retraction and attribution change, per
recipient network, in commit order; its position is the cursor partners resume from. One :class:`FeedHub`
thread per gateway reads that log for every network (``log_after`` without ``network_ids``) and hands each entry
to the streams subscribed to its network. It reads when it is told the log grew: the federation service records
``feed.appended`` with every transaction that appends to the log, and the gateway's change feed
(:mod:`services.gateway.shared.changes`) calls :meth:`FeedHub.notify`. The event carries the entries themselves
when they are few enough (``feed.appended`` version 2): if they follow on from the hub's position, the hub hands
them to the streams at once, without reading the log; if not (an event lost, late or out of order, or a gap left
by a rolled-back transaction), it reads the log as before, and the entries it already handed over are passed
over. While the change feed is live the hub otherwise reads only every ``safety_interval`` seconds (a bound,
should an event be lost); while it is not, it polls every ``interval`` seconds as before.

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

import asyncio
import functools
import inspect
import logging
import threading
import weakref
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, ClassVar, Protocol, TypeVar

from services.common import metrics
from services.common.errors import KringError

log = logging.getLogger(__name__)

# log_after(cursor, network_ids or None for every network, limit) -> {"entries": [...], "next_cursor": int}
LogReader = Callable[[int, list[str] | None, int], dict[str, Any]]

# what a ``feed.appended`` event carries (its ``entries``) -> those entries as a LogReader returns them
CarriedReader = Callable[[dict[str, Any]], list[dict[str, Any]]]

PAGE = 500
T = TypeVar("T")


class Offload(Protocol):
    """Runs blocking work away from the event loop and awaits its result."""

    def __call__(self, work: Callable[[], T], /) -> Awaitable[T]: ...



class LoopWaker:
    """Sets asyncio events of one event loop from other threads, many at a time.

    ``loop.call_soon_threadsafe`` writes to the loop's self-pipe and hands the GIL over; the hub handing one event's
    entries to 1,000 streams would do that 1,000 times (in a burst to 200 streams, an eighth of the gateway's profiled
    samples). Here the first event asked for schedules one callback on the loop, and the events asked for before it
    runs join it: a burst costs one wake-up of the loop, not one per stream.
    """

    # one per loop, gone with it (the waker holds its loop weakly, or the loop would never go)
    _by_loop: ClassVar[weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LoopWaker]] = weakref.WeakKeyDictionary()
    _registry_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = weakref.ref(loop)
        self._pending: list[asyncio.Event] = []
        self._lock = threading.Lock()
        self.wake_ups = 0  # callbacks scheduled on the loop (what the batching saves is visible in tests)

    @classmethod
    def of(cls, loop: asyncio.AbstractEventLoop) -> LoopWaker:
        with cls._registry_lock:
            waker = cls._by_loop.get(loop)
            if waker is None:
                waker = cls._by_loop[loop] = cls(loop)
            return waker

    def set_soon(self, event: asyncio.Event) -> None:
        """From any thread: ``event`` is set on its loop soon, with the others asked for meanwhile."""
        with self._lock:
            self._pending.append(event)
            if len(self._pending) > 1:
                return  # a callback is scheduled and has not taken the list yet: it sets this one too
            self.wake_ups += 1
        loop = self._loop()
        if loop is not None:
            try:
                loop.call_soon_threadsafe(self._set_pending)
                return
            except RuntimeError:  # the loop is closed
                pass
        with self._lock:  # the loop is closed or gone: nobody waits any more
            self._pending.clear()

    def _set_pending(self) -> None:
        with self._lock:
            events, self._pending = self._pending, []
        for event in events:
            event.set()


class Subscription:
    """One stream's queue of entries for its networks after ``start``.

    The hub's thread offers entries; the stream takes them. ``on_ready`` (if given) is called, on the hub's
    thread, each time the queue goes from nothing to something (or on a wake-up): an asyncio stream passes a
    function that sets its event through its loop's :class:`LoopWaker`, so a burst costs one wake-up, not one
    per entry (nor one per stream).
    """

    def __init__(self, networks: frozenset[str], start: int, capacity: int,
                 on_ready: Callable[[], None] | None = None) -> None:
        self.networks = networks
        self.start = start
        self.capacity = capacity
        self.overflowed = False
        self.on_ready = on_ready
        self._items: deque[dict[str, Any]] = deque()
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._signalled = False

    def offer(self, entry: dict[str, Any]) -> None:
        self.offer_many([entry])

    def offer_many(self, entries: list[dict[str, Any]]) -> None:
        """A page's entries for this stream, in order: one lock, one wake-up."""
        with self._lock:
            if self.overflowed:
                return
            if len(self._items) + len(entries) > self.capacity:
                self.overflowed = True
                self._items.clear()
            else:
                self._items.extend(entries)
            signal, self._signalled = not self._signalled, True
        self._ready.set()
        if signal and self.on_ready is not None:
            self.on_ready()

    def wake(self) -> None:
        self._ready.set()
        if self.on_ready is not None:
            self.on_ready()

    def drain(self) -> list[dict[str, Any]]:
        """Whatever is queued now, without waiting."""
        with self._lock:
            self._ready.clear()
            self._signalled = False
            items = list(self._items)
            self._items.clear()
        return items

    def take(self, timeout: float) -> list[dict[str, Any]]:
        """Whatever is queued, waiting up to ``timeout`` seconds for something (or a wake-up)."""
        self._ready.wait(timeout)
        return self.drain()


class FeedHub:
    def __init__(self, read_log: LogReader, *, interval: float = 0.15, idle_interval: float = 1.0,
                 batch: int = PAGE, capacity: int = 10_000, retry_interval: float = 2.0,
                 safety_interval: float = 5.0, live: Callable[[], bool] | None = None,
                 ready_carried: CarriedReader | None = None) -> None:
        self._read = read_log
        # turns the entries a ``feed.appended`` event carries into entries as ``read_log`` returns them; without
        # it the hub reads the log on every event
        self._ready_carried = ready_carried
        self.carried = 0  # events whose entries were handed over without reading the log
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
        # network id -> the subscriptions that stream it: an entry is handed over in one look-up, not one test per
        # open stream (a burst to 250 networks with 1,000 streams open would otherwise cost 250,000 tests per page)
        self._by_network: dict[str, set[Subscription]] = {}
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

    def subscribe(self, networks: frozenset[str],
                  on_ready: Callable[[], None] | None = None) -> Subscription | None:
        """A queue of every entry for ``networks`` after the hub's position; None until the hub has one.
        ``on_ready``: see :class:`Subscription`."""
        with self._lock:
            if self._position is None:
                self._start_locked()  # the first stream starts the hub: a gateway nobody streams from reads nothing
                return None
            subscription = Subscription(networks, self._position, self.capacity, on_ready)
            self._subscriptions.add(subscription)
            for network_id in networks:
                self._by_network.setdefault(network_id, set()).add(subscription)
        self._wake.set()
        return subscription

    def notify(self, network_ids: list[str], carried: dict[str, Any] | None = None) -> None:
        """The log grew for these networks (a ``feed.appended`` event). When the event carries the entries and
        they follow on from the hub's position (``carried["after"]``), hand them over now: no read of the log.
        Otherwise (an event without entries, one that arrived out of order, a gap left by a transaction that rolled
        back) read the log now if anyone streams these networks."""
        self.notified += 1
        wanted = set(network_ids)
        with self._lock:
            # One critical section from the test to the hand-over: a stream subscribing in between would start at
            # ``after`` and find the hub past these entries without having been handed them.
            streamed = any(network_id in self._by_network for network_id in wanted)
            if carried is not None and self._ready_carried is not None and self._position is not None:
                after, next_cursor = int(carried["after"]), int(carried["next_cursor"])
                if self._position >= next_cursor:
                    return  # the hub has read past them already
                if self._position == after:
                    # encoded only for someone (each output once: a few milliseconds for hundreds of entries)
                    self._hand_over_locked(self._ready_carried(carried) if streamed else [])
                    self._position = next_cursor
                    self.carried += 1
                    metrics.FEED_HUB_UPDATES.labels(source="event").inc()
                    return
        if streamed:
            self._wake.set()

    def unsubscribe(self, subscription: Subscription) -> None:
        with self._lock:
            if subscription in self._subscriptions:
                self._subscriptions.discard(subscription)
                for network_id in subscription.networks:
                    streaming = self._by_network.get(network_id)
                    if streaming is not None:
                        streaming.discard(subscription)
                        if not streaming:
                            del self._by_network[network_id]

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
            current = self._position if self._position is not None else position
            # entries an event carried meanwhile were handed over already
            self._hand_over_locked([entry for entry in page["entries"] if entry["cursor"] > current])
            self._position = max(current, int(page["next_cursor"]))
            if self._position > current:
                metrics.FEED_HUB_UPDATES.labels(source="log").inc()
            return self._position > position

    def _hand_over_locked(self, entries: list[dict[str, Any]]) -> None:
        """Each stream gets its share of these entries at once, in order: a lock and a wake-up per stream per page,
        not per entry (a burst to 250 networks with 4 streams each is 1,000 hand-overs, not 100,000)."""
        handed: dict[Subscription, list[dict[str, Any]]] = {}
        for entry in entries:
            for subscription in self._by_network.get(entry["network_id"], ()):
                handed.setdefault(subscription, []).append(entry)
        for subscription, share in handed.items():
            subscription.offer_many(share)

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

    An asynchronous iterator: it runs in the gRPC server's event loop and holds no thread. While it waits for
    news it awaits an :class:`asyncio.Event` that the hub's thread sets through a :class:`LoopWaker`.
    Reading the log (a blocking service call) goes through ``offload`` (default: :func:`asyncio.to_thread`; the
    server passes its bounded pool). ``tick`` (plain or async) is called at least every ``wait`` seconds (and
    between pages) so the stream can re-check its partner's key; ``cancel`` (from any thread, e.g. the gateway
    stopping) ends the iteration promptly.
    """

    def __init__(self, hub: FeedHub, read_log: LogReader, networks: frozenset[str], cursor: int, *,
                 page: int = PAGE, wait: float = 1.0, tick: Callable[[], Awaitable[None] | None] | None = None,
                 offload: Offload | None = None) -> None:
        self.hub = hub
        self.read = read_log
        self.networks = networks
        self.position = cursor  # everything for our networks up to here was sent (or passed over)
        self.page = page
        self.wait = wait
        self._tick = tick or (lambda: None)
        self.offload: Offload = offload or _to_thread
        self._cancelled = threading.Event()
        self._subscription: Subscription | None = None
        self._waker: LoopWaker | None = None
        self._news: asyncio.Event | None = None

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def cancel(self) -> None:
        self._cancelled.set()
        self._wake()

    def _wake(self) -> None:
        """From any thread: the stream's event is set in its own loop (with the other streams' the hub wakes at
        the same time: see :class:`LoopWaker`)."""
        waker, news = self._waker, self._news
        if waker is not None and news is not None:
            waker.set_soon(news)

    async def tick(self) -> None:
        result = self._tick()
        if inspect.isawaitable(result):
            await result

    async def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        async for batch in self.batches():
            for entry in batch:
                yield entry

    async def batches(self) -> AsyncIterator[list[dict[str, Any]]]:
        """The entries in order, as many at a time as there are: a page read, or all that the hub queued since the
        last wake-up. The stream sends a batch without coming back here between its items."""
        self._waker, self._news = LoopWaker.of(asyncio.get_running_loop()), asyncio.Event()
        while not self.cancelled:
            async for batch in self._catch_up(until=self.hub.position):
                yield batch
            subscription = self.hub.subscribe(self.networks, on_ready=self._wake)
            if subscription is None:  # the hub has not found the end of the log yet
                await self.tick()
                await asyncio.sleep(min(self.wait, 0.05))
                continue
            self._subscription = subscription
            try:
                async for batch in self._catch_up(until=subscription.start):
                    yield batch
                async for batch in self._follow(subscription):
                    yield batch
            finally:
                self._subscription = None
                self.hub.unsubscribe(subscription)

    def _unsent(self, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The entries after our position (passing over what was already sent), our position moved past them."""
        position, fresh = self.position, []
        for entry in entries:
            if entry["cursor"] > position:
                position = entry["cursor"]
                fresh.append(entry)
        self.position = position
        return fresh

    async def _catch_up(self, until: int | None) -> AsyncIterator[list[dict[str, Any]]]:
        """Read the log from our position until ``until`` (None: until it runs out)."""
        while not self.cancelled and (until is None or self.position < until):
            await self.tick()
            read_from = self.position
            page = await self.offload(functools.partial(self.read, read_from, sorted(self.networks), self.page))
            if self._cancelled.is_set():  # by another thread, since the loop's test
                return
            fresh = self._unsent(page["entries"])
            if fresh:
                yield fresh
            next_cursor = int(page["next_cursor"])
            if next_cursor <= read_from:
                return  # nothing more for our networks
            self.position = max(self.position, next_cursor)  # past entries passed over, too

    async def _follow(self, subscription: Subscription) -> AsyncIterator[list[dict[str, Any]]]:
        news = self._news
        assert news is not None
        while not self.cancelled:
            await self.tick()
            news.clear()  # before draining: an entry offered after the drain sets it again
            entries = subscription.drain()
            if not entries and not subscription.overflowed and not self.cancelled:
                try:
                    async with asyncio.timeout(self.wait):
                        await news.wait()
                except TimeoutError:
                    pass
                entries = subscription.drain()
            if subscription.overflowed:
                return  # we fell behind: read the log again from our position
            if self._cancelled.is_set():  # by another thread, since the loop's test
                return
            fresh = self._unsent(entries)
            if fresh:
                yield fresh


async def _to_thread(work: Callable[[], T]) -> T:
    return await asyncio.to_thread(work)
