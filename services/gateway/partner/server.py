"""The partner gRPC server: Federation service, standard health checking and server reflection.

One interceptor gives every unary method, and the API's own streams, the same edge behaviour as the admin API:
a correlation id (from ``x-correlation-id`` metadata or new, echoed in the initial metadata), typed errors
mapped to status codes with rich details, and RED metrics labelled by full method name.

The server refuses requests over ``MAX_MESSAGE_BYTES`` (RESOURCE_EXHAUSTED) before any code of ours runs.
Then, before a method of the API runs, the interceptor spends one call of the partner key's rate
(:mod:`..shared.rate_limit`: RESOURCE_EXHAUSTED with RetryInfo) and refuses text and times no service can take
(:mod:`..shared.input_guard`: INVALID_ARGUMENT naming the fields).
Open streams each hold a worker thread, so they are capped below the worker count
(:mod:`services.gateway.partner.streams`); the feed hub that feeds them starts with the first stream.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeAlias, TypeVar

import grpc
from google.protobuf.message import DecodeError
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from services.api.kring.v1 import federation_pb2, federation_pb2_grpc
from services.common import tracing
from services.common.config import Settings
from services.common.errors import InternalError, KringError, Unauthenticated, ValidationFailed
from services.common.logs import correlation_id
from services.common.rpc_client import RpcCaller
from services.gateway.partner.auth import PartnerAuthenticator, bearer_key
from services.gateway.partner.errors import abort_with_error, grpc_code
from services.gateway.partner.servicer import SERVICE_NAME, STREAMS_PER_PARTNER, FederationServicer
from services.gateway.partner.streams import OpenStreams
from services.gateway.shared import input_guard, observability
from services.gateway.shared.correlation import CORRELATION_HEADER, incoming_correlation_id
from services.gateway.shared.rate_limit import Limit, TokenBuckets
from services.gateway.shared.tls import CertificateFiles, grpc_server_credentials

log = logging.getLogger(__name__)

HEALTH_SERVICE_NAME = health_pb2.DESCRIPTOR.services_by_name["Health"].full_name
# The largest valid request (a partner output at its limits) is well under 100 KiB.
MAX_MESSAGE_BYTES = 1024 * 1024

Req = TypeVar("Req")
Resp = TypeVar("Resp")
# A call's metadata as grpcio hands it over: text values, bytes only under keys ending in ``-bin``.
Metadata = dict[str, str | bytes]
# The handler of a method of any service on this server (the API's, health checking's, reflection's): its request
# and reply are whichever messages that method takes. Quoted: only the stub's RpcMethodHandler is generic.
AnyHandler: TypeAlias = "grpc.RpcMethodHandler[Any, Any]"


class EdgeInterceptor(grpc.ServerInterceptor):
    def __init__(self, partner_calls: TokenBuckets | None = None) -> None:
        self.partner_calls = partner_calls

    def intercept_service(self, continuation: Callable[[grpc.HandlerCallDetails], AnyHandler | None],
                          handler_call_details: grpc.HandlerCallDetails) -> AnyHandler | None:
        handler = continuation(handler_call_details)
        if handler is None:
            return handler
        method = handler_call_details.method
        metadata = dict(handler_call_details.invocation_metadata or ())
        admit = self._admission(metadata) if method.startswith(f"/{SERVICE_NAME}/") else _admit_all
        if handler.unary_unary is not None:
            return grpc.unary_unary_rpc_method_handler(
                _unary(method, metadata, handler.unary_unary, admit),
                request_deserializer=_tolerant(handler.request_deserializer),
                response_serializer=handler.response_serializer,
            )
        # The API's own streams get the same edge behaviour; health Watch and reflection pass through.
        if handler.unary_stream is not None and method.startswith(f"/{SERVICE_NAME}/"):
            return grpc.unary_stream_rpc_method_handler(
                _stream(method, metadata, handler.unary_stream, admit),
                request_deserializer=_tolerant(handler.request_deserializer),
                response_serializer=handler.response_serializer,
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


def _decoded(request: Req | Undecodable) -> Req:
    """The request message, or INVALID_ARGUMENT for bytes that did not decode."""
    if isinstance(request, Undecodable):
        raise ValidationFailed.single("(request)", "decodable",
                                      f"the request is not a valid protobuf message of this method: {request.error}")
    return request


class _Outcome:
    code = grpc.StatusCode.OK


@contextmanager
def _edge(method: str, metadata: Metadata, context: grpc.ServicerContext) -> Iterator[_Outcome]:
    """Correlation id in, typed errors out as statuses with rich details, the outcome counted."""
    given = metadata.get(CORRELATION_HEADER)
    cid = incoming_correlation_id(given if isinstance(given, str) else None)  # not a -bin key: always text
    token = correlation_id.set(cid)
    outcome = _Outcome()
    try:
        context.send_initial_metadata(((CORRELATION_HEADER, cid),))
        yield outcome
    except KringError as exc:
        outcome.code = grpc_code(exc)
        abort_with_error(context, exc)
    except GeneratorExit:  # a stream the client cancelled: grpcio closes its generator
        outcome.code = grpc.StatusCode.CANCELLED
        raise
    except Exception as exc:
        # What the method's own context.abort set (None until then): grpcio's ServicerContext.code(), marked
        # experimental.
        aborted: grpc.StatusCode | None = context.code()  # type: ignore[attr-defined]  # not in typeshed's stub
        if aborted not in (None, grpc.StatusCode.OK):  # the method called context.abort itself
            outcome.code = aborted
            raise
        if isinstance(exc, grpc.RpcError) and not context.is_active():
            # The client left (its deadline passed, it cancelled), even before the metadata could go: nobody to
            # answer and nothing broken here. grpcio drops its own RpcError quietly.
            outcome.code = _left(context)
            raise
        outcome.code = grpc.StatusCode.INTERNAL
        log.exception("unhandled error in %s", method)
        abort_with_error(context, InternalError.safe())
    finally:
        observability.GRPC_REQUESTS.labels(method=method, code=outcome.code.name).inc()
        try:
            correlation_id.reset(token)
        except ValueError:  # a stream's generator closed from another thread's context
            pass


def _left(context: grpc.ServicerContext) -> grpc.StatusCode:
    # grpcio documents None for a call without a deadline; typeshed's stub says float.
    remaining: float | None = context.time_remaining()
    return grpc.StatusCode.DEADLINE_EXCEEDED if remaining is not None and remaining <= 0 else grpc.StatusCode.CANCELLED


def _unary(method: str, metadata: Metadata, behaviour: Callable[[Req, grpc.ServicerContext], Resp],
           admit: Callable[[object], None]) -> Callable[[Req | Undecodable, grpc.ServicerContext], Resp]:
    def unary_unary(request: Req | Undecodable, context: grpc.ServicerContext) -> Resp:
        started = time.perf_counter()
        try:
            with _edge(method, metadata, context):
                decoded = _decoded(request)
                admit(decoded)
                return behaviour(decoded, context)
        finally:
            observability.GRPC_DURATION.labels(method=method).observe(time.perf_counter() - started)
    return unary_unary


def _stream(method: str, metadata: Metadata, behaviour: Callable[[Req, grpc.ServicerContext], Iterator[Resp]],
            admit: Callable[[object], None]) -> Callable[[Req | Undecodable, grpc.ServicerContext], Iterator[Resp]]:
    """A stream's duration is how long the partner stayed, not latency: it is counted, not timed."""
    def unary_stream(request: Req | Undecodable, context: grpc.ServicerContext) -> Iterator[Resp]:
        with _edge(method, metadata, context) as outcome:
            decoded = _decoded(request)
            admit(decoded)
            yield from behaviour(decoded, context)
            if not context.is_active():
                outcome.code = grpc.StatusCode.CANCELLED
    return unary_stream


@dataclass
class GrpcEdge:
    server: grpc.Server
    health: health.HealthServicer
    port: int
    federation: FederationServicer
    tls: CertificateFiles | None = None  # None: plaintext

    def start(self) -> None:
        self.server.start()
        for service in ("", SERVICE_NAME):
            self.health.set(service, health_pb2.HealthCheckResponse.SERVING)

    def stop(self, grace: float) -> None:
        """Report NOT_SERVING first so balancers drain, end the open streams (their clients reconnect
        elsewhere with their cursors), then let unary calls in flight finish within ``grace``."""
        self.health.enter_graceful_shutdown()
        self.federation.streams.close_all()
        stopped = self.server.stop(grace)
        self.federation.hub.stop()
        stopped.wait(grace + 1.0)

    @property
    def partners(self) -> PartnerAuthenticator:
        """The partner key cache: the admin API empties a partner's entries when it revokes or blocks it."""
        return self.federation.partners


def build_grpc_server(settings: Settings, rpc: RpcCaller, *, partner_limit: Limit | None = None) -> GrpcEdge:
    """``partner_limit``: calls per partner key (see :mod:`..shared.rate_limit`); None: no limit.

    The sync server gives every call a thread for as long as it lasts, and a stream lasts as long as its
    partner stays connected: the pool holds ``grpc_workers`` threads for unary calls plus one per stream
    the gateway admits (``grpc_max_streams``), so open streams never starve unary calls. A waiting stream
    thread sleeps on the feed hub's condition and costs no CPU.
    """
    partner_calls = TokenBuckets(partner_limit, what="partner API calls") if partner_limit is not None else None
    workers, max_streams = settings.grpc_workers, settings.grpc_max_streams
    server = grpc.server(
        ThreadPoolExecutor(max_workers=workers + max_streams, thread_name_prefix="grpc"),
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
    federation_pb2_grpc.add_FederationServicer_to_server(federation, server)
    observability.start_grpc_methods(f"/{SERVICE_NAME}/{method.name}" for method
                                     in federation_pb2.DESCRIPTOR.services_by_name["Federation"].methods)
    health_servicer = health.HealthServicer(experimental_non_blocking=True)
    for service in ("", SERVICE_NAME):
        health_servicer.set(service, health_pb2.HealthCheckResponse.NOT_SERVING)  # until start()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection((SERVICE_NAME, HEALTH_SERVICE_NAME, reflection.SERVICE_NAME), server)
    address = f"{settings.bind_host}:{settings.grpc_port}"
    tls = grpc_server_credentials(settings)  # TLS (mutual when configured) from files, or plaintext
    port = server.add_secure_port(address, tls[0]) if tls is not None else server.add_insecure_port(address)
    if port == 0:  # older grpcio reports a failed bind this way instead of raising
        raise RuntimeError(f"cannot listen for gRPC on {address}")
    return GrpcEdge(server=server, health=health_servicer, port=port, federation=federation,
                    tls=tls[1] if tls is not None else None)
