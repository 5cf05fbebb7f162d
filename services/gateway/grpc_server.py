"""The partner gRPC server: Federation service, standard health checking and server reflection.

One interceptor gives every unary method, and the API's own streams, the same edge behaviour as the admin API:
a correlation id (from ``x-correlation-id`` metadata or new, echoed in the initial metadata), typed errors
mapped to status codes with rich details, and RED metrics labelled by full method name.

The server refuses requests over ``MAX_MESSAGE_BYTES`` (RESOURCE_EXHAUSTED) before any code of ours runs.
Open streams each hold a worker thread, so they are capped below the worker count
(:mod:`services.gateway.partner_streams`); the feed hub that feeds them starts with the first stream.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from services.api.kring.v1 import federation_pb2_grpc
from services.common.config import Settings
from services.common.errors import KringError
from services.common.logs import correlation_id
from services.gateway import observability
from services.gateway.federation import SERVICE_NAME, STREAMS_PER_PARTNER, FederationServicer
from services.gateway.grpc_errors import abort_with_error, grpc_code
from services.gateway.http_middleware import CORRELATION_HEADER, incoming_correlation_id
from services.gateway.internal_error import InternalError
from services.gateway.partner_auth import PartnerAuthenticator
from services.gateway.partner_streams import OpenStreams
from services.gateway.rpc_pool import RpcCaller

log = logging.getLogger(__name__)

HEALTH_SERVICE_NAME = health_pb2.DESCRIPTOR.services_by_name["Health"].full_name
# The largest valid request (a partner output at its limits) is well under 100 KiB.
MAX_MESSAGE_BYTES = 1024 * 1024


class EdgeInterceptor(grpc.ServerInterceptor):
    def intercept_service(self, continuation: Callable[[Any], Any], handler_call_details: Any) -> Any:
        handler = continuation(handler_call_details)
        if handler is None:
            return handler
        method = handler_call_details.method
        metadata = dict(handler_call_details.invocation_metadata or ())
        if handler.unary_unary is not None:
            return grpc.unary_unary_rpc_method_handler(
                _unary(method, metadata, handler.unary_unary),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        # The API's own streams get the same edge behaviour; health Watch and reflection pass through.
        if handler.unary_stream is not None and method.startswith(f"/{SERVICE_NAME}/"):
            return grpc.unary_stream_rpc_method_handler(
                _stream(method, metadata, handler.unary_stream),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        return handler


class _Outcome:
    code = grpc.StatusCode.OK


@contextmanager
def _edge(method: str, metadata: dict[str, Any], context: grpc.ServicerContext) -> Iterator[_Outcome]:
    """Correlation id in, typed errors out as statuses with rich details, the outcome counted."""
    cid = incoming_correlation_id(metadata.get(CORRELATION_HEADER))
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
    except Exception:
        aborted = context.code()
        if aborted not in (None, grpc.StatusCode.OK):  # the method called context.abort itself
            outcome.code = aborted
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


def _unary(method: str, metadata: dict[str, Any], behaviour: Callable[..., Any]) -> Callable[..., Any]:
    def unary_unary(request: Any, context: grpc.ServicerContext) -> Any:
        started = time.perf_counter()
        try:
            with _edge(method, metadata, context):
                return behaviour(request, context)
        finally:
            observability.GRPC_DURATION.labels(method=method).observe(time.perf_counter() - started)
    return unary_unary


def _stream(method: str, metadata: dict[str, Any], behaviour: Callable[..., Any]) -> Callable[..., Any]:
    """A stream's duration is how long the partner stayed, not latency: it is counted, not timed."""
    def unary_stream(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        with _edge(method, metadata, context) as outcome:
            yield from behaviour(request, context)
            if not context.is_active():
                outcome.code = grpc.StatusCode.CANCELLED
    return unary_stream


@dataclass
class GrpcEdge:
    server: grpc.Server
    health: health.HealthServicer
    port: int
    federation: FederationServicer

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


def build_grpc_server(settings: Settings, rpc: RpcCaller, *, max_workers: int = 32) -> GrpcEdge:
    server = grpc.server(
        ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="grpc"),
        interceptors=[EdgeInterceptor()],
        # Beyond this many calls in flight, refuse with RESOURCE_EXHAUSTED instead of queueing without bound.
        maximum_concurrent_rpcs=max_workers * 4,
        options=[
            # grpcio sets SO_REUSEPORT by default: a second gateway would share the port silently.
            ("grpc.so_reuseport", 0),
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
        ],
    )
    federation = FederationServicer(settings, rpc, streams=OpenStreams(max_workers // 2, STREAMS_PER_PARTNER))
    federation_pb2_grpc.add_FederationServicer_to_server(federation, server)
    health_servicer = health.HealthServicer(experimental_non_blocking=True)
    for service in ("", SERVICE_NAME):
        health_servicer.set(service, health_pb2.HealthCheckResponse.NOT_SERVING)  # until start()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection((SERVICE_NAME, HEALTH_SERVICE_NAME, reflection.SERVICE_NAME), server)
    address = f"{settings.bind_host}:{settings.grpc_port}"
    port = server.add_insecure_port(address)
    if port == 0:  # older grpcio reports a failed bind this way instead of raising
        raise RuntimeError(f"cannot listen for gRPC on {address}")
    return GrpcEdge(server=server, health=health_servicer, port=port, federation=federation)
