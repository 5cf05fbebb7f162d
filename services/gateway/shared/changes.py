"""The gateway's change feed: the services' events, turned into the topics the edge caches depend on.

Every gateway process declares its own exclusive, auto-deleted queue (``gateway.changes.<host>.<pid>.<random>``)
bound to the services' event exchanges for the events that change what the edge keeps (:data:`ROUTES`), so
every replica learns every change, and a replica that goes away leaves no queue behind. A kombu consumer
reads it in its own thread (the gateway does not run under eventlet: see decision 0001) and calls
``changed(*topics)`` on each registered cache, and ``on_feed(network_ids, entries)`` (the stream hub) for new feed
entries (``entries``: what a ``feed.appended`` event of version 2 carries, or None).

Messages are taken without acknowledgement: what a change feed misses while it is away is made good by
clearing every cache when it (re)connects, and by the caches' short lifetime while :attr:`ChangeFeed.live` is
false, not by redelivery.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable, Iterable
from typing import Any, Protocol

import kombu
from kombu import Exchange, Queue, binding

from services.common.outbox import event_exchange_name

log = logging.getLogger(__name__)

# The events the edge must learn, by the service that records them.
ROUTES: dict[str, tuple[str, ...]] = {
    "members": ("token.revoked", "member.erased", "member.updated", "membership.joined", "membership.left"),
    "networks": ("network.created", "network.updated", "network.archived"),
    "federation": ("network.blocked", "partner.registered", "partner.key_rotated", "partner.revoked",
                   "partner.blocked", "partner.networks_changed", "feed.appended"),
}

RECONNECT_SECONDS = 1.0
HEARTBEAT_SECONDS = 10


class ChangeListener(Protocol):
    def changed(self, *topics: str) -> None: ...

    def changed_everything(self) -> None: ...


def topics_of(event_type: str, payload: dict[str, Any]) -> list[str]:
    """Which cached answers an event makes stale."""
    if event_type.startswith(("member.", "membership.", "token.")):
        return [f"member:{payload['member_id']}"]
    if event_type == "network.created":
        return ["networks"]
    if event_type in ("network.updated", "network.archived", "network.blocked"):
        return [f"network:{payload['network_id']}", "networks"]
    if event_type.startswith("partner."):
        return [f"partner:{payload['partner_id']}"]
    if event_type == "feed.appended":
        return [f"feed:{network_id}" for network_id in payload["network_ids"]]
    return []


def queue_name() -> str:
    return f"gateway.changes.{socket.gethostname()}.{os.getpid()}.{secrets.token_hex(4)}"


def changes_queue(name: str) -> Queue:
    bindings = [binding(Exchange(event_exchange_name(producer), type="topic", durable=True, auto_delete=False),
                        routing_key=event_type)
                for producer, event_types in ROUTES.items() for event_type in event_types]
    return Queue(name, bindings=bindings, exclusive=True, auto_delete=True, durable=False)


class ChangeFeed:
    def __init__(self, amqp_uri: str, *, listeners: Iterable[ChangeListener] = (),
                 on_feed: Callable[[list[str], dict[str, Any] | None], None] | None = None,
                 reconnect_seconds: float = RECONNECT_SECONDS) -> None:
        self.amqp_uri = amqp_uri
        self.listeners: list[ChangeListener] = list(listeners)
        self.on_feed = on_feed
        self.reconnect_seconds = reconnect_seconds
        self.queue_name = queue_name()
        self.received = 0
        self._live = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def live(self) -> bool:
        """Whether changes reach the caches now: the queue is bound and being consumed."""
        return self._live.is_set()

    def is_live(self) -> bool:
        return self._live.is_set()

    def wait_live(self, timeout: float) -> bool:
        return self._live.wait(timeout)

    def add(self, listener: ChangeListener) -> None:
        self.listeners.append(listener)

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="change-feed", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)

    # --- handling one event -----------------------------------------------------------------------------

    def handle(self, body: Any) -> None:
        """Pass one event's topics to every cache (and new feed entries to the stream hub)."""
        if not isinstance(body, dict) or not isinstance(body.get("payload"), dict):
            log.warning("change feed: not an event envelope; ignored")
            return
        event_type, payload = str(body.get("type")), body["payload"]
        try:
            topics = topics_of(event_type, payload)
        except (KeyError, TypeError):
            log.warning("change feed: %s without the ids it should carry; clearing every cache", event_type)
            self._everything_changed()
            return
        self.received += 1
        if topics:
            for listener in self.listeners:
                listener.changed(*topics)
        if event_type == "feed.appended" and self.on_feed is not None:
            self.on_feed(list(payload["network_ids"]), payload.get("entries"))

    def _everything_changed(self) -> None:
        for listener in self.listeners:
            listener.changed_everything()

    # --- the consumer thread -------------------------------------------------------------------------------

    def _run(self) -> None:
        failing = False
        while not self._stopping.is_set():
            try:
                self._consume()
            except Exception as exc:  # noqa: BLE001 - the broker went away (or never came): retry, caches degrade
                if not failing:
                    log.warning("change feed: not connected to the broker (%s); edge caches fall back to their short "
                                "lifetime, retrying every %g s", exc, self.reconnect_seconds)
                failing = True
            else:
                failing = False
            finally:
                self._live.clear()
            self._stopping.wait(self.reconnect_seconds)

    def _consume(self) -> None:
        def on_message(body: Any, message: kombu.Message) -> None:
            try:
                self.handle(body)
            except Exception:  # a bug in one event must not end the feed: log it and forget everything
                log.exception("change feed: cannot handle an event")
                self._everything_changed()

        with kombu.Connection(self.amqp_uri, heartbeat=HEARTBEAT_SECONDS, connect_timeout=5) as connection:
            connection.ensure_connection(max_retries=1)
            with connection.Consumer(changes_queue(self.queue_name), callbacks=[on_message], no_ack=True,
                                     accept=["json"]):
                # Bound and consuming: changes reach the caches from now on; what changed before is unknown.
                self._everything_changed()
                self._live.set()
                log.info("change feed: live on queue %s", self.queue_name)
                while not self._stopping.is_set():
                    try:
                        connection.drain_events(timeout=1.0)
                    except TimeoutError:
                        connection.heartbeat_check()
