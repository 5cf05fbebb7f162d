"""The relay's loop in a service (ServiceDatabase._run_relay) against a fake relay: a commit while it publishes
wakes it again at once, its backlog is measured once a second while busy, whenever it is idle, and while the
broker refuses."""

from __future__ import annotations

import threading
from typing import Any

from services.common import metrics
from services.common.nameko_kit import ServiceDatabase
from services.members.unit_of_work import MembersUnitOfWork


class FakeRelay:
    def __init__(self, database: ServiceDatabase[Any], passes: list[Any]) -> None:
        self.database = database
        self.passes = passes  # per pass: rows published, an exception to raise, or "stop"
        self.published: list[int] = []
        self.backlogs = 0

    def publish_all_pending(self) -> int:
        step = self.passes.pop(0)
        if step == "stop":
            self.database.stop()
            return 0
        if isinstance(step, Exception):
            raise step
        self.published.append(step)
        if step:
            self.database._wake.set()  # a unit of work commits while this pass publishes
        return step

    def backlog(self) -> tuple[int, float]:
        self.backlogs += not self.database._stopping  # the last pass, which stops the loop, is not counted
        return 7, 12.0


class ClosingPublisher:
    def close(self) -> None:
        pass


def run_relay(passes: list[Any], poll_interval: float = 30.0) -> FakeRelay:
    database: ServiceDatabase[Any] = ServiceDatabase(MembersUnitOfWork, poll_interval=poll_interval)
    database.service_name = "members"
    database.publisher = ClosingPublisher()
    database._wake = threading.Event()
    database._stopping = False
    database._next_purge = float("inf")
    relay = FakeRelay(database, passes)
    database.relay = relay
    database._run_relay()  # returns when a pass says "stop"; a lost wake would wait poll_interval
    return relay


def test_a_commit_while_the_relay_publishes_wakes_it_again_at_once() -> None:
    relay = run_relay([3, 2, 1, "stop"])
    assert relay.published == [3, 2, 1]


def test_a_busy_relay_measures_its_backlog_once_a_second_not_on_every_wake() -> None:
    relay = run_relay([1] * 50 + ["stop"])
    assert relay.backlogs == 1


def test_an_idle_relay_measures_its_backlog_after_each_wait_that_finds_nothing() -> None:
    relay = run_relay([0, 0, 0, "stop"], poll_interval=0.01)
    assert relay.backlogs == 3
    assert metrics.OUTBOX_PENDING.labels(service="members")._value.get() == 7


def test_the_backlog_is_measured_while_the_broker_refuses() -> None:
    relay = run_relay([1, ConnectionError("broker down"), "stop"])
    assert relay.backlogs == 2  # the first pass's, then the failure's, though a second has not passed
    assert metrics.OUTBOX_OLDEST_AGE.labels(service="members")._value.get() == 12.0
