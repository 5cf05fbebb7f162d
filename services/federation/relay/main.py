"""Run the relay (``kring relay``): one follower per configured peer, the peer list reloaded every
``KRING_RELAY_RELOAD_INTERVAL`` seconds (a new peer is followed, a removed one let go, a changed one followed
anew from its stored cursor), metrics on ``KRING_METRICS_PORT`` + 5.

No eventlet here: grpcio hangs under it. The federation service is reached through the gateway's pool of
nameko standalone RPC proxies, which imports nameko (and so eventlet) without patching anything.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

from services.common.config import Settings, get_settings
from services.common.errors import KringError
from services.common.logs import configure_logging
from services.common.metrics import serve_metrics
from services.common.tracing import configure_tracing, shutdown_tracing
from services.federation.relay.backoff import Backoff
from services.federation.relay.follower import FollowerSettings, Local, Peer, PeerFollower, forget_metrics
from services.federation.relay.local import LocalFederation
from services.federation.relay.peer_client import PeerClient
from services.federation.relay.transport import ClientIdentity

log = logging.getLogger(__name__)

STOP_GRACE = 5.0  # a follower let go (its peer removed or changed) finishes what it is doing within this
# On SIGTERM: the followers get this long, all together, to end on their own (their last report of the peer's
# state); then calls still waiting for this instance's federation service (itself stopping) are given up.
SHUTDOWN_GRACE, ABANDONED_GRACE = 2.0, 1.0


class Relay:
    """The followers, in step with the peers configured in the federation database."""

    def __init__(self, local: Local, peers: Callable[[], list[dict[str, Any]]],
                 connect: Callable[[dict[str, Any]], Peer], settings: FollowerSettings) -> None:
        self.local = local
        self.peers = peers
        self.connect = connect
        self.settings = settings
        self.followers: dict[str, PeerFollower] = {}
        self._unreachable = False

    def reconcile(self) -> bool:
        """Start, restart and stop followers to match the configured peers; False if they could not be read."""
        try:
            configured = {p["instance_id"]: p for p in self.peers()}
        except KringError as exc:
            if not self._unreachable:
                log.warning("relay: cannot read the peers from the federation service (will retry): %s", exc)
            self._unreachable = True
            return False
        if self._unreachable:
            log.info("relay: reading the peers again")
        self._unreachable = False
        for instance_id in [i for i in self.followers if i not in configured]:
            log.info("relay: peer %s was removed; letting go", instance_id)
            self._retire(instance_id)
            forget_metrics(instance_id)
        for instance_id, config in configured.items():
            running = self.followers.get(instance_id)
            if running is not None and running.config_revision == int(config["config_revision"]):
                continue
            if running is not None:
                log.info("relay: peer %s was reconfigured; following it anew", instance_id)
                self._retire(instance_id)
            follower = PeerFollower(config, self.connect, self.local, self.settings)
            self.followers[instance_id] = follower
            follower.start()
        return True

    def stop(self, *, grace: float = SHUTDOWN_GRACE, give_up: Callable[[], None] = lambda: None,
             clock: Callable[[], float] = time.monotonic) -> list[str]:
        """Stop every follower at once; wait up to ``grace`` seconds for them all, then ``give_up`` (calls still
        waiting fail at once) and wait a little more. Returns the peers whose follower is still running."""
        followers, self.followers = self.followers, {}
        for follower in followers.values():
            follower.stop()
        deadline = clock() + grace
        for follower in followers.values():
            follower.join(max(0.0, deadline - clock()))
        running = [i for i, f in followers.items() if f.alive]
        if running:
            give_up()
            deadline = clock() + ABANDONED_GRACE
            for instance_id in running:
                followers[instance_id].join(max(0.0, deadline - clock()))
            running = [i for i in running if followers[i].alive]
        return running

    def _retire(self, instance_id: str) -> None:
        follower = self.followers.pop(instance_id)
        follower.stop()
        follower.join(STOP_GRACE)


class StopRequest:
    """Set from signal handlers: a plain attribute (see services.gateway.main.StopRequest).

    ``abandoned``: the calls to this instance's federation service still waiting are given up (the relay's own
    call reading the peers at once, the followers' after their grace): a service that is stopping may never
    answer, and the relay must not wait out its 10 s timeout with its grace period running.
    """

    requested = False
    abandoned = False

    def gives_up(self) -> bool:
        """Whether the calling thread should give up its call now."""
        if self.abandoned:
            return True
        return self.requested and threading.current_thread() is threading.main_thread()


def refuse_if_monkey_patched() -> None:
    eventlet = sys.modules.get("eventlet")
    if eventlet is not None and eventlet.patcher.is_monkey_patched("socket"):
        raise RuntimeError("the relay runs grpcio and must not run under eventlet.monkey_patch()")


def follower_settings(settings: Settings) -> FollowerSettings:
    return FollowerSettings(backoff=Backoff(initial=settings.relay_backoff_initial, cap=settings.relay_backoff_max),
                            refused_retry=settings.relay_refused_retry,
                            directory_interval=settings.peer_directory_sync_seconds)


def run_relay(settings: Settings | None = None) -> None:
    from services.common.rpc_client import NamekoProxy, RpcPool

    settings = settings or get_settings()
    configure_logging("relay", settings.log_level, settings.log_format)
    configure_tracing("relay", settings.tracing, instance_id=settings.instance_id)
    refuse_if_monkey_patched()
    try:
        serve_metrics(settings.metrics_port_for("relay"), settings.bind_host)
    except OSError as exc:
        log.error("cannot start the relay: %s (metrics port %s)", exc, settings.metrics_port_for("relay"))
        raise SystemExit(1) from None
    config = settings.nameko_config("relay")
    stop = StopRequest()
    pool = RpcPool(lambda: NamekoProxy(config, settings.rpc_timeout, abandon=stop.gives_up), 4, settings.rpc_timeout)
    local = LocalFederation(pool, settings.rpc_timeout)

    identity = ClientIdentity.from_settings(settings)

    def connect(peer: dict[str, Any]) -> Peer:
        return PeerClient(peer["instance_id"], peer["address"], peer["api_key"], timeout=settings.rpc_timeout,
                          transport=peer.get("transport"), identity=identity)

    relay = Relay(local, local.peers, connect, follower_settings(settings))

    def request_stop(_sig: int, _frame: FrameType | None) -> None:
        stop.requested = True

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, request_stop)
    log.info("relay started (instance %s); metrics on :%s; reloading peers every %g s", settings.instance_id,
             settings.metrics_port_for("relay"), settings.relay_reload_interval)
    try:
        next_reload = 0.0
        while not stop.requested:
            if time.monotonic() >= next_reload:
                read = relay.reconcile()  # not read: the federation service is starting; ask again soon
                next_reload = time.monotonic() + (settings.relay_reload_interval if read else
                                                  min(2.0, settings.relay_reload_interval))
            time.sleep(0.2)
    finally:
        stop.requested = True  # also when leaving on an error: the main thread's calls give up from here on

        def give_up() -> None:
            stop.abandoned = True

        running = relay.stop(give_up=give_up)
        if running:  # daemon threads: they do not hold the process up
            log.warning("relay: the followers of %s did not stop in time; leaving them", ", ".join(running))
        pool.close()
        shutdown_tracing()
        log.info("relay stopped")
