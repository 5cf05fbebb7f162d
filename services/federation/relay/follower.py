"""One peer instance, followed: its ``StreamOutputs`` from our stored cursor, each batch applied here, its state
kept for the admin API and the metrics.

A session: ``GetInstance`` (the address must answer as the configured instance), then the stream from our
cursor. A reader thread puts the peer's entries on a bounded queue (a full queue stops reading, and gRPC flow
control then slows the peer); the follower takes up to ``batch`` entries at a time and hands them to this
instance's federation service, which applies them and stores the new cursor **in the same transaction**. So the
cursor only ever moves past what is applied, a crash anywhere loses nothing (the stream resumes from the stored
cursor) and repeats nothing (entries at or before the stored cursor are passed over, outputs are deduplicated by
id). Between entries, at least every ``tick``, it asks the peer how far behind it is (``GetFeedHead``), polls the
links whose other side is on the peer, and reports its state. The peer's directory of networks is read at the
start of each session and every ``directory_interval`` seconds, while following and while waiting to try again
(:mod:`services.federation.relay.directory`).

When something fails:

- the peer is away or the stream broke (UNAVAILABLE, DEADLINE_EXCEEDED, a stalled stream, ...) or this
  instance's federation service did not answer: try again after a capped exponential backoff with jitter;
- the peer refused (UNAUTHENTICATED, PERMISSION_DENIED, INVALID_ARGUMENT, NOT_FOUND, another instance at the
  address) or this instance refuses the peer (no partner of kind instance for it, or it is blocked here): the
  peer is ``refused``, with the error in its state; asking again the same way would not help, so the follower
  asks again only every ``refused_retry`` seconds, or at once when the operator changes the peer (a new
  follower replaces this one).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from services.common import metrics, tracing
from services.common.errors import KEY_NETWORKS_CHANGED, KringError, NotFound, PermissionDenied, Unavailable
from services.federation.relay.backoff import Backoff
from services.federation.relay.directory import DirectoryWatcher
from services.federation.relay.links import LinkWatcher
from services.federation.relay.peer_client import PeerRefused

log = logging.getLogger(__name__)


class PeerStream(Protocol):
    def __iter__(self) -> Iterator[dict[str, Any]]: ...

    def cancel(self) -> None: ...


class Peer(Protocol):
    """The peer's gRPC API (:class:`services.federation.relay.peer_client.PeerClient`)."""

    def get_instance(self) -> dict[str, str]: ...

    def stream(self, cursor: int, network_ids: list[str] | None) -> PeerStream: ...

    def feed_head(self, cursor: int, network_ids: list[str] | None) -> tuple[int, int]: ...

    def get_link(self, link_id: str) -> dict[str, Any]: ...

    def list_networks(self) -> list[dict[str, Any]]: ...

    def get_network(self, network_id: str) -> dict[str, Any] | None: ...

    def close(self) -> None: ...


class Local(Protocol):
    """This instance's federation service (:class:`services.federation.relay.local.LocalFederation`)."""

    def ingest(self, instance_id: str, entries: list[dict[str, Any]]) -> dict[str, Any]: ...

    def report(self, instance_id: str, state: dict[str, Any]) -> bool: ...

    def open_peer_links(self, instance_id: str) -> list[dict[str, Any]]: ...

    def follow_peer_link(self, link_id: str, remote: dict[str, Any]) -> dict[str, Any]: ...

    def held_directory(self, instance_id: str) -> list[str]: ...

    def sync_directory(self, instance_id: str, networks: list[dict[str, Any]]) -> dict[str, Any]: ...


@dataclass(frozen=True)
class FollowerSettings:
    backoff: Backoff = field(default_factory=Backoff)
    refused_retry: float = 300.0  # seconds between attempts at a peer that refused us (or that we refuse)
    batch: int = 100  # entries per call to the federation service
    buffer: int = 1000  # entries read ahead from the stream
    tick: float = 1.0  # the longest the follower waits on the stream before looking up
    head_interval: float = 15.0  # how often to ask the peer for the cursor lag
    report_interval: float = 5.0  # how often to report the state when nothing changes
    stall_after: float = 60.0  # nothing received this long while the peer says more is waiting: reconnect
    healthy_after: float = 10.0  # a stream open this long without an error resets the failure count
    link_interval: float = 5.0
    directory_interval: float = 60.0  # how often to read the peer's directory of networks


@dataclass
class PeerState:
    status: str = "connecting"  # connecting, following, backing_off, refused, stopped
    connected: bool = False
    consecutive_failures: int = 0
    last_success_at: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None
    head_cursor: int | None = None
    cursor_lag: int | None = None
    remote_instance: str | None = None
    directory_synced_at: datetime | None = None
    directory_error: str | None = None

    def wire(self) -> dict[str, Any]:
        return {key: value.isoformat() if isinstance(value, datetime) else value
                for key, value in self.__dict__.items()}


_END = object()  # the peer closed the stream


class Stopping(Exception):
    """The follower was stopped before it could connect."""


class StreamReader:
    """Reads a stream on its own thread into a bounded queue; ``take`` hands out entries in batches."""

    def __init__(self, stream: PeerStream, capacity: int) -> None:
        self.stream = stream
        # entries (dicts), then _END or the exception that ended the stream
        self._queue: queue.Queue[object] = queue.Queue(maxsize=capacity)
        self._held: object = None  # an end or an error met while draining a batch: handed out next time
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._read, name="relay-stream", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            for entry in self.stream:
                if not self._put(entry):
                    return
            self._put(_END)
        except Exception as exc:  # noqa: BLE001 - handed to the follower, which knows what each error means
            self._put(exc)

    def _put(self, item: object) -> bool:
        while not self._closing.is_set():
            try:
                self._queue.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def take(self, most: int, timeout: float) -> tuple[list[dict[str, Any]], object]:
        """(entries, None), or ([], the end or the error) when the stream is over; ([], None) on a timeout."""
        if self._held is not None:
            held, self._held = self._held, None
            return [], held
        try:
            first = self._queue.get(timeout=timeout)
        except queue.Empty:
            return [], None
        if not isinstance(first, dict):
            return [], first
        entries = [first]
        while len(entries) < most:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if not isinstance(item, dict):
                self._held = item
                break
            entries.append(item)
        return entries, None

    def close(self) -> None:
        self._closing.set()
        self.stream.cancel()
        self._thread.join(timeout=5)


class PeerFollower:
    def __init__(self, config: dict[str, Any], connect: Callable[[dict[str, Any]], Peer], local: Local,
                 settings: FollowerSettings = FollowerSettings(), *, clock: Callable[[], float] = time.monotonic,
                 wall: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.config = config
        self.instance_id: str = config["instance_id"]
        self.network_ids: list[str] | None = config.get("local_network_ids")
        self.cursor: int = int(config.get("cursor") or 0)
        self.connect = connect
        self.local = local
        self.settings = settings
        self.clock = clock
        self.wall = wall
        self.state = PeerState()
        self.links = LinkWatcher(self.instance_id, local, interval=settings.link_interval, clock=clock)
        self.directory = DirectoryWatcher(self.instance_id, local, interval=settings.directory_interval, clock=clock)
        self._stop = threading.Event()
        self._reader: StreamReader | None = None
        self._peer: Peer | None = None  # the connection in use: closed by stop(), which ends its calls at once
        self._peer_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._last_report = float("-inf")
        self._last_head = float("-inf")

    @property
    def config_revision(self) -> int:
        return int(self.config.get("config_revision") or 0)

    # --- running ---------------------------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name=f"relay-{self.instance_id}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop following: the stream is cancelled and the peer's connection closed, so a call waiting on the
        peer (a stream read, a unary call with its 10 s deadline) ends now, not when the peer answers."""
        self._stop.set()
        reader = self._reader
        if reader is not None:
            reader.stream.cancel()
        with self._peer_lock:
            peer, self._peer = self._peer, None
        if peer is not None:
            peer.close()

    def _connect(self) -> Peer:
        """A connection to the peer, which stop() can close; None once stopping."""
        peer = self.connect(self.config)
        with self._peer_lock:
            if not self.stopping:
                self._peer = peer
                return peer
        peer.close()
        raise Stopping(f"stopped following {self.instance_id}")

    def _disconnect(self, peer: Peer) -> None:
        with self._peer_lock:
            if self._peer is not peer:
                return  # stop() has closed it already
            self._peer = None
        peer.close()

    def join(self, timeout: float) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def run(self) -> None:
        log.info("following peer %s at %s from cursor %s", self.instance_id, self.config.get("address"), self.cursor)
        metrics.start_relay_peer(self.instance_id)  # at 0, so the first refusal shows in rate()
        while not self.stopping:
            pause = self.attempt()
            self._wait(pause)

    def _wait(self, pause: float) -> None:
        """Wait before the next attempt, reading the peer's directory meanwhile when it is due."""
        until = self.clock() + pause
        while not self.stopping:
            left = until - self.clock()
            if left <= 0:
                return
            self._stop.wait(max(0.0, min(left, self.directory.due_in())))
            if self.directory.due_in() <= 0 and not self._stop.is_set():
                self._read_directory_alone()

    def _read_directory_alone(self) -> None:
        """The peer's directory while no session is open (backing off, refused): a connection of its own."""
        try:
            peer = self._connect()
        except Stopping:
            return
        except KringError as exc:
            self.directory.read_failed()
            self._directory_read(str(exc))
            return
        try:
            answered = peer.get_instance()["id"]
            if answered != self.instance_id:  # never take another instance's directory for this one's
                self.directory.read_failed()
                self._directory_read(f"{self.config.get('address')} answers as instance {answered}, not "
                                     f"{self.instance_id}: check the peer's address")
                return
            self._directory_read(self.directory.read(peer))
        except KringError as exc:
            if self.stopping:
                return
            self.directory.read_failed()
            self._directory_read(str(exc))
        finally:
            self._disconnect(peer)

    def _directory_read(self, error: str | None) -> None:
        if error is not None and self.stopping:
            return  # the read was cut short by stop() closing the connection: not the peer's directory failing
        if error is None:
            self._set(directory_synced_at=self.wall(), directory_error=None)
        else:
            self._set(directory_error=error[:1000])
        self._report(force=True)

    def attempt(self) -> float:
        """One session with the peer, to its end; how long to wait before the next one."""
        try:
            self._session()
        except Exception as exc:  # noqa: BLE001 - each kind is sorted out below; a bug must not end the follower
            if self.stopping:  # stop() closed the connection under the call: nothing failed, nothing to report
                log.debug("relay: peer %s: stopped during %s", self.instance_id, type(exc).__name__)
                return 0.0
            return self._after(exc)
        if self.stopping:
            return 0.0
        return self._failed("the peer closed the stream")

    def _after(self, exc: Exception) -> float:
        """How long to wait after a session that ended in ``exc``."""
        if isinstance(exc, PeerRefused):
            return self._refused(str(exc))
        if isinstance(exc, PermissionDenied | NotFound):  # this instance refuses the peer's entries
            return self._refused(f"this instance refuses entries from {self.instance_id}: {exc}")
        if isinstance(exc, Unavailable) and KEY_NETWORKS_CHANGED in str(exc):
            # our networks there changed: follow them, at once
            log.info("relay: peer %s: our networks there changed; following them anew", self.instance_id)
            return 0.0
        if isinstance(exc, KringError):  # the peer is away, or our own federation service
            return self._failed(str(exc))
        # a bug: keep following the other peers, and retry this one later
        log.error("relay: unexpected error following peer %s", self.instance_id, exc_info=exc)
        return self._failed(f"unexpected error: {type(exc).__name__}: {exc}")

    # --- a session ---------------------------------------------------------------------------------------------

    def _session(self) -> None:
        peer = self._connect()
        try:
            self._set(status="connecting", connected=False)
            answered = peer.get_instance()["id"]
            if answered != self.instance_id:
                raise PeerRefused(f"{self.config.get('address')} answers as instance {answered}, not "
                                  f"{self.instance_id}: check the peer's address")
            self.state.remote_instance = answered
            self._directory_read(self.directory.read(peer))
            if self.stopping:
                return
            self._reader = StreamReader(peer.stream(self.cursor, self.network_ids), self.settings.buffer)
            try:
                self._follow(peer, self._reader)
            finally:
                self._reader.close()
                self._reader = None
        finally:
            self._set(connected=False, **({"status": "stopped"} if self.stopping else {}))
            self._disconnect(peer)

    def _follow(self, peer: Peer, reader: StreamReader) -> None:
        opened = last_received = self.clock()
        self._last_head = float("-inf")
        while not self.stopping:
            entries, over = reader.take(self.settings.batch, self.settings.tick)
            if over is _END:
                return
            if isinstance(over, BaseException):
                raise over
            now = self.clock()
            if entries:
                last_received = now
                self._apply(entries)
            elif not self.state.connected:  # a tick without an error: the peer accepted the stream
                self._set(status="following", connected=True, last_success_at=self.wall())
            elif (self.state.cursor_lag and now - last_received >= self.settings.stall_after
                    and now - opened >= self.settings.stall_after):
                raise Unavailable(f"nothing arrived from {self.instance_id} for {now - last_received:.0f} s while "
                                  f"its feed holds {self.state.cursor_lag} more entries: reconnecting")
            self._look_up(peer, now, opened)

    def _look_up(self, peer: Peer, now: float, opened: float) -> None:
        """Between batches (and at least every tick): the failure count, the lag, the links, the state."""
        if self.state.consecutive_failures and now - opened >= self.settings.healthy_after:
            self._set(consecutive_failures=0)
        if now - self._last_head >= self.settings.head_interval:
            self._last_head = now
            self._ask_head(peer)
        self.links.poll(peer)
        if self.directory.due_in() <= 0:
            self._directory_read(self.directory.read(peer))
        self._report_if_due()

    def _apply(self, entries: list[dict[str, Any]]) -> None:
        # One trace per batch (tracing on): its ingest call into the federation service and what that causes.
        with tracing.span("relay batch process", kind=tracing.SpanKind.CONSUMER,
                          attributes={"kring.peer": self.instance_id, "messaging.batch.message_count": len(entries)}):
            result = self.local.ingest(self.instance_id, entries)
        self.cursor = max(self.cursor, int(result["cursor"]))
        refused = result.get("refused") or []
        for outcome, count in (("applied", result.get("applied", 0)), ("duplicate", result.get("duplicates", 0)),
                               ("refused", len(refused))):
            if count:
                metrics.RELAY_ENTRIES.labels(peer=self.instance_id, outcome=outcome).inc(count)
        for skipped in refused:
            metrics.FEDERATION_ORIGIN_REFUSALS.labels(peer=self.instance_id).inc()
            log.warning("peer %s: refused output %s (origin %s, in our network %s, cursor %s): %s", self.instance_id,
                        skipped.get("output_id"), skipped.get("origin_network_id"), skipped.get("network_id"),
                        skipped.get("cursor"), skipped.get("reason"))
        lag = self.state.cursor_lag
        if lag is not None:
            lag = 0 if self.state.head_cursor is not None and self.cursor >= self.state.head_cursor \
                else max(0, lag - len(entries))
        self._set(status="following", connected=True, consecutive_failures=0, last_success_at=self.wall(),
                  cursor_lag=lag)

    def _ask_head(self, peer: Peer) -> None:
        try:
            head, pending = peer.feed_head(self.cursor, self.network_ids)
        except KringError as exc:  # an older peer without GetFeedHead, or a hiccup: the stream decides
            log.debug("peer %s: no feed head: %s", self.instance_id, exc)
            return
        self._set(head_cursor=head, cursor_lag=pending)

    # --- state -------------------------------------------------------------------------------------------------

    def _refused(self, message: str) -> float:
        log.error("relay: peer %s refused (next attempt in %.0f s, or when its configuration changes): %s",
                  self.instance_id, self.settings.refused_retry, message)
        self._set(status="refused", connected=False, consecutive_failures=self.state.consecutive_failures + 1,
                  last_error=message, last_error_at=self.wall())
        return self.settings.refused_retry

    def _failed(self, message: str) -> float:
        failures = self.state.consecutive_failures + 1
        pause = self.settings.backoff.delay(failures)
        log.warning("relay: peer %s: %s (attempt %d failed; next in %.1f s)", self.instance_id, message, failures,
                    pause)
        self._set(status="backing_off", connected=False, consecutive_failures=failures, last_error=message,
                  last_error_at=self.wall())
        return pause

    def _set(self, **changes: Any) -> None:
        for key, value in changes.items():
            setattr(self.state, key, value)
        peer = self.instance_id
        metrics.RELAY_PEER_CONNECTED.labels(peer=peer).set(1 if self.state.connected else 0)
        metrics.RELAY_PEER_CONSECUTIVE_FAILURES.labels(peer=peer).set(self.state.consecutive_failures)
        if self.state.last_success_at is not None:
            metrics.RELAY_PEER_LAST_SUCCESS.labels(peer=peer).set(self.state.last_success_at.timestamp())
        if self.state.cursor_lag is not None:
            metrics.RELAY_PEER_CURSOR_LAG.labels(peer=peer).set(self.state.cursor_lag)
        if "status" in changes or "connected" in changes:
            self._report(force=True)

    def _report_if_due(self) -> None:
        self._report(force=False)

    def _report(self, *, force: bool) -> None:
        now = self.clock()
        if not force and now - self._last_report < self.settings.report_interval:
            return
        self._last_report = now
        try:
            self.local.report(self.instance_id, self.state.wire())
        except KringError as exc:  # our federation service is away: the state waits for the next report
            log.debug("relay: cannot report the state of peer %s: %s", self.instance_id, exc)


def forget_metrics(instance_id: str) -> None:
    """A peer removed: its series end (the label set is the configured peers)."""
    for gauge in (metrics.RELAY_PEER_CONNECTED, metrics.RELAY_PEER_CURSOR_LAG,
                  metrics.RELAY_PEER_CONSECUTIVE_FAILURES, metrics.RELAY_PEER_LAST_SUCCESS):
        try:
            gauge.remove(instance_id)
        except KeyError:
            pass
