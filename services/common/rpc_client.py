"""A thread-safe pool of nameko standalone RPC proxies: how the processes outside nameko (the gateway, the
federation relay) call the services.

A standalone proxy is not thread-safe, and one whose reply queue expired while it waited can hang
(nameko issue #504). So each call checks a proxy out, every call has a timeout, and a proxy that
timed out or lost its connection is thrown away and replaced by a new one on next use. Proxies are
created lazily: importing this module or starting the gateway never needs RabbitMQ.
"""

from __future__ import annotations

import importlib.util
import logging
import queue
import sys
import time
from collections.abc import Callable
from typing import Any, Protocol

import amqp.exceptions
import kombu.exceptions
from nameko.exceptions import (
    IncorrectSignature,
    MalformedRequest,
    MethodNotFound,
    RemoteError,
    RpcTimeout,
    UnknownService,
)
from nameko.standalone.rpc import ClusterRpcProxy, PollingQueueConsumer, SingleThreadedReplyListener

from services.common import metrics, tracing
from services.common.commands import REQUEST_FINGERPRINT_KEY, REQUEST_ID_KEY
from services.common.config import Settings
from services.common.errors import InternalError, KringError, Unavailable
from services.common.logs import correlation_id

log = logging.getLogger(__name__)

# nameko's publisher makes a kombu Connection for every RPC call, and each one asks whether librabbitmq is
# installed by trying to import it: a failed import searches sys.path again every time (about 50 µs, a twentieth
# of the gateway's own time for a directory read). When it is not installed, say so once.
if "librabbitmq" not in sys.modules and importlib.util.find_spec("librabbitmq") is None:
    sys.modules["librabbitmq"] = None  # type: ignore[assignment]  # `import librabbitmq` now fails at once

# What a service's database driver raises while the database restarts or the connection drops (SQLAlchemy
# re-raises them under the same names): the caller may retry, so 503 / UNAVAILABLE rather than 500.
DATABASE_OUTAGES = frozenset({"OperationalError", "InterfaceError", "DisconnectionError"})

# The broker is unreachable or the connection broke mid-call.
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    amqp.exceptions.ConnectionError,
    kombu.exceptions.OperationalError,
)
# What closing a proxy may raise: the connection is often what broke, and nameko raises a bare RuntimeError.
CLOSING_ERRORS: tuple[type[BaseException], ...] = (*CONNECTION_ERRORS, RuntimeError)
# The service answered, but says the gateway called it wrongly: a gateway bug, not the client's fault.
CONTRACT_ERRORS: tuple[type[BaseException], ...] = (MethodNotFound, IncorrectSignature, MalformedRequest)


class RpcCaller(Protocol):
    """What the HTTP and gRPC edges need: one call, typed errors. Tests hand in a fake."""

    def call(self, service: str, method: str, *args: Any, timeout: float | None = None) -> Any: ...


class Proxy(Protocol):
    def call(self, service: str, method: str, args: tuple[Any, ...], *, correlation_id: str | None,
             timeout: float, request: tuple[str, str] | None = None) -> Any: ...

    def close(self) -> None: ...


# Publishing a call: one quick retry (a pooled connection the broker closed is replaced), not nameko's retries
# that wait seconds for a broker that is away while the caller's time runs out.
PUBLISH_RETRY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.5, "interval_max": 0.5}


class CallAbandoned(Exception):
    """The process is stopping and gave up waiting for the answer (:class:`NamekoProxy`'s ``abandon``)."""


ABANDON_POLL = 0.2  # seconds: how soon a call waiting for its answer sees that the process gave it up


class DeadlineReplyConsumer(PollingQueueConsumer):  # type: ignore[misc]  # nameko ships no types
    """nameko's reply consumer, with the call's timeout as one deadline for the whole wait.

    nameko waits ``timeout`` per read and, when the connection breaks mid-wait (a broker restarting), reconnects
    and waits a whole ``timeout`` again: under a RabbitMQ restart a call with a 4 s timeout took 9 s
    (tests/faults). Here the wait ends at the deadline, and a broken connection fails the call at once (the
    reply went with the connection's exclusive reply queue anyway); the pool then replaces the proxy.

    With ``abandon`` (a flag the process raises when it stops), the wait also ends as soon as the flag is up:
    a process stopping never waits out a call to a service that is itself stopping and will not answer.
    """

    deadline: float | None = None
    abandon: Callable[[], bool] | None = None

    def get_message(self, correlation_id: str) -> None:
        try:
            while correlation_id not in self.replies:
                remaining = self.timeout if self.deadline is None else self.deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    raise TimeoutError("the call's deadline has passed")
                if self.abandon is not None:
                    if self.abandon():
                        raise CallAbandoned("the process is stopping")
                    remaining = ABANDON_POLL if remaining is None else min(remaining, ABANDON_POLL)
                    try:
                        self.consumer.connection.drain_events(timeout=remaining)
                    except TimeoutError:
                        continue  # a slice without the answer: look at the deadline and the flag again
                else:
                    self.consumer.connection.drain_events(timeout=remaining)
            body, message = self.replies.pop(correlation_id)
            self.provider.handle_message(body, message)
        except TimeoutError:  # socket.timeout too
            self.provider._reply_events.pop(correlation_id).send_exception(RpcTimeout(self.timeout))
        except (OSError, amqp.exceptions.ConnectionError, CallAbandoned) as exc:
            self.provider._reply_events.pop(correlation_id).send_exception(exc)


class DeadlineReplyListener(SingleThreadedReplyListener):  # type: ignore[misc]  # nameko ships no types
    def __init__(self, timeout: float | None = None) -> None:
        super().__init__(timeout=timeout)
        self.queue_consumer = DeadlineReplyConsumer(timeout=timeout)


class NamekoProxy:
    """One started ``ClusterRpcProxy`` (its own AMQP connection and exclusive reply queue).

    ``abandon``: asked while a call waits for its answer; once it says yes the call fails at once
    (:class:`CallAbandoned`, an ``Unavailable`` from the pool): a process that is stopping gives up its calls.
    """

    def __init__(self, config: dict[str, Any], timeout: float, abandon: Callable[[], bool] | None = None) -> None:
        self._standalone = ClusterRpcProxy(config, timeout=timeout, reply_listener_cls=DeadlineReplyListener)
        self._cluster = self._standalone.start()
        self._standalone._reply_listener.queue_consumer.abandon = abandon

    def call(self, service: str, method: str, args: tuple[Any, ...], *, correlation_id: str | None,
             timeout: float, request: tuple[str, str] | None = None) -> Any:
        """``request``: the request id and fingerprint of a call made for a client's keyed request
        (the gateway's idempotency keys); without one the service uses the message's own id."""
        # The proxy sends worker_ctx.data as message headers; the services' kit reads them back.
        data = self._standalone._worker_ctx.data
        _set_or_drop(data, "correlation_id", correlation_id)
        request_id, fingerprint = request or (None, None)
        _set_or_drop(data, REQUEST_ID_KEY, request_id)
        _set_or_drop(data, REQUEST_FINGERPRINT_KEY, fingerprint)
        tracing.inject_into(data)  # the call's span (RpcPool.call) as the service's parent; nothing when off
        # The reply consumer reads its timeout and deadline on every wait, so a per-call timeout is two assignments.
        consumer = self._standalone._reply_listener.queue_consumer
        consumer.timeout, consumer.deadline = timeout, time.monotonic() + timeout
        remote = getattr(self._cluster[service], method)
        remote.publisher.retry_policy = PUBLISH_RETRY
        # A request nobody took within the call's timeout expires in its queue: the caller was told 503, so a
        # service that comes back must not apply it later (a "failed" POST creating its member after all).
        remote.publisher.expiration = timeout
        return remote(*args)

    def close(self) -> None:
        self._standalone.stop()


def _set_or_drop(data: dict[str, Any], key: str, value: str | None) -> None:
    if value:
        data[key] = value
    else:
        data.pop(key, None)  # nameko warns on None headers


# What a process sends with a call as its request id and fingerprint (the gateway: from an Idempotency-Key).
RequestOf = Callable[[str, str], "tuple[str, str] | None"]


def no_request(service: str, method: str) -> tuple[str, str] | None:
    return None  # the service takes the message's own id: applied once per delivery


class RpcPool:
    """``size`` proxies shared by the process's threads; ``call`` is safe from any thread.

    ``request_of(service, method)`` gives the request id (and fingerprint) a call carries, if the caller has one
    (the gateway's idempotency keys); by default none, and the service uses the message's own id.
    """

    def __init__(self, proxy_factory: Callable[[], Proxy], size: int, timeout: float,
                 request_of: RequestOf = no_request) -> None:
        if size < 1:
            raise ValueError("the RPC pool needs at least one proxy")
        self._factory = proxy_factory
        self._timeout = timeout
        self._request_of = request_of
        self._closed = False
        # A slot holds a started proxy or None (not created yet, or discarded): created on checkout.
        self._slots: queue.Queue[Proxy | None] = queue.Queue()
        for _ in range(size):
            self._slots.put(None)

    @classmethod
    def from_settings(cls, settings: Settings, request_of: RequestOf = no_request) -> RpcPool:
        config = settings.nameko_config("gateway")
        return cls(lambda: NamekoProxy(config, settings.rpc_timeout), settings.rpc_pool_size,
                   settings.rpc_timeout, request_of)

    def call(self, service: str, method: str, *args: Any, timeout: float | None = None) -> Any:
        timeout = self._timeout if timeout is None else timeout
        started = time.perf_counter()
        outcome = "ok"
        try:
            if not tracing.enabled():
                return self._call(service, method, args, timeout)
            with tracing.rpc_client_span(service, method):
                return self._call(service, method, args, timeout)
        except KringError as exc:
            outcome = exc.code
            raise
        finally:
            metrics.GATEWAY_RPC_CALLS.labels(service=service, method=method, outcome=outcome).inc()
            metrics.GATEWAY_RPC_DURATION.labels(service=service, method=method).observe(
                time.perf_counter() - started)

    def close(self) -> None:
        """Stop every idle proxy; proxies in use are stopped when they come back."""
        self._closed = True
        while True:
            try:
                proxy = self._slots.get_nowait()
            except queue.Empty:
                return
            if proxy is not None:
                self._close_quietly(proxy)

    def _call(self, service: str, method: str, args: tuple[Any, ...], timeout: float) -> Any:
        if self._closed:
            raise Unavailable("the gateway is shutting down")
        try:
            proxy = self._slots.get(timeout=timeout)
        except queue.Empty:
            raise Unavailable("the gateway is busy; try again shortly") from None
        keep = False
        try:
            if proxy is None:
                proxy = self._factory()
            result = proxy.call(service, method, args, correlation_id=correlation_id.get(), timeout=timeout,
                                request=self._request_of(service, method))
            keep = True
            return result
        except KringError:
            keep = True  # the service answered with a typed error (registered in errors.py): pass it on
            raise
        except UnknownService:
            keep = True
            raise Unavailable(f"the {service} service is not running") from None
        except RpcTimeout:
            raise Unavailable(f"the {service} service did not answer within {timeout:g} s") from None
        except CallAbandoned:
            raise Unavailable(f"the call to the {service} service was given up: this process is stopping") from None
        except CONNECTION_ERRORS as exc:
            log.warning("RPC %s.%s: broker connection failed: %s", service, method, exc)
            raise Unavailable("the message broker is unreachable") from None
        except RuntimeError as exc:
            # nameko raises a bare RuntimeError when the reply consumer was disconnected or stopped.
            log.warning("RPC %s.%s: proxy unusable: %s", service, method, exc)
            raise Unavailable(f"the {service} service could not be reached") from None
        except RemoteError as exc:
            keep = True
            if exc.exc_type in DATABASE_OUTAGES:
                log.warning("RPC %s.%s: the service lost its database: %s", service, method, exc.exc_type)
                raise Unavailable(f"the {service} service cannot reach its database; try again shortly") from None
            log.error("RPC %s.%s failed in the service: %s", service, method, exc.exc_type)
            raise InternalError.safe() from None
        except CONTRACT_ERRORS as exc:
            keep = True
            log.error("RPC %s.%s rejected the call: %s: %s", service, method, type(exc).__name__, exc)
            raise InternalError.safe() from None
        finally:
            self._checkin(proxy if keep else None, discarded=proxy if not keep else None)

    def _checkin(self, proxy: Proxy | None, discarded: Proxy | None) -> None:
        if discarded is not None:
            metrics.RPC_PROXIES_REPLACED.inc()
            self._close_quietly(discarded)
        if proxy is not None and self._closed:
            self._close_quietly(proxy)
            proxy = None
        self._slots.put(proxy)

    @staticmethod
    def _close_quietly(proxy: Proxy) -> None:
        try:
            proxy.close()
        except CLOSING_ERRORS as exc:
            log.debug("closing a broken RPC proxy: %s", exc)
