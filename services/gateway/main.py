"""Run the gateway: metrics, partner gRPC server (grpc.aio, on an event loop of its own thread), admin API
(uvicorn, main thread).

On SIGTERM or SIGINT: gRPC health turns NOT_SERVING and the gRPC server drains within the grace period
while uvicorn stops accepting and finishes its requests; then the RPC pool closes.

grpcio hangs under eventlet, so nothing here may import :mod:`services.common.runner` (it calls
``eventlet.monkey_patch()``). nameko and :mod:`services.common.topology` import eventlet without patching;
:func:`refuse_if_monkey_patched` makes sure it stays that way.
"""

from __future__ import annotations

import logging
import signal
import ssl
import sys
import threading
import time
from types import FrameType
from typing import Any

import uvicorn

from services.common.config import Settings, available_services, get_settings
from services.common.logs import configure_logging
from services.common.metrics import serve_metrics
from services.common.rpc_client import RpcPool
from services.common.tracing import configure_tracing, shutdown_tracing
from services.gateway.admin.app import create_app
from services.gateway.partner.server import GrpcEdge, build_grpc_server
from services.gateway.shared import idempotency
from services.gateway.shared.changes import ChangeFeed
from services.gateway.shared.edge_cache import EdgeCache
from services.gateway.shared.rate_limit import limits_from_settings

log = logging.getLogger(__name__)

GRACE_SECONDS = 10.0  # below Kubernetes' default 30 s termination grace period


class StopRequest:
    """Set from signal handlers. A plain attribute, not a threading.Event: Event.set() takes a lock, and a
    second signal arriving while the first handler holds it deadlocks the process."""

    requested = False


class _Uvicorn(uvicorn.Server):
    """Tells the gRPC side as soon as a stop signal arrives, so both edges drain at the same time."""

    def __init__(self, config: uvicorn.Config, on_exit: StopRequest) -> None:
        super().__init__(config)
        self._on_exit = on_exit

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self._on_exit.requested = True
        super().handle_exit(sig, frame)


def refuse_if_monkey_patched() -> None:
    eventlet = sys.modules.get("eventlet")
    if eventlet is not None and eventlet.patcher.is_monkey_patched("socket"):
        raise RuntimeError("the gateway runs grpcio and must not run under eventlet.monkey_patch()")


def http_tls(settings: Settings) -> dict[str, Any]:
    """uvicorn's TLS settings for the admin API: HTTPS with the configured certificate (read at start: restart
    the gateway after a renewal, or terminate TLS in front), client certificates required when a client CA is
    set; nothing when no certificate is configured (plain HTTP behind a terminating ingress)."""
    if settings.http_tls_cert_file is None:
        return {}
    tls: dict[str, Any] = {"ssl_certfile": str(settings.http_tls_cert_file),
                           "ssl_keyfile": str(settings.http_tls_key_file)}
    if settings.http_tls_client_ca_file is not None:
        tls |= {"ssl_ca_certs": str(settings.http_tls_client_ca_file), "ssl_cert_reqs": ssl.CERT_REQUIRED}
    return tls


def _grpc_transport(settings: Settings) -> str:
    if settings.grpc_tls_cert_file is None:
        return "plaintext"
    return "mutual TLS" if settings.grpc_tls_require_client_cert else "TLS"


def _stop_grpc_on(stop: StopRequest, edge: GrpcEdge) -> threading.Thread:
    def wait_and_stop() -> None:
        while not stop.requested:
            time.sleep(0.1)
        log.info("stopping gRPC server (grace %.0f s)", GRACE_SECONDS)
        edge.stop(GRACE_SECONDS)

    thread = threading.Thread(target=wait_and_stop, name="grpc-stopper", daemon=True)
    thread.start()
    return thread


def edge_caches(member_tokens: EdgeCache[Any], edge: GrpcEdge) -> list[EdgeCache[Any]]:
    """Every cache the change feed keeps fresh: the admin API's token cache and the partner edge's caches."""
    return [member_tokens, *edge.federation.caches]


def run_gateway(settings: Settings | None = None) -> None:
    settings = settings or get_settings()
    configure_logging("gateway", settings.log_level, settings.log_format)
    configure_tracing("gateway", settings.tracing, instance_id=settings.instance_id)
    services = available_services()
    refuse_if_monkey_patched()
    if not settings.operator_token:
        log.warning("KRING_OPERATOR_TOKEN is not set: only members' tokens will be accepted")
    if settings.sign_in_broker_token is None or not settings.sign_in_broker_token.get_secret_value():
        log.info("KRING_SIGN_IN_BROKER_TOKEN is not set: POST /v1/sign-in/tokens refuses every request")

    try:
        partner_limit, admin_limit = limits_from_settings(settings)
    except ValueError as exc:  # a burst too small for its rate: say which
        log.error("cannot start the gateway: %s", exc)
        raise SystemExit(1) from None

    pool = RpcPool.from_settings(settings, request_of=idempotency.next_request)
    try:
        serve_metrics(settings.metrics_port_for("gateway"), settings.bind_host)
        edge = build_grpc_server(settings, pool, partner_limit=partner_limit)
    except (OSError, RuntimeError, ValueError) as exc:  # a port in use, TLS files unusable: say which
        log.error("cannot start the gateway: %s (metrics port %s, gRPC port %s)", exc,
                  settings.metrics_port_for("gateway"), settings.grpc_port)
        raise SystemExit(1) from None
    edge.start()
    changes = ChangeFeed(settings.amqp_uri)
    stop = StopRequest()
    stopper = _stop_grpc_on(stop, edge)

    try:
        app = create_app(settings, pool, services=services, token_limit=admin_limit)
        app.state.partner_keys = edge.partners  # revoking a partner in the admin API forgets its cached key
        for cache in edge_caches(app.state.authenticator.cache, edge):
            cache.live = changes.is_live
            cache.max_age = settings.edge_cache_max_age_seconds
            changes.add(cache)
        for keys in (app.state.authenticator.cache, edge.partners.cache):  # directory pages: only while live
            keys.fallback_ttl = keys.refusal_ttl = settings.edge_cache_fallback_seconds
        edge.federation.hub.live = changes.is_live  # streams are woken by feed.appended, not by polling
        changes.on_feed = edge.federation.hub.notify
        changes.start()
        config = uvicorn.Config(app, host=settings.bind_host, port=settings.http_port, log_config=None,
                                access_log=False, timeout_graceful_shutdown=int(GRACE_SECONDS), lifespan="off",
                                **http_tls(settings))
        server = _Uvicorn(config, on_exit=stop)

        def request_stop(_sig: int, _frame: FrameType | None) -> None:
            stop.requested = True
            server.should_exit = True

        # Before uvicorn installs its own handlers (and after it restores these), a signal just asks to stop.
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, request_stop)
        log.info("gRPC serving on %s:%s (%s), metrics on :%s; starting the admin API on %s://%s:%s/docs "
                 "(services: %s)", settings.bind_host, edge.port, _grpc_transport(settings),
                 settings.metrics_port_for("gateway"), "https" if settings.http_tls_cert_file else "http",
                 settings.bind_host, settings.http_port, ", ".join(services) or "none")
        server.run()
    finally:
        stop.requested = True
        stopper.join(GRACE_SECONDS + 2.0)
        changes.stop()
        pool.close()
        shutdown_tracing()
        log.info("gateway stopped")
