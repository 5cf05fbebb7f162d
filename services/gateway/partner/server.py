"""The partner gRPC server: Federation service, standard health checking and server reflection.

One interceptor gives every unary method, and the API's own streams, the same edge behaviour as the admin API:
a correlation id (from ``x-correlation-id`` metadata or new, echoed in the initial metadata), typed errors
mapped to status codes with rich details, and RED metrics labelled by full method name.

The server refuses requests over ``MAX_MESSAGE_BYTES`` (RESOURCE_EXHAUSTED) before any code of ours runs.
Then, before a method of the API runs, the interceptor spends one call of the partner key's rate
(:mod:`..shared.rate_limit`: RESOURCE_EXHAUSTED with RetryInfo) and refuses text and times no service can take
(:mod:`..shared.input_guard`: INVALID_ARGUMENT naming the fields).
The server is ``grpc.aio``'s, in an event loop of its own: an open stream is a coroutine waiting for the feed
hub's notification, not a thread, and streams are capped only so one gateway's memory stays bounded
(:mod:`services.gateway.partner.streams`); the feed hub that feeds them starts with the first stream. Service
calls (blocking nameko RPCs) run in a bounded pool (:mod:`services.gateway.partner.offload`).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeAlias, TypeVar, cast

import grpc
from google.protobuf.message import DecodeError
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from services.api.kring.v1 import federation_pb2
from services.common import metrics, tracing
from services.common.config import Settings
from services.common.errors import InternalError, KringError, Unauthenticated, ValidationFailed
from services.common.logs import correlation_id
from services.common.rpc_client import RpcCaller
from services.gateway.partner.auth import PartnerAuthenticator, bearer_key
from services.gateway.partner.errors import abort_with_error, grpc_code
from services.gateway.partner.servicer import SERVICE_NAME, STREAMS_PER_PARTNER, AsyncFederation, FederationServicer
from services.gateway.partner.streams import OpenStreams
from services.gateway.shared import input_guard, observability
from services.gateway.shared.correlation import CORRELATION_HEADER, incoming_correlation_id
from services.gateway.shared.rate_limit import Limit, TokenBuckets
from services.gateway.shared.tls import CertificateFiles, grpc_server_credentials

log = logging.getLogger(__name__)

HEALTH_SERVICE_NAME = health_pb2.DESCRIPTOR.services_by_name["Health"].full_name
# The largest valid request (a partner output at its limits) is well under 100 KiB.
MAX_MESSAGE_BYTES = 1024 * 1024

T = TypeVar("T")
Req = TypeVar("Req")
Resp = TypeVar("Resp")
# A call's metadata as grpcio hands it over: text values, bytes only under keys ending in ``-bin``.
Metadata = dict[str, str | bytes]
# The handler of a method of any service on this server (the API's, health checking's, reflection's): its request
# and reply are whichever messages that method takes. Quoted: only the stub's RpcMethodHandler is generic.
AnyHandler: TypeAlias = "grpc.RpcMethodHandler[Any, Any]"
AioContext: TypeAlias = "grpc.aio.ServicerContext[Any, Any]"
# A method of a grpc.aio server: a coroutine function (unary) or an async generator function (stream). typeshed's
# RpcMethodHandler names the sync server's signatures only.
AioUnary: TypeAlias = "Callable[[Any, AioContext], Awaitable[Any]]"
AioStream: TypeAlias = "Callable[[Any, AioContext], AsyncIterator[Any]]"


class EdgeInterceptor(grpc.aio.ServerInterceptor):
    def __init__(self, partner_calls: TokenBuckets | None = None) -> None:
        self.partner_calls = partner_calls

    async def intercept_service(self, continuation: Callable[[grpc.HandlerCallDetails], Awaitable[AnyHandler | None]],
                                handler_call_details: grpc.HandlerCallDetails) -> AnyHandler | None:
        handler = await continuation(handler_call_details)
        return self.wrap(handler, handler_call_details)

    def wrap(self, handler: AnyHandler | None, handler_call_details: grpc.HandlerCallDetails) -> AnyHandler | None:
        """The handler with the edge's behaviour around it (every method of this server is asynchronous)."""
        if handler is None:
            return handler
        method = handler_call_details.method
        metadata = dict(handler_call_details.invocation_metadata or ())
        admit = self._admission(metadata) if method.startswith(f"/{SERVICE_NAME}/") else _admit_all
        if handler.unary_unary is not None:
            return grpc.unary_unary_rpc_method_handler(
                _unary(method, metadata, cast(AioUnary, handler.unary_unary), admit),
                request_deserializer=_tolerant(handler.request_deserializer),
                response_serializer=handler.response_serializer,
            )
        # The API's own streams get the same edge behaviour; health Watch and reflection pass through.
        if handler.unary_stream is not None and method.startswith(f"/{SERVICE_NAME}/"):
            return grpc.unary_stream_rpc_method_handler(
                _stream(method, metadata, cast(AioStream, handler.unary_stream), admit),
                request_deserializer=_tolerant(handler.request_deserializer),
                response_serializer=_pre_encoded(handler.response_serializer),
            )
        return handler

    def _admission(self, metadata: Metadata) -> Callable[[object], None]:
        """Before the API's own code runs: the key's call rate (RESOURCE_EXHAUSTED), then the request's text
        and times (INVALID_ARGUMENT, see :mod:`..shared.input_guard`). A call without a key is refused by the method."""
        def admit(request: object) -> None:
            if self.partner_calls is not None:
                try:
                    key = bearer_key(metadata.items())
                except Unauthenticated:  # malformed: the method refuses it, or needs no key (GetInstance)
                    key = None
                if key:
                    self.partner_calls.take(key)
            input_guard.check_message(request)
        return admit


def _admit_all(_request: object) -> None:
    return None


@dataclass(frozen=True)
class Undecodable:
    """Bytes that are not the method's request message (truncated, invalid UTF-8 in a string field...)."""

    error: str


def _tolerant(deserialize: Callable[[bytes], Req] | None) -> Callable[[bytes], Req | Undecodable] | None:
    """grpcio answers INTERNAL ("Exception deserializing request!") when a request does not decode; this hands
    the method an :class:`Undecodable` instead, which :func:`_decoded` turns into INVALID_ARGUMENT."""
    if deserialize is None:
        return None

    def deserialize_or_mark(data: bytes) -> Req | Undecodable:
        try:
            return deserialize(data)
        except DecodeError as exc:
            return Undecodable(str(exc))
    return deserialize_or_mark


def _pre_encoded(serialize: Callable[[Resp], bytes] | None) -> Callable[[Resp | bytes], bytes] | None:
    """A stream may yield its messages already encoded (StreamOutputs: one encoding of a feed item for every stream
    of its network); grpcio sends whatever the serializer returns, so bytes pass as they are."""
    if serialize is None:
        return None

    def serialize_unless_bytes(message: Resp | bytes) -> bytes:
        return message if isinstance(message, bytes) else serialize(message)
    return serialize_unless_bytes


def _decoded(request: Req | Undecodable) -> Req:
    """The request message, or INVALID_ARGUMENT for bytes that did not decode."""
    if isinstance(request, Undecodable):
        raise ValidationFailed.single("(request)", "decodable",
                                      f"the request is not a valid protobuf message of this method: {request.error}")
    return request


class _Outcome:
    code = grpc.StatusCode.OK




@asynccontextmanager
async def _edge(method: str, metadata: Metadata, context: AioContext) -> AsyncIterator[_Outcome]:
    """Correlation id in, typed errors out as statuses with rich details, the outcome counted."""
    given = metadata.get(CORRELATION_HEADER)
    cid = incoming_correlation_id(given if isinstance(given, str) else None)  # not a -bin key: always text
    token = correlation_id.set(cid)
    outcome = _Outcome()
    try:
        await context.send_initial_metadata(((CORRELATION_HEADER, cid),))
        yield outcome
    except KringError as exc:
        outcome.code = grpc_code(exc)
        await abort_with_error(context, exc)
    except (asyncio.CancelledError, GeneratorExit):  # the client cancelled or left: grpc.aio ends the handler
        outcome.code = _left(context)
        raise
    except Exception as exc:
        # What the method's own context.abort set (None until then).
        aborted: grpc.StatusCode | None = context.code()
        if aborted not in (None, grpc.StatusCode.OK):  # the method called context.abort itself
            outcome.code = aborted
            raise
        if isinstance(exc, grpc.RpcError) and context.done():
            # The client left (its deadline passed, it cancelled), even before the metadata could go: nobody to
            # answer and nothing broken here.
            outcome.code = _left(context)
            raise
        outcome.code = grpc.StatusCode.INTERNAL
        log.exception("unhandled error in %s", method)
        await abort_with_error(context, InternalError.safe())
    finally:
        observability.GRPC_REQUESTS.labels(method=method, code=outcome.code.name).inc()
        try:
            correlation_id.reset(token)
        except ValueError:  # a stream's generator closed from another context
            pass


def _left(context: AioContext) -> grpc.StatusCode:
    remaining: float | None = context.time_remaining()
    return grpc.StatusCode.DEADLINE_EXCEEDED if remaining is not None and remaining <= 0 else grpc.StatusCode.CANCELLED


def _unary(method: str, metadata: Metadata, behaviour: Callable[[Req, AioContext], Awaitable[Resp]],
           admit: Callable[[object], None]) -> Callable[[Req | Undecodable, AioContext], Awaitable[Resp]]:
    async def unary_unary(request: Req | Undecodable, context: AioContext) -> Resp:
        started = time.perf_counter()
        try:
            async with _edge(method, metadata, context):
                decoded = _decoded(request)
                admit(decoded)
                return await behaviour(decoded, context)
        finally:
            observability.GRPC_DURATION.labels(method=method).observe(time.perf_counter() - started)
        raise AssertionError("unreachable: _edge re-raises or aborts")  # for mypy: the with may swallow
    return unary_unary


def _stream(method: str, metadata: Metadata, behaviour: Callable[[Req, AioContext], AsyncIterator[Resp]],
            admit: Callable[[object], None]) -> Callable[[Req | Undecodable, AioContext], AsyncIterator[Resp]]:
    """A stream's duration is how long the partner stayed, not latency: it is counted, not timed."""
    async def unary_stream(request: Req | Undecodable, context: AioContext) -> AsyncIterator[Resp]:
        async with _edge(method, metadata, context) as outcome:
            decoded = _decoded(request)
            admit(decoded)
            async for item in behaviour(decoded, context):
                yield item
            if context.cancelled():
                outcome.code = grpc.StatusCode.CANCELLED
    return unary_stream


class LoopThread:
    """An event loop of its own on a thread of its own: the partner server's. The admin API (uvicorn) keeps the
    main thread and its signal handlers; each edge drains on its own loop."""

    def __init__(self, name: str = "grpc-aio") -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def run(self, work: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run ``work`` in the loop and wait for its result (from any other thread)."""
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(timeout)

    def close(self) -> None:
        if self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5.0)
        if not self.thread.is_alive():
            self.loop.close()


@dataclass
class GrpcEdge:
    server: grpc.aio.Server
    health: health.aio.HealthServicer
    port: int
    federation: FederationServicer
    loop: LoopThread
    tls: CertificateFiles | None = None  # None: plaintext

    def start(self) -> None:
        self.loop.run(self._start())

    async def _start(self) -> None:
        await self.server.start()
        for service in ("", SERVICE_NAME):
            await self.health.set(service, health_pb2.HealthCheckResponse.SERVING)

    def stop(self, grace: float) -> None:
        """Report NOT_SERVING first so balancers drain, end the open streams (their clients reconnect
        elsewhere with their cursors), then let unary calls in flight finish within ``grace``."""
        try:
            self.loop.run(self._stop(grace), timeout=grace + 2.0)
        finally:
            self.federation.hub.stop()
            self.federation.offload.close()
            self.federation.stream_work.close()
            self.loop.close()

    async def _stop(self, grace: float) -> None:
        await self.health.enter_graceful_shutdown()
        self.federation.streams.close_all()
        await self.server.stop(grace)

    @property
    def partners(self) -> PartnerAuthenticator:
        """The partner key cache: the admin API empties a partner's entries when it revokes or blocks it."""
        return self.federation.partners


def build_grpc_server(settings: Settings, rpc: RpcCaller, *, partner_limit: Limit | None = None) -> GrpcEdge:
    """``partner_limit``: calls per partner key (see :mod:`..shared.rate_limit`); None: no limit.

    The server runs on ``grpc.aio`` in an event loop of its own (:class:`LoopThread`): an open stream is a
    suspended coroutine, not a thread, so ``grpc_max_streams`` is a plain cap. Unary calls that call a service
    run in a pool of ``grpc_workers`` threads (:mod:`.offload`); reads the edge caches answer stay in the loop.
    """
    loop = LoopThread()
    try:
        return loop.run(_build(settings, rpc, partner_limit, loop))
    except BaseException:
        loop.close()
        raise


async def _build(settings: Settings, rpc: RpcCaller, partner_limit: Limit | None, loop: LoopThread) -> GrpcEdge:
    partner_calls = TokenBuckets(partner_limit, what="partner API calls") if partner_limit is not None else None
    workers, max_streams = settings.grpc_workers, settings.grpc_max_streams
    server = grpc.aio.server(
        # With tracing on, the span interceptor comes first: the edge's own work is inside the call's span.
        interceptors=[*tracing.grpc_server_interceptors(), EdgeInterceptor(partner_calls)],
        # Beyond this many calls in flight, refuse with RESOURCE_EXHAUSTED instead of queueing without bound.
        maximum_concurrent_rpcs=workers * 4 + max_streams,
        options=[
            # grpcio sets SO_REUSEPORT by default: a second gateway would share the port silently.
            ("grpc.so_reuseport", 0),
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
        ],
    )
    federation = FederationServicer(settings, rpc, streams=OpenStreams(max_streams, STREAMS_PER_PARTNER))
    metrics.PARTNER_STREAMS_FOLLOWING.set_function(lambda: federation.hub.subscribers)
    metrics.start_at_zero(metrics.FEED_HUB_UPDATES, [{"source": "event"}, {"source": "log"}])
    AsyncFederation(federation).add_to(server)
    observability.start_grpc_methods(f"/{SERVICE_NAME}/{method.name}" for method
                                     in federation_pb2.DESCRIPTOR.services_by_name["Federation"].methods)
    health_servicer = health.aio.HealthServicer()
    for service in ("", SERVICE_NAME):
        await health_servicer.set(service, health_pb2.HealthCheckResponse.NOT_SERVING)  # until start()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection((SERVICE_NAME, HEALTH_SERVICE_NAME, reflection.SERVICE_NAME), server)
    address = f"{settings.bind_host}:{settings.grpc_port}"
    tls = grpc_server_credentials(settings)  # TLS (mutual when configured) from files, or plaintext
    port = server.add_secure_port(address, tls[0]) if tls is not None else server.add_insecure_port(address)
    if port == 0:  # older grpcio reports a failed bind this way instead of raising
        raise RuntimeError(f"cannot listen for gRPC on {address}")
    return GrpcEdge(server=server, health=health_servicer, port=port, federation=federation, loop=loop,
                    tls=tls[1] if tls is not None else None)
