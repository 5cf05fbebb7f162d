"""The federation relay against hand-written fakes of a peer (its StreamOutputs over a log with cursors) and of
this instance's federation service (which applies entries idempotently and stores the cursor with them): the
cursor moves only past what was applied, a new session resumes from it, failures back off exponentially with
bounded jitter, refusals are not retried blindly, the origin check's refusals are counted and passed, and the
peer list is followed as the operator changes it."""

from __future__ import annotations

import threading
import time
from typing import Any

import grpc
import pytest

from services.api.kring.v1 import federation_pb2 as pb
from services.common import metrics
from services.common.errors import KEY_NETWORKS_CHANGED, PermissionDenied, Unavailable
from services.federation.relay.backoff import Backoff
from services.federation.relay.follower import FollowerSettings, PeerFollower
from services.federation.relay.links import LinkWatcher
from services.federation.relay.main import Relay, StopRequest
from services.federation.relay.peer_client import PeerRefused, entry_of, link_of, network_of, peer_error
from tests.support.waiting import eventually

PEER = "kring-a"
FAST = FollowerSettings(backoff=Backoff(initial=0.01, cap=0.05), refused_retry=300.0, tick=0.02,
                        head_interval=0.0, report_interval=0.0, stall_after=60.0, link_interval=0.0)


def entry(cursor: int, output_id: str | None = None) -> dict[str, Any]:
    output_id = output_id or f"o-{cursor}"
    return {"cursor": cursor, "network_id": "y", "kind": "shared", "backfill": False,
            "output": {"output_id": output_id, "origin_network_id": "x", "title": output_id}}


class FakeStream:
    """Yields the peer's entries after a cursor; then ends with ``then`` (an error), or waits to be cancelled."""

    def __init__(self, entries: list[dict[str, Any]], then: Exception | None = None) -> None:
        self.entries = entries
        self.then = then
        self.cancelled = threading.Event()

    def __iter__(self):
        for item in self.entries:
            if self.cancelled.is_set():
                return
            yield item
        if self.then is not None:
            raise self.then
        self.cancelled.wait(10)

    def cancel(self) -> None:
        self.cancelled.set()


class FakePeer:
    """The peer's API over its feed log; ``breaks_after`` ends each stream with UNAVAILABLE after that many."""

    def __init__(self, log: list[dict[str, Any]], *, instance: str = PEER, breaks_after: int | None = None,
                 stream_error: Exception | None = None, head: tuple[int, int] | None = None) -> None:
        self.log = log
        self.instance = instance
        self.breaks_after = breaks_after
        self.stream_error = stream_error
        self.head = head
        self.asked: list[int] = []
        self.closed = 0
        self.remote_links: dict[str, dict[str, Any]] = {}
        self.directory: list[dict[str, Any]] = []  # what ListNetworks lists (active networks)
        self.archived: dict[str, dict[str, Any]] = {}  # what GetNetwork still finds, archived
        self.directory_error: Exception | None = None

    def get_instance(self) -> dict[str, str]:
        return {"id": self.instance, "name": "Kring A", "version": "1", "api_version": "kring.v1"}

    def stream(self, cursor: int, network_ids: list[str] | None) -> FakeStream:
        self.asked.append(cursor)
        if self.stream_error is not None:
            return FakeStream([], then=self.stream_error)
        after = [e for e in self.log if e["cursor"] > cursor]
        if self.breaks_after is not None:
            return FakeStream(after[: self.breaks_after], then=Unavailable("peer kring-a: the stream: UNAVAILABLE"))
        return FakeStream(after, then=Unavailable("peer kring-a: the stream: UNAVAILABLE: gone"))

    def feed_head(self, cursor: int, network_ids: list[str] | None) -> tuple[int, int]:
        if self.head is not None:
            return self.head
        return (self.log[-1]["cursor"] if self.log else 0), len([e for e in self.log if e["cursor"] > cursor])

    def get_link(self, link_id: str) -> dict[str, Any]:
        return self.remote_links[link_id]

    def list_networks(self) -> list[dict[str, Any]]:
        if self.directory_error is not None:
            raise self.directory_error
        return [dict(n) for n in self.directory]

    def get_network(self, network_id: str) -> dict[str, Any] | None:
        return self.archived.get(network_id)

    def close(self) -> None:
        self.closed += 1


class FakeLocal:
    """This instance's federation service: entries after the stored cursor are applied once per output id, and
    the cursor is stored with them; ``fail`` makes the next ingest calls fail before anything is stored."""

    def __init__(self, cursor: int = 0, refuse: set[str] = frozenset()) -> None:
        self.cursor = cursor
        self.delivered: list[str] = []
        self.refuse = refuse
        self.fail: list[Exception] = []
        self.reports: list[dict[str, Any]] = []
        self.links: list[dict[str, Any]] = []
        self.followed: list[tuple[str, dict[str, Any]]] = []
        self.held: list[str] = []
        self.synced: list[list[dict[str, Any]]] = []

    def ingest(self, instance_id: str, entries: list[dict[str, Any]]) -> dict[str, Any]:
        if self.fail:
            raise self.fail.pop(0)
        applied, duplicates, refused = 0, 0, []
        for item in sorted(entries, key=lambda e: e["cursor"]):
            if item["cursor"] <= self.cursor:
                duplicates += 1
            elif item["output"]["output_id"] in self.refuse:
                refused.append({"cursor": item["cursor"], "output_id": item["output"]["output_id"],
                                "origin_network_id": "w", "network_id": "y", "reason": "not theirs"})
            elif item["output"]["output_id"] in self.delivered:
                duplicates += 1
            else:
                self.delivered.append(item["output"]["output_id"])
                applied += 1
            self.cursor = max(self.cursor, item["cursor"])
        return {"cursor": self.cursor, "applied": applied, "duplicates": duplicates, "refused": refused}

    def report(self, instance_id: str, state: dict[str, Any]) -> bool:
        self.reports.append(dict(state))
        return True

    def open_peer_links(self, instance_id: str) -> list[dict[str, Any]]:
        return [dict(link) for link in self.links]

    def follow_peer_link(self, link_id: str, remote: dict[str, Any]) -> dict[str, Any]:
        self.followed.append((link_id, remote))
        link = next(link for link in self.links if link["link_id"] == link_id)
        link["status"] = {"active": "active", "rejected": "rejected"}.get(remote["status"], link["status"])
        link["remote_status"] = remote["status"]
        return dict(link)

    def held_directory(self, instance_id: str) -> list[str]:
        return list(self.held)

    def sync_directory(self, instance_id: str, networks: list[dict[str, Any]]) -> dict[str, Any]:
        self.synced.append(networks)
        self.held = [n["id"] for n in networks if n.get("status") != "archived"]
        return {"added": len(networks), "changed": 0, "unchanged": 0}


def follower(peer: FakePeer, local: FakeLocal, settings: FollowerSettings = FAST,
             cursor: int | None = None) -> PeerFollower:
    config = {"instance_id": PEER, "address": "kring-a.example.org:50051", "api_key": "kpk_x",
              "local_network_ids": None, "cursor": local.cursor if cursor is None else cursor, "config_revision": 1}
    return PeerFollower(config, lambda _config: peer, local, settings)


def log_of(n: int) -> list[dict[str, Any]]:
    return [entry(c) for c in range(1, n + 1)]


class RpcError(grpc.RpcError):
    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        self._code, self._details = code, details

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._details


# --- cursors --------------------------------------------------------------------------------------------------------


def test_entries_are_applied_in_batches_and_the_cursor_follows_what_was_applied():
    peer, local = FakePeer(log_of(250)), FakeLocal()
    relay = follower(peer, local)

    relay.attempt()  # the stream delivers everything, then the peer goes away

    assert local.delivered == [f"o-{c}" for c in range(1, 251)]
    assert relay.cursor == local.cursor == 250


def test_the_cursor_does_not_move_when_applying_fails_and_the_next_session_sends_those_entries_again():
    peer, local = FakePeer(log_of(5)), FakeLocal()
    local.fail = [Unavailable("the federation service did not answer within 30 s")]
    relay = follower(peer, local)

    pause = relay.attempt()
    assert (relay.cursor, local.cursor, local.delivered) == (0, 0, [])
    assert relay.state.status == "backing_off" and 0 < pause <= FAST.backoff.cap

    relay.attempt()
    assert peer.asked == [0, 0]
    assert local.delivered == ["o-1", "o-2", "o-3", "o-4", "o-5"] and relay.cursor == 5


def test_a_new_session_resumes_after_the_stored_cursor():
    peer, local = FakePeer(log_of(9), breaks_after=3), FakeLocal(cursor=2)
    relay = follower(peer, local)

    relay.attempt()
    relay.attempt()

    assert peer.asked == [2, 5]
    assert local.delivered == ["o-3", "o-4", "o-5", "o-6", "o-7", "o-8"]


def test_a_relay_that_dies_and_starts_again_misses_nothing_and_doubles_nothing():
    log, local = log_of(40), FakeLocal()
    peer = FakePeer(log, breaks_after=7)
    follower(peer, local).attempt()  # applied 7, then "killed": the follower and its memory are gone
    log += [entry(c) for c in range(41, 61)]
    reborn = follower(FakePeer(log), local)  # starts from the stored cursor, as `kring relay` does
    reborn.attempt()

    assert local.delivered == [f"o-{c}" for c in range(1, 61)]


def test_a_batch_applied_whose_answer_was_lost_is_passed_over_when_sent_again():
    peer, local = FakePeer(log_of(4)), FakeLocal()
    relay = follower(peer, local, cursor=0)
    local.ingest(PEER, log_of(4))  # applied and stored, but the relay never heard back

    relay.attempt()

    assert local.delivered == ["o-1", "o-2", "o-3", "o-4"] and relay.cursor == 4


# --- backoff --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("failures", range(1, 25))
def test_the_backoff_grows_exponentially_to_its_cap_and_its_jitter_stays_within_bounds(failures):
    backoff = Backoff(initial=1.0, cap=60.0, multiplier=2.0, jitter=0.5)
    ceiling = min(60.0, 2.0 ** (failures - 1))
    assert backoff.delay(failures, rand=lambda: 0.0) == ceiling
    assert backoff.delay(failures, rand=lambda: 1.0) == ceiling / 2
    for _ in range(50):
        assert ceiling / 2 <= backoff.delay(failures) <= ceiling <= 60.0


def test_each_failure_in_a_row_waits_longer_until_the_cap():
    peer, local = FakePeer([], stream_error=Unavailable("peer kring-a: UNAVAILABLE")), FakeLocal()
    settings = FollowerSettings(backoff=Backoff(initial=1.0, cap=8.0, jitter=0.5), tick=0.02)
    relay = follower(peer, local, settings)

    pauses = [relay.attempt() for _ in range(6)]

    for n, pause in enumerate(pauses, start=1):
        ceiling = min(8.0, 2.0 ** (n - 1))
        assert ceiling / 2 <= pause <= ceiling
    assert relay.state.consecutive_failures == 6
    assert local.reports[-1]["status"] == "backing_off" and "UNAVAILABLE" in local.reports[-1]["last_error"]


# --- refusals -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", [grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED,
                                  grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND])
def test_a_peer_saying_no_is_a_refusal(code):
    assert isinstance(peer_error(PEER, "the stream", RpcError(code, "no")), PeerRefused)


@pytest.mark.parametrize("code", [grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED,
                                  grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.INTERNAL])
def test_a_peer_being_away_is_worth_retrying(code):
    assert isinstance(peer_error(PEER, "the stream", RpcError(code, "busy")), Unavailable)


def test_a_revoked_key_marks_the_peer_refused_and_is_retried_only_slowly():
    revoked = peer_error(PEER, "the stream", RpcError(grpc.StatusCode.UNAUTHENTICATED, "unknown or revoked key"))
    peer, local = FakePeer([], stream_error=revoked), FakeLocal()
    relay = follower(peer, local)

    pauses = [relay.attempt(), relay.attempt()]

    assert pauses == [FAST.refused_retry] * 2  # not the backoff: asking again soon would not help
    assert (relay.state.status, relay.state.connected) == ("refused", False)
    assert "UNAUTHENTICATED: unknown or revoked key" in relay.state.last_error
    assert "ask the peer's operator for a new one" in relay.state.last_error
    assert local.reports[-1]["status"] == "refused"
    assert metrics.RELAY_PEER_CONNECTED.labels(peer=PEER)._value.get() == 0


def test_this_instance_refusing_the_peer_is_a_refusal_too():
    peer, local = FakePeer(log_of(3)), FakeLocal()
    local.fail = [PermissionDenied("instance kring-a is blocked here: nothing from it is applied")]
    relay = follower(peer, local)

    assert relay.attempt() == FAST.refused_retry
    assert "blocked here" in relay.state.last_error and relay.cursor == 0


def test_an_address_that_answers_as_another_instance_is_refused():
    relay = follower(FakePeer(log_of(3), instance="kring-c"), FakeLocal())

    assert relay.attempt() == FAST.refused_retry
    assert "answers as instance kring-c, not kring-a" in relay.state.last_error


def test_entries_refused_by_the_origin_check_are_counted_and_passed():
    counter = metrics.FEDERATION_ORIGIN_REFUSALS.labels(peer=PEER)
    before = counter._value.get()
    peer, local = FakePeer(log_of(4)), FakeLocal(refuse={"o-2"})
    relay = follower(peer, local)

    relay.attempt()

    assert counter._value.get() == before + 1
    assert local.delivered == ["o-1", "o-3", "o-4"] and relay.cursor == 4


# --- state, lag, stalls, links --------------------------------------------------------------------------------------


def test_while_following_the_state_shows_connected_the_lag_and_the_last_success():
    peer, local = FakePeer(log_of(3), head=(3, 0)), FakeLocal()
    relay = follower(peer, local)
    peer.stream = lambda cursor, nets: FakeStream([e for e in peer.log if e["cursor"] > cursor])  # stays open
    thread = threading.Thread(target=relay.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 5
    while not (relay.state.connected and relay.state.cursor_lag == 0 and relay.cursor == 3):
        assert time.monotonic() < deadline, relay.state
        time.sleep(0.01)
    relay.stop()
    thread.join(5)

    following = [r for r in local.reports if r["status"] == "following" and r["connected"]]
    assert following and following[-1]["last_success_at"]
    assert (local.reports[-1]["status"], local.reports[-1]["connected"]) == ("stopped", False)
    assert metrics.RELAY_PEER_CURSOR_LAG.labels(peer=PEER)._value.get() == 0


def test_a_stream_that_sends_nothing_while_the_peer_says_more_is_waiting_is_reconnected():
    peer, local = FakePeer([], head=(10, 10)), FakeLocal()
    peer.stream = lambda cursor, nets: FakeStream([])  # open, silent
    settings = FollowerSettings(backoff=Backoff(initial=0.01, cap=0.05), tick=0.01, head_interval=0.0,
                                stall_after=0.2, link_interval=10.0)
    relay = follower(peer, local, settings)

    relay.attempt()

    assert "nothing arrived from kring-a" in relay.state.last_error


def test_a_link_accepted_on_the_peer_is_followed_here():
    peer, local = FakePeer([]), FakeLocal()
    local.links = [{"link_id": "ours", "remote_link_id": "theirs", "status": "requested", "remote_status": "requested"}]
    peer.remote_links["theirs"] = {"link_id": "theirs", "status": "active", "target_policy": None}
    watcher = LinkWatcher(PEER, local, interval=0.0)

    assert watcher.poll(peer) == 1
    assert local.followed == [("ours", peer.remote_links["theirs"])]
    assert watcher.poll(peer) == 0  # active here now: read again only every few polls


def test_the_relay_follows_added_peers_restarts_changed_ones_and_lets_removed_ones_go():
    configured = [{"instance_id": "kring-a", "address": "a:1", "api_key": "k", "local_network_ids": None,
                   "cursor": 0, "config_revision": 1}]
    refused = PeerRefused("peer refused: UNAUTHENTICATED")
    relay = Relay(FakeLocal(), lambda: [dict(c) for c in configured],
                  lambda config: FakePeer([], instance=config["instance_id"], stream_error=refused), FAST)
    try:
        relay.reconcile()
        first = relay.followers["kring-a"]
        configured.append({**configured[0], "instance_id": "kring-b"})
        configured[0] = {**configured[0], "config_revision": 2}
        relay.reconcile()
        assert sorted(relay.followers) == ["kring-a", "kring-b"] and relay.followers["kring-a"] is not first
        assert first.stopping
        configured.pop(0)
        relay.reconcile()
        assert sorted(relay.followers) == ["kring-b"]
    finally:
        relay.stop()


# --- the peer's messages -------------------------------------------------------------------------------------------


def test_a_feed_item_becomes_the_entry_the_federation_service_takes():
    item = pb.FeedItem(cursor="42", network_id="y", kind=pb.FEED_ITEM_KIND_SHARED, backfill=True,
                       output=pb.Output(output_id="o-1", origin_network_id="x", kind=pb.OUTPUT_KIND_LESSON,
                                        title="Les", themes=["eenzaamheid"], visibility=pb.VISIBILITY_FEDERATION,
                                        authors=[pb.Author(shown_as="a participant", named=False)]))
    converted = entry_of(item)
    assert converted["cursor"] == 42 and converted["kind"] == "shared" and converted["backfill"]
    assert converted["output"] | {"published_at": None} == {
        "output_id": "o-1", "origin_network_id": "x", "session_id": None, "kind": "lesson", "title": "Les",
        "body": "", "url": None, "resource_type": None, "themes": ["eenzaamheid"], "visibility": "federation",
        "licence": "CC-BY-4.0", "authors": [{"shown_as": "a participant", "named": False}], "published_at": None}
    tomb = entry_of(pb.FeedItem(cursor="43", network_id="y", kind=pb.FEED_ITEM_KIND_RETRACTED,
                                tombstone=pb.Tombstone(output_id="o-1", origin_network_id="x")))
    assert tomb["tombstone"] == {"output_id": "o-1", "origin_network_id": "x", "retracted_at": None}


@pytest.mark.parametrize("seconds", [10**12, -(10**12)])
def test_a_time_outside_the_calendar_from_a_peer_is_passed_on_for_the_federation_service_to_refuse(seconds):
    from google.protobuf.timestamp_pb2 import Timestamp
    from pydantic import ValidationError

    from services.federation.peers.schemas import PeerEntry

    item = pb.FeedItem(cursor="42", network_id="y", kind=pb.FEED_ITEM_KIND_SHARED,
                       output=pb.Output(output_id="o-1", origin_network_id="x", kind=pb.OUTPUT_KIND_LESSON,
                                        title="Les", visibility=pb.VISIBILITY_FEDERATION,
                                        published_at=Timestamp(seconds=seconds)))
    converted = entry_of(item)  # no ValueError from protobuf's conversion
    with pytest.raises(ValidationError) as refused:
        PeerEntry.model_validate(converted)
    assert [error["loc"][-1] for error in refused.value.errors()] == ["published_at"]


def test_a_link_from_the_peer_carries_its_status_and_the_peer_sides_policy():
    link = link_of(pb.Link(link_id="l", status=pb.LINK_STATUS_ACTIVE,
                           target_policy=pb.SharingPolicy(visibilities=[pb.VISIBILITY_FEDERATION])))
    assert link == {"link_id": "l", "status": "active",
                    "target_policy": {"visibilities": ["federation"], "themes": None}}


# --- tracing ----------------------------------------------------------------------------------------------------------


def test_with_tracing_on_each_applied_batch_is_a_trace_holding_its_ingest_call():
    from opentelemetry.trace import SpanKind

    from services.common import tracing
    from tests.support.tracing import traced

    class TracedLocal(FakeLocal):
        def __init__(self) -> None:
            super().__init__()
            self.traces: list[str | None] = []

        def ingest(self, instance_id: str, entries: list[dict[str, Any]]) -> dict[str, Any]:
            self.traces.append(tracing.current_trace_id())
            return super().ingest(instance_id, entries)

    local = TracedLocal()
    with traced("relay") as spans:
        follower(FakePeer(log_of(3)), local).attempt()
    batches = [s for s in spans.get_finished_spans() if s.name == "relay batch process"]
    assert batches and all(s.kind == SpanKind.CONSUMER and s.attributes["kring.peer"] == PEER for s in batches)
    assert local.traces == [format(s.context.trace_id, "032x") for s in batches], "ingest runs inside its batch's span"


# --- the peer's directory of networks -------------------------------------------------------------------------------


def network(network_id: str, name: str | None = None, status: str = "active") -> dict[str, Any]:
    return {"id": network_id, "name": name or f"Netwerk {network_id}", "theme": "armoede", "level": "regional",
            "kind": "werkplaats", "status": status}


def test_a_session_reads_the_peers_directory_first_and_reports_it():
    peer, local = FakePeer(log_of(1)), FakeLocal()
    peer.directory = [network("x1"), network("x2")]
    relay = follower(peer, local)

    relay.attempt()

    assert local.synced == [[network("x1"), network("x2")]]
    assert relay.state.directory_synced_at is not None and relay.state.directory_error is None
    assert any(r["directory_synced_at"] for r in local.reports)


def test_a_network_no_longer_listed_is_asked_for_so_archived_is_told_from_gone():
    peer, local = FakePeer([]), FakeLocal()
    local.held = ["x1", "x2", "x3"]
    peer.directory = [network("x1")]
    peer.archived = {"x2": network("x2", status="archived")}  # x3: NOT_FOUND there

    follower(peer, local).attempt()

    assert local.synced == [[network("x1"), network("x2", status="archived")]]


def test_a_directory_that_cannot_be_read_reports_nothing_says_why_and_the_stream_goes_on():
    peer, local = FakePeer(log_of(3)), FakeLocal()
    peer.directory_error = PeerRefused("peer kring-a refused ListNetworks: UNAUTHENTICATED: unknown key")
    relay = follower(peer, local)

    relay.attempt()

    assert local.synced == []
    assert "UNAUTHENTICATED" in relay.state.directory_error
    assert local.delivered == ["o-1", "o-2", "o-3"]


def test_the_directory_is_read_again_every_interval_while_following():
    peer, local = FakePeer([]), FakeLocal()
    peer.directory = [network("x1")]
    settings = FollowerSettings(backoff=Backoff(initial=0.01, cap=0.05), tick=0.01, head_interval=0.0,
                                report_interval=0.0, link_interval=0.0, directory_interval=0.05)
    relay = follower(peer, local, settings)
    relay.start()
    try:
        deadline = time.monotonic() + 5
        while len(local.synced) < 3 and time.monotonic() < deadline:
            if len(local.synced) == 1:
                peer.directory = [network("x1", "Werkplaats Oost")]
            time.sleep(0.01)
    finally:
        relay.stop()
        relay.join(5)
    assert len(local.synced) >= 3
    assert local.synced[-1] == [network("x1", "Werkplaats Oost")]


def test_the_directory_is_read_while_the_stream_is_refused():
    peer, local = FakePeer([], stream_error=PeerRefused("peer kring-a refused the stream: PERMISSION_DENIED")), \
        FakeLocal()
    peer.directory = [network("x1")]
    settings = FollowerSettings(refused_retry=300.0, tick=0.01, directory_interval=0.05)
    relay = follower(peer, local, settings)
    relay.start()
    try:
        deadline = time.monotonic() + 5
        while len(local.synced) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        relay.stop()
        relay.join(5)
    assert relay.state.status in ("refused", "stopped") and len(local.synced) >= 3


def test_a_directory_read_on_its_own_is_refused_from_another_instance():
    peer, local = FakePeer([], instance="kring-z"), FakeLocal()
    peer.directory = [network("x1")]
    relay = follower(peer, local)

    relay._read_directory_alone()

    assert local.synced == []
    assert "answers as instance kring-z" in relay.state.directory_error


def test_the_peers_networks_are_read_as_the_directory_takes_them():
    listed = network_of(pb.Network(id="x1", name="Werkplaats Oost", theme="armoede",
                                   level=pb.NETWORK_LEVEL_REGIONAL, kind=pb.NETWORK_KIND_WERKPLAATS,
                                   status=pb.NETWORK_STATUS_ACTIVE))
    assert listed == network("x1", "Werkplaats Oost")
    newer = network_of(pb.Network(id="x2", name="X", level=99, status=pb.NETWORK_STATUS_ARCHIVED))
    assert (newer["level"], newer["kind"], newer["status"]) == (None, None, "archived")


def test_a_stream_ended_because_our_networks_there_changed_reconnects_at_once_counting_no_failure():
    changed = Unavailable(f"peer kring-a: the stream: UNAVAILABLE: {KEY_NETWORKS_CHANGED}")
    peer = FakePeer(log_of(2), stream_error=changed)
    relay = follower(peer, FakeLocal())

    assert relay.attempt() == 0.0
    assert relay.state.consecutive_failures == 0 and relay.state.status != "backing_off"


# --- stopping (SIGTERM) ---------------------------------------------------------------------------------------------


PEER_CONFIG = {"instance_id": PEER, "address": "a:1", "api_key": "k", "local_network_ids": None, "cursor": 0,
               "config_revision": 1}


class HangingPeer(FakePeer):
    """A peer whose directory read hangs (a peer gateway that is itself stopping, a network that drops packets)
    until the connection is closed, which ends every call on it as grpc's ``Channel.close`` does."""

    def __init__(self) -> None:
        super().__init__([])
        self.entered = threading.Event()
        self.channel_closed = threading.Event()

    def list_networks(self) -> list[dict[str, Any]]:
        self.entered.set()
        if not self.channel_closed.wait(30):
            return []
        raise Unavailable("peer kring-a: ListNetworks: CANCELLED: Channel closed!")

    def close(self) -> None:
        super().close()
        self.channel_closed.set()


class StoppingLocal(FakeLocal):
    """This instance's federation service while it stops: the follower's last report is never answered, until
    the relay gives up its calls."""

    def __init__(self) -> None:
        super().__init__()
        self.given_up = threading.Event()

    def report(self, instance_id: str, state: dict[str, Any]) -> bool:
        if state["status"] != "stopped":
            return super().report(instance_id, state)
        if self.given_up.wait(30):
            raise Unavailable("the call to the federation service was given up: this process is stopping")
        return super().report(instance_id, state)


def test_stopping_the_relay_ends_a_call_waiting_on_the_peer_at_once_by_closing_its_connection():
    peer, local = HangingPeer(), FakeLocal()
    relay = Relay(local, lambda: [dict(PEER_CONFIG)], lambda _config: peer, FAST)
    relay.reconcile()
    assert peer.entered.wait(5)
    follower = relay.followers[PEER]

    still_running = relay.stop()

    assert not follower.alive
    assert still_running == []
    assert peer.closed == 1  # by stop(), and not again when the session ends
    assert local.reports[-1]["status"] == "stopped"
    assert peer.asked == []  # no stream opened once stopping
    assert not any(r["directory_error"] for r in local.reports)  # the cut-short read is not the peer's failure


def test_stopping_the_relay_gives_up_calls_to_the_federation_service_that_outlive_the_grace():
    peer, local = FakePeer([]), StoppingLocal()
    peer.stream = lambda cursor, nets: FakeStream([])  # open, silent, until cancelled
    relay = Relay(local, lambda: [dict(PEER_CONFIG)], lambda _config: peer, FAST)
    relay.reconcile()
    follower = relay.followers[PEER]
    eventually(lambda: follower.state.connected, "the follower to follow", 5, interval=0.01)

    still_running = relay.stop(grace=0.2, give_up=local.given_up.set)

    assert not follower.alive
    assert local.given_up.is_set() and still_running == []


def test_on_sigterm_the_main_threads_calls_give_up_at_once_and_the_followers_calls_only_once_abandoned():
    stop = StopRequest()
    answers: list[bool] = []
    worker = threading.Thread(target=lambda: answers.append(stop.gives_up()))

    stop.requested = True
    worker.start()
    worker.join(5)
    assert stop.gives_up() and answers == [False]

    stop.abandoned = True
    worker = threading.Thread(target=lambda: answers.append(stop.gives_up()))
    worker.start()
    worker.join(5)
    assert answers == [False, True]
