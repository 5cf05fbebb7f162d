"""The feed hub and a stream's hand-over from reading the log itself to following the hub: every entry for
the stream's networks after its cursor arrives once, in order, whatever the hub does meanwhile.

The hub is driven by hand (``poll``) and each stream's ``tick`` hook runs a script at chosen moments, so the
awkward interleavings are reproduced exactly rather than hoped for.
"""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from services.common.errors import Unavailable
from services.gateway.partner.auth import PartnerAuthenticator
from services.gateway.partner.feed_hub import FeedFollower, FeedHub, LoopWaker, Subscription
from tests.support.aio import Consumer, driven
from tests.unit.federation_fakes import FakeLog

MINE = frozenset({"utrecht"})


def started_hub(log: FakeLog, **options) -> FeedHub:
    hub = FeedHub(log.read, **options)
    hub.poll()  # the first poll finds the end of the log
    return hub


def cursors(entries) -> list[int]:
    return [e["cursor"] for e in entries]


class Once:
    """A stream's ``tick``: runs ``action`` once, at the first tick at which ``when()`` holds."""

    def __init__(self, when, action):
        self.when, self.action, self.done = when, action, False

    def __call__(self):
        if not self.done and self.when():
            self.done = True
            self.action()


def subscribed(hub: FeedHub):
    return lambda: hub.subscribers == 1


class HubThatMovesOn(FeedHub):
    """A hub that reads on, once, just before the next stream subscribes: the moment the hand-over covers."""

    def __init__(self, log: FakeLog, **options):
        super().__init__(log.read, **options)
        self.before_subscribing: list = []

    def subscribe(self, networks, on_ready=None):
        while self.before_subscribing:
            self.before_subscribing.pop(0)()
        return super().subscribe(networks, on_ready)


def take(iterator, n: int) -> list[dict]:
    return [next(iterator) for _ in range(n)]


class Collector(Consumer):
    """Iterates a follower in a task of its own event loop, as the gRPC server does."""

    def __init__(self, follower: FeedFollower):
        self.follower = follower
        super().__init__(follower)
        self.received = self.items

    def wait_for(self, n: int, timeout: float = 5.0) -> list[int]:
        deadline = time.monotonic() + timeout
        while len(self.received) < n and time.monotonic() < deadline:
            time.sleep(0.005)
        return cursors(self.received)


# --- the hub ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("head", [0, 1, 2, 3, 7, 8, 9, 100, 1025])
def test_the_hub_starts_at_the_end_of_the_log_found_in_a_few_one_row_reads(head):
    log = FakeLog()
    for _ in range(head):
        log.append("utrecht")
    hub = started_hub(log)
    assert hub.position == head
    assert all(limit == 1 for _, _, limit in log.reads)
    assert len(log.reads) <= 2 * head.bit_length() + 2


def test_the_hub_reads_every_network_and_hands_each_entry_to_the_streams_of_its_network():
    log = FakeLog()
    hub = started_hub(log)
    utrecht, twente = hub.subscribe(frozenset({"utrecht"})), hub.subscribe(frozenset({"twente"}))
    log.append("utrecht")
    log.append("twente")
    log.append("utrecht")
    assert hub.poll() is True
    assert log.reads[-1] == (0, None, 500)
    assert cursors(utrecht.take(0)) == [1, 3]
    assert cursors(twente.take(0)) == [2]
    assert hub.position == 3
    assert hub.poll() is False  # nothing new


def test_a_subscription_starts_at_the_hubs_position_when_it_subscribes():
    log = FakeLog()
    log.append("utrecht")
    hub = started_hub(log)
    log.append("utrecht")
    hub.poll()
    assert hub.subscribe(MINE).start == 2


def test_the_hub_has_no_position_and_refuses_subscriptions_until_it_found_the_end_of_the_log():
    hub = FeedHub(FakeLog().read)
    try:
        assert hub.subscribe(MINE) is None
        assert hub.wait_ready(5.0)  # the first subscription attempt started the hub's thread
        assert hub.subscribe(MINE) is not None
    finally:
        hub.stop()


def test_the_hub_thread_keeps_going_when_the_federation_service_is_away_and_resumes_where_it_was():
    log = FakeLog()
    down = {"now": True}

    def read(cursor, network_ids, limit):
        if down["now"]:
            raise Unavailable("the federation service is not running")
        return log.read(cursor, network_ids, limit)

    hub = FeedHub(read, interval=0.01, retry_interval=0.01)
    hub.start()
    try:
        assert not hub.wait_ready(0.1)
        down["now"] = False
        assert hub.wait_ready(5.0)
        subscription = hub.subscribe(MINE)
        log.append("utrecht")
        assert cursors(subscription.take(5.0)) == [1]
    finally:
        hub.stop()


def test_a_subscription_that_overflows_drops_its_queue_and_says_so():
    subscription = Subscription(MINE, start=0, capacity=2)
    for cursor in (1, 2, 3):
        subscription.offer({"cursor": cursor, "network_id": "utrecht"})
    assert subscription.overflowed
    assert subscription.take(0) == []


# --- a stream: catch-up, hand-over, follow -------------------------------------------------------------------


def test_a_stream_reads_its_past_then_follows_the_hub_and_only_its_networks():
    log = FakeLog()
    for network_id in ("utrecht", "twente", "utrecht"):
        log.append(network_id)
    hub = started_hub(log)
    news = Once(subscribed(hub), lambda: (log.append("twente"), log.append("utrecht"), hub.poll()))
    stream = driven(FeedFollower(hub, log.read, MINE, 0, wait=0.01, tick=news))
    assert cursors(take(stream, 3)) == [1, 3, 5]
    assert (0, ["utrecht"], 500) in log.reads  # its past, read with its own networks


def test_a_stream_resumes_after_its_cursor_and_never_repeats_it():
    log = FakeLog()
    for _ in range(4):
        log.append("utrecht")
    hub = started_hub(log)
    stream = driven(FeedFollower(hub, log.read, MINE, 2, wait=0.01))
    assert cursors(take(stream, 2)) == [3, 4]


def test_entries_the_hub_passed_before_the_stream_subscribed_are_read_again_from_the_log():
    """The gap the hand-over closes: the stream catches up to the hub's position P, the hub reads on to P'
    before the stream subscribes; entries in (P, P'] reach no queue, so the stream reads them itself."""
    log = FakeLog()
    log.append("utrecht")
    hub = HubThatMovesOn(log)
    hub.poll()  # P = 1
    hub.before_subscribing.append(lambda: (log.append("utrecht"), log.append("utrecht"), hub.poll()))  # P' = 3
    news = Once(lambda: hub.position == 3 and hub.subscribers == 1, lambda: (log.append("utrecht"), hub.poll()))
    stream = driven(FeedFollower(hub, log.read, MINE, 0, wait=0.01, tick=news))
    assert cursors(take(stream, 4)) == [1, 2, 3, 4]
    assert hub.subscribe(MINE).start == 4


def test_an_entry_both_read_again_and_queued_is_sent_once():
    log = FakeLog()
    log.append("utrecht")
    hub = HubThatMovesOn(log)
    hub.poll()
    hub.before_subscribing.append(lambda: (log.append("utrecht"), hub.poll()))  # the stream will read 2 again

    def queued_during_the_reread(cursor, network_ids):
        if network_ids == ["utrecht"] and hub.subscribers == 1:
            log.on_read.clear()
            log.append("utrecht")
            hub.poll()  # 3 is queued, and the read about to answer returns it too

    log.on_read.append(queued_during_the_reread)
    news = Once(lambda: hub.position == 3, lambda: (log.append("utrecht"), hub.poll()))
    stream = driven(FeedFollower(hub, log.read, MINE, 0, wait=0.01, tick=news))
    assert cursors(take(stream, 4)) == [1, 2, 3, 4]


def test_a_stream_that_fell_behind_its_queue_reads_the_log_again_and_loses_nothing():
    log = FakeLog()
    hub = started_hub(log, capacity=2)

    def burst():
        for _ in range(5):
            log.append("utrecht")
        hub.poll()  # five entries for a queue of two: it overflows

    stream = driven(FeedFollower(hub, log.read, MINE, 0, wait=0.01, tick=Once(subscribed(hub), burst)))
    assert cursors(take(stream, 5)) == [1, 2, 3, 4, 5]
    assert log.reads[-1] == (0, ["utrecht"], 500)  # after the overflow it read the log itself


def test_a_share_retracted_since_is_passed_over_and_its_retraction_follows():
    log = FakeLog()
    log.append("utrecht", "o-1")
    log.append("utrecht", "o-1", "retracted")
    hub = started_hub(log)
    entries = take(driven(FeedFollower(hub, log.read, MINE, 0, wait=0.01)), 1)
    assert [(e["cursor"], e["kind"], e["output"]["retracted"]) for e in entries] == [(2, "retracted", True)]


def test_cancelling_a_stream_ends_it_promptly_and_unsubscribes_it():
    log = FakeLog()
    hub = started_hub(log)
    follower = FeedFollower(hub, log.read, MINE, 0, wait=30.0)  # it would otherwise wait 30 s for news
    collector = Collector(follower)
    deadline = time.monotonic() + 5
    while hub.subscribers == 0 and time.monotonic() < deadline:
        time.sleep(0.005)
    log.append("utrecht")
    hub.poll()
    assert collector.wait_for(1) == [1]
    started = time.monotonic()
    follower.cancel()
    assert collector.join(5.0)
    assert time.monotonic() - started < 1.0
    assert hub.subscribers == 0


def test_a_stream_follows_a_running_hub_live():
    log = FakeLog()
    hub = FeedHub(log.read, interval=0.01)
    hub.start()
    try:
        log.append("utrecht")
        follower = FeedFollower(hub, log.read, MINE, 0, wait=0.05)
        collector = Collector(follower)
        assert collector.wait_for(1) == [1]
        for network_id in ("twente", "utrecht", "utrecht"):
            log.append(network_id)
        assert collector.wait_for(3) == [1, 3, 4]
        follower.cancel()
    finally:
        hub.stop()


def test_the_streams_woken_while_their_loop_is_busy_cost_it_one_wake_up_and_all_are_woken():
    loop = asyncio.new_event_loop()
    try:
        waker = LoopWaker.of(loop)
        assert LoopWaker.of(loop) is waker  # one per loop, shared by its streams
        events = [asyncio.Event() for _ in range(200)]
        handing_over = threading.Thread(target=lambda: [waker.set_soon(event) for event in events])
        handing_over.start()  # the hub's thread, while the loop runs nothing
        handing_over.join()
        assert waker.wake_ups == 1
        assert not any(event.is_set() for event in events)
        loop.run_until_complete(asyncio.sleep(0))
        assert all(event.is_set() for event in events)
        waker.set_soon(later := asyncio.Event())  # after the loop took the list: a wake-up of its own
        assert waker.wake_ups == 2
        loop.run_until_complete(asyncio.sleep(0))
        assert later.is_set()
    finally:
        loop.close()


def test_waking_a_stream_whose_loop_has_closed_does_nothing():
    loop = asyncio.new_event_loop()
    waker = LoopWaker.of(loop)
    loop.close()
    waker.set_soon(asyncio.Event())
    waker.set_soon(asyncio.Event())  # the list was dropped: this one tries (and fails quietly) again
    assert waker.wake_ups == 2


def test_a_tick_that_raises_ends_the_stream_with_that_error():
    log = FakeLog()
    hub = started_hub(log)

    def revoked():
        raise PermissionError("revoked")

    with pytest.raises(PermissionError):
        next(driven(FeedFollower(hub, log.read, MINE, 0, wait=0.01, tick=revoked)))
    assert hub.subscribers == 0


def test_while_the_change_feed_is_live_the_hub_reads_when_feed_appended_says_the_log_grew():
    log = FakeLog()
    hub = FeedHub(log.read, interval=0.01, safety_interval=60.0, live=lambda: True)
    hub.start()
    try:
        follower = FeedFollower(hub, log.read, MINE, 0, wait=0.05)
        collector = Collector(follower)
        deadline = time.monotonic() + 5.0
        while hub.subscribers == 0 and time.monotonic() < deadline:
            time.sleep(0.005)
        time.sleep(0.1)  # the hub settles into its wait
        log.append("utrecht")
        assert collector.wait_for(1, timeout=0.5) == []  # not polled: nothing told the hub yet
        hub.notify(["twente"])  # nobody here streams twente: no read
        assert collector.wait_for(1, timeout=0.3) == []
        hub.notify(["utrecht"])  # feed.appended for utrecht
        assert collector.wait_for(1) == [1]
        follower.cancel()
    finally:
        hub.stop()


def live_hub_with_a_stream(log: FakeLog) -> tuple[FeedHub, FeedFollower, Collector]:
    """A started hub that reads only when woken (the change feed is live), with one stream of ``MINE`` following it
    and settled into its wait."""
    hub = FeedHub(log.read, interval=0.01, safety_interval=60.0, live=lambda: True,
                  ready_carried=lambda carried: carried["entries"])
    hub.start()
    follower = FeedFollower(hub, log.read, MINE, 0, wait=0.05)
    collector = Collector(follower)
    deadline = time.monotonic() + 5.0
    while hub.subscribers == 0 and time.monotonic() < deadline:
        time.sleep(0.005)
    time.sleep(0.1)
    return hub, follower, collector


def test_entries_a_feed_appended_event_carries_reach_the_streams_without_a_read_of_the_log():
    log = FakeLog()
    hub, follower, collector = live_hub_with_a_stream(log)
    try:
        first = log.append("utrecht")
        last = log.append("utrecht")
        reads = len(log.reads)
        hub.notify(["utrecht"], log.carried(first, last))
        assert collector.wait_for(2) == [first, last]
        assert len(log.reads) == reads and hub.carried == 1 and hub.position == last
        follower.cancel()
    finally:
        hub.stop()


def test_carried_entries_that_do_not_follow_on_from_the_hub_are_read_from_the_log_instead_in_order():
    """An event lost or late, or a gap a rolled-back transaction left: the hub cannot tell, so it reads."""
    log = FakeLog()
    hub, follower, collector = live_hub_with_a_stream(log)
    try:
        missed = log.append("utrecht")  # its event never came
        latest = log.append("utrecht")
        hub.notify(["utrecht"], log.carried(latest, latest))
        assert collector.wait_for(2) == [missed, latest]
        assert hub.carried == 0 and (missed - 1, None, hub.batch) in log.reads
        follower.cancel()
    finally:
        hub.stop()


def test_an_event_whose_entries_the_hub_already_read_hands_nothing_over_twice():
    log = FakeLog()
    hub = started_hub(log, ready_carried=lambda carried: carried["entries"])
    subscription = hub.subscribe(MINE)
    entry = log.append("utrecht")
    hub.poll()  # the hub read it (its event was late)
    hub.notify(["utrecht"], log.carried(entry, entry))
    later = log.append("utrecht")
    hub.notify(["utrecht"], log.carried(later, later))
    assert cursors(subscription.drain()) == [entry, later] and hub.carried == 1


def test_entries_carried_while_the_hub_reads_the_same_entries_are_handed_over_once():
    log = FakeLog()
    hub = started_hub(log, ready_carried=lambda carried: carried["entries"])
    subscription = hub.subscribe(MINE)
    entry = log.append("utrecht")

    def event_arrives_during_the_read(cursor, networks):
        log.on_read.clear()
        hub.notify(["utrecht"], log.carried(entry, entry))

    log.on_read.append(event_arrives_during_the_read)
    hub.poll()
    assert cursors(subscription.drain()) == [entry] and hub.carried == 1 and hub.position == entry


def test_carried_entries_for_networks_nobody_streams_move_the_hub_on_without_encoding_them():
    log = FakeLog()
    prepared: list[dict] = []
    hub = started_hub(log, ready_carried=lambda carried: prepared.append(carried) or carried["entries"])
    elsewhere = log.append("twente")
    hub.notify(["twente"], log.carried(elsewhere, elsewhere))
    assert hub.position == elsewhere and prepared == [] and hub.carried == 1


def test_without_a_live_change_feed_the_hub_polls_as_before():
    log = FakeLog()
    hub = FeedHub(log.read, interval=0.01, safety_interval=60.0, live=lambda: False)
    hub.start()
    try:
        follower = FeedFollower(hub, log.read, MINE, 0, wait=0.05)
        collector = Collector(follower)
        log.append("utrecht")
        assert collector.wait_for(1) == [1]
        follower.cancel()
    finally:
        hub.stop()


def test_a_stream_rechecks_its_key_every_second_and_a_gateway_without_its_change_feed_trusts_a_key_ten_seconds():
    """FEDERATION.md "Authentication" and README: a revoked key ends an open stream about a second after the
    gateway learns of it (the follower's wait between ticks, each re-checking the key), and a gateway whose
    change feed cannot reach the broker keeps a key's answer at most 10 seconds. The numbers the documents state."""
    log = FakeLog()
    follower = FeedFollower(started_hub(log), log.read, MINE, 0)
    assert follower.wait == 1.0
    assert PartnerAuthenticator(lambda *a, **k: None).cache.fallback_ttl == 10.0
