"""The partner gRPC server: Federation service, standard health checking and server reflection.

One interceptor gives every unary method the same edge behaviour as the admin API: a correlation id
(from ``x-correlation-id`` metadata or new, echoed in the initial metadata), typed errors mapped to
status codes with rich details, and RED metrics labelled by full method name.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
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
from services.gateway.federation import SERVICE_NAME, FederationServicer
from services.gateway.grpc_errors import abort_with_error, grpc_code
from services.gateway.http_middleware import CORRELATION_HEADER, incoming_correlation_id
from services.gateway.internal_error import InternalError
from services.gateway.rpc_pool import RpcCaller

log = logging.getLogger(__name__)

HEALTH_SERVICE_NAME = health_pb2.DESCRIPTOR.services_by_name["Health"].full_name
MAX_MESSAGE_BYTES = 4 * 1024 * 1024


class EdgeInterceptor(grpc.ServerInterceptor):
    def intercept_service(self, continuation: Callable[[Any], Any], handler_call_details: Any) -> Any:
        handler = continuation(handler_call_details)
        # Streaming methods (health Watch, reflection) pass through; wrap them when the API gains its own.
        if handler is None or handler.unary_unary is None:
            return handler
        method = handler_call_details.method
        metadata = dict(handler_call_details.invocation_metadata or ())
        behaviour = handler.unary_unary

        def unary_unary(request: Any, context: grpc.ServicerContext) -> Any:
            cid = incoming_correlation_id(metadata.get(CORRELATION_HEADER))
            token = correlation_id.set(cid)
            started = time.perf_counter()
            code = grpc.StatusCode.OK
            try:
                context.send_initial_metadata(((CORRELATION_HEADER, cid),))
                return behaviour(request, context)
            except KringError as exc:
                code = grpc_code(exc)
                abort_with_error(context, exc)
            except Exception:
                aborted = context.code()
                if aborted not in (None, grpc.StatusCode.OK):  # the method called context.abort itself
                    code = aborted
                    raise
                code = grpc.StatusCode.INTERNAL
                log.exception("unhandled error in %s", method)
                abort_with_error(context, InternalError.safe())
            finally:
                observability.GRPC_REQUESTS.labels(method=method, code=code.name).inc()
                observability.GRPC_DURATION.labels(method=method).observe(time.perf_counter() - started)
                correlation_id.reset(token)

        return grpc.unary_unary_rpc_method_handler(
            unary_unary,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


@dataclass
class GrpcEdge:
    server: grpc.Server
    health: health.HealthServicer
    port: int

    def start(self) -> None:
        self.server.start()
        for service in ("", SERVICE_NAME):
            self.health.set(service, health_pb2.HealthCheckResponse.SERVING)

    def stop(self, grace: float) -> None:
        """Report NOT_SERVING first so balancers drain, then let calls in flight finish within ``grace``."""
        self.health.enter_graceful_shutdown()
        self.server.stop(grace).wait(grace + 1.0)


def build_grpc_server(settings: Settings, rpc: RpcCaller, *, max_workers: int = 16) -> GrpcEdge:
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
    federation_pb2_grpc.add_FederationServicer_to_server(FederationServicer(settings, rpc), server)
    health_servicer = health.HealthServicer(experimental_non_blocking=True)
    for service in ("", SERVICE_NAME):
        health_servicer.set(service, health_pb2.HealthCheckResponse.NOT_SERVING)  # until start()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection((SERVICE_NAME, HEALTH_SERVICE_NAME, reflection.SERVICE_NAME), server)
    address = f"{settings.bind_host}:{settings.grpc_port}"
    port = server.add_insecure_port(address)
    if port == 0:  # older grpcio reports a failed bind this way instead of raising
        raise RuntimeError(f"cannot listen for gRPC on {address}")
    return GrpcEdge(server=server, health=health_servicer, port=port)
