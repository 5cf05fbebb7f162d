"""Declare every exchange and handler queue up front, and the policies that govern them (``kring declare``, also
run by ``make run`` and the Kubernetes migration Job).

nameko publishes events with ``mandatory=False``: an event sent before its handler's queue exists is
dropped silently. Declaring all queues before any service starts means an event published while its
consumer is down waits in the consumer's durable queue.

Delivery limit and dead-lettering are the RabbitMQ policy ``kring-events`` (pattern ``^evt-``), set through the
management API, not queue arguments: RabbitMQ applies a changed policy to queues that exist, whereas a queue's
arguments are fixed when it is first declared. Queues that Kring 0.1.0 declared with those arguments keep
working (:func:`services.common.nameko_kit.declare_queues`) and :func:`migrate_queue` moves them onto the policy.
"""

from __future__ import annotations

import base64
import contextlib
import importlib
import inspect
import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import amqp.exceptions
import kombu
from nameko.extensions import ENTRYPOINT_EXTENSIONS_ATTR

from services.common.config import available_services
from services.common.nameko_kit import (
    DEAD_LETTER_EXCHANGE,
    KringEventHandler,
    NamekoService,
    dead_letter_queue,
    declare_queues,
    event_queue,
)

EVENT_POLICY = "kring-events"
EVENT_QUEUE_PATTERN = "^evt-"
# Above 0 so a catch-all policy someone adds with the default priority does not take the event queues from it.
EVENT_POLICY_PRIORITY = 10
# The arguments Kring 0.1.0 declared event queues with, which the policy replaces.
LEGACY_ARGUMENTS = ("x-delivery-limit", "x-dead-letter-exchange")
HOLDING_SUFFIX = ".upgrade"  # a queue's stand-in while it is declared anew (migrate_queue)
DEFAULT_AMQP_PORT, DEFAULT_MANAGEMENT_PORT = 5672, 15672


def service_class(service: str) -> type[NamekoService]:
    module = importlib.import_module(f"services.{service}.service")
    found: type[NamekoService] = module.SERVICE
    return found


def handler_queues(service_cls: type[NamekoService]) -> Iterator[kombu.Queue]:
    for method_name, method in inspect.getmembers(service_cls, inspect.isfunction):
        for extension in getattr(method, ENTRYPOINT_EXTENSIONS_ATTR, ()):
            if isinstance(extension, KringEventHandler):
                yield event_queue(extension.source_service, extension.event_type, service_cls.name, method_name)


def all_handler_queues() -> list[kombu.Queue]:
    return [queue for service in available_services() for queue in handler_queues(service_class(service))]


def event_policies(delivery_limit: int) -> dict[str, dict[str, Any]]:
    """Every policy Kring needs, by name, as the management API takes them (``PUT /api/policies/vhost/name``).
    The Kubernetes Policy objects (deploy/k8s/overlays/production/rabbitmq-policies.yaml) carry the same."""
    return {EVENT_POLICY: {
        "pattern": EVENT_QUEUE_PATTERN,
        "apply-to": "queues",
        "priority": EVENT_POLICY_PRIORITY,
        "definition": {"delivery-limit": delivery_limit, "dead-letter-exchange": DEAD_LETTER_EXCHANGE},
    }}


# --- the management API ----------------------------------------------------------------------------------------


class ManagementError(RuntimeError):
    pass


@dataclass
class Management:
    """The few calls of RabbitMQ's management HTTP API that Kring needs, for one virtual host."""

    url: str
    vhost: str
    user: str
    password: str = field(repr=False)
    timeout: float = 10.0

    @classmethod
    def for_broker(cls, amqp_uri: str, management_url: str | None = None) -> Management:
        """The management API of the broker and virtual host ``amqp_uri`` names. Without ``management_url``:
        the same host, port 15672 and credentials, when the AMQP URI uses the standard port (another port means
        a broker set up on purpose, whose management port cannot be guessed)."""
        amqp = urlsplit(amqp_uri)
        vhost = unquote(amqp.path[1:]) if len(amqp.path) > 1 else "/"
        if management_url:
            api = urlsplit(management_url)
            user = unquote(api.username) if api.username else unquote(amqp.username or "guest")
            password = unquote(api.password) if api.password is not None else unquote(amqp.password or "guest")
            if not api.hostname:
                raise ManagementError(f"KRING_RABBITMQ_MANAGEMENT_URL names no host: {management_url!r} (it "
                                      "takes a URL, http://host:15672)")
            netloc = api.hostname + (f":{api.port}" if api.port else "")
            return cls(urlunsplit((api.scheme, netloc, api.path.rstrip("/"), "", "")), vhost, user, password)
        if (amqp.port or DEFAULT_AMQP_PORT) != DEFAULT_AMQP_PORT or amqp.scheme != "amqp":
            raise ManagementError(f"KRING_AMQP_URI names {amqp.scheme} port {amqp.port}: set "
                                  "KRING_RABBITMQ_MANAGEMENT_URL to that broker's management API")
        return cls(f"http://{amqp.hostname}:{DEFAULT_MANAGEMENT_PORT}", vhost,
                   unquote(amqp.username or "guest"), unquote(amqp.password or "guest"))

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        if not self.url.startswith(("http://", "https://")):
            raise ManagementError(f"the management API's URL must be http(s): {self.url}")
        request = urllib.request.Request(self.url + path, method=method,  # noqa: S310 - http(s), checked above
                                         data=None if body is None else json.dumps(body).encode())
        token = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
        request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - checked above
                text = response.read()
        except urllib.error.HTTPError as exc:
            if exc.code == 404 and method == "GET":
                return None
            raise ManagementError(f"{method} {self.url}{path}: {exc.code} {exc.read()[:200]!r}") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise ManagementError(f"RabbitMQ's management API does not answer at {self.url} ({exc})") from exc
        return json.loads(text) if text else None

    def _path(self, kind: str, name: str | None = None) -> str:
        path = f"/api/{kind}/{quote(self.vhost, safe='')}"
        return path if name is None else f"{path}/{quote(name, safe='')}"

    def put_policy(self, name: str, policy: dict[str, Any]) -> None:
        self._call("PUT", self._path("policies", name), policy)

    def policies(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] | None = self._call("GET", self._path("policies"))
        return found or []

    def queue(self, name: str) -> dict[str, Any] | None:
        found: dict[str, Any] | None = self._call("GET", self._path("queues", name))
        return found


# --- declaring -------------------------------------------------------------------------------------------------


@dataclass
class Declared:
    queues: list[str]
    kept: list[str]  # queues that keep the arguments an earlier Kring gave them (migrate_queue moves them)
    problems: list[str]  # policies missing, different or shadowed: the delivery limit is not what it should be


def policy_problems(management: Management, expected: dict[str, dict[str, Any]], queues: list[str]) -> list[str]:
    """What keeps the event queues from being governed by exactly the expected policies."""
    found = []
    present = {p["name"]: p for p in management.policies()}
    for name, want in expected.items():
        have = present.get(name)
        if have is None:
            found.append(f"policy {name} does not exist on virtual host {management.vhost}")
            continue
        differs = {key: (have.get(key), value) for key, value in want.items() if have.get(key) != value}
        found.extend(f"policy {name}: {key} is {got!r}, expected {value!r}" for key, (got, value) in differs.items())
        for other in present.values():
            if other["name"] in expected or other.get("apply-to") not in ("queues", "all", "quorum_queues"):
                continue
            shadowed = [q for q in queues if re.search(want["pattern"], q) and re.search(other["pattern"], q)]
            if shadowed and other.get("priority", 0) >= want["priority"]:
                found.append(f"policy {other['name']} (priority {other.get('priority', 0)}) matches {shadowed[0]} "
                             f"and {len(shadowed) - 1} more event queues at or above {name}'s priority "
                             f"{want['priority']}: only one policy applies to a queue, so theirs would lose "
                             "the delivery limit and dead-lettering")
    return found


def declare_all(amqp_uri: str, delivery_limit: int, management: Management, *, apply_policies: bool = True
                ) -> Declared:
    """Set (or with ``apply_policies=False`` only check) the policies, then declare the dead-letter queue and
    every handler queue of every service."""
    expected = event_policies(delivery_limit)
    if apply_policies:
        for name, policy in expected.items():
            management.put_policy(name, policy)
    queues = all_handler_queues()
    kept = declare_queues(amqp_uri, dead_letter_queue(), *queues)
    names = [dead_letter_queue().name, *(q.name for q in queues)]
    return Declared(names, [q.name for q in kept], policy_problems(management, expected, names))


# --- from queue arguments to the policy ------------------------------------------------------------------------


class QueueInUse(RuntimeError):
    pass


def legacy_arguments(management: Management, name: str) -> dict[str, Any]:
    """The arguments of this queue that the policy replaces ({} for a queue declared by this Kring, or none)."""
    info = management.queue(name) or {}
    return {k: v for k, v in (info.get("arguments") or {}).items() if k in LEGACY_ARGUMENTS}


def _depth(channel: Any, name: str) -> tuple[int, int] | None:
    """(messages, consumers) of a queue right now (a passive declare: the management API's counts lag), None if
    there is no such queue."""
    probe = channel.connection.channel()
    try:
        ok = probe.queue_declare(name, passive=True)
        return ok.message_count, ok.consumer_count
    except amqp.exceptions.NotFound:
        return None
    finally:
        with contextlib.suppress(Exception):  # a refused passive declare has closed it already
            probe.close()


def _move(connection: kombu.Connection, source: str, target: str) -> int:
    """Move every message of ``source`` to ``target``, each acknowledged only once its copy is confirmed."""
    moved = 0
    channel = connection.channel()
    producer = kombu.Producer(channel)
    from_queue = kombu.Queue(source, no_declare=True)(channel)
    while (message := from_queue.get(no_ack=False, accept=None)) is not None:
        headers = {k: v for k, v in (message.headers or {}).items() if k != "x-delivery-count"}
        carried = {k: v for k, v in message.properties.items()
                   if k in ("correlation_id", "message_id", "timestamp", "type", "app_id", "priority", "reply_to")}
        producer.publish(message.body, exchange="", routing_key=target, headers=headers, delivery_mode=2,
                         content_type=message.content_type, content_encoding=message.content_encoding, **carried)
        message.ack()
        moved += 1
    channel.close()
    return moved


def migrate_queue(amqp_uri: str, management: Management, queue: kombu.Queue) -> int | None:
    """Declare ``queue`` anew without the arguments an earlier Kring gave it, keeping its messages; return how
    many were moved, or None when there was nothing to do. Its consumers must be stopped (QueueInUse otherwise).

    1. A holding queue is bound beside it, so every new event reaches it from now on; the old queue is unbound
       and its messages moved into the holding queue; then it is deleted (only if unused and empty).
    2. The queue is declared anew (the policy governs it) and bound; the holding queue is unbound and its
       messages moved back; then it is deleted.
    An event published during step 2 may reach both queues and be delivered twice: every Kring consumer is
    idempotent (it records each event id it applied). A migration cut short is finished by running it again.
    """
    holding = kombu.Queue(queue.name + HOLDING_SUFFIX, exchange=queue.exchange, routing_key=queue.routing_key,
                          durable=True, auto_delete=False, queue_arguments={"x-queue-type": "quorum"})
    legacy = bool(legacy_arguments(management, queue.name))
    leftover = management.queue(holding.name) is not None
    if not legacy and not leftover:
        return None
    moved = 0
    with kombu.Connection(amqp_uri, connect_timeout=5, transport_options={"confirm_publish": True}) as connection:
        channel = connection.channel()
        for name in (queue.name, holding.name):
            _refuse_if_used(channel, name)
        holding(channel).declare()
        if legacy:
            queue(channel).unbind_from(queue.exchange, routing_key=queue.routing_key)
            moved += _move(connection, queue.name, holding.name)
            _delete_if_drained(channel, queue.name)
        queue(channel).declare()
        holding(channel).unbind_from(holding.exchange, routing_key=holding.routing_key)
        _move(connection, holding.name, queue.name)
        _delete_if_drained(channel, holding.name)
        channel.close()
    return moved


def _refuse_if_used(channel: Any, name: str) -> None:
    if (_depth(channel, name) or (0, 0))[1]:
        raise QueueInUse(f"queue {name} has consumers: stop them first (README \"Upgrading from 0.1.0\")")


def _delete_if_drained(channel: Any, name: str) -> None:
    """Delete a queue that has no messages and no consumers now. (Quorum queues do not take queue.delete's
    if-empty and if-unused flags, so they are checked just before.)"""
    _refuse_if_used(channel, name)
    messages, _ = _depth(channel, name) or (0, 0)
    if messages:
        raise QueueInUse(f"queue {name} received {messages} messages while it was being emptied: run again")
    channel.queue_delete(name)
