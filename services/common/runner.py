"""Run one nameko service in this process (``kring service <name>``).

Eventlet must patch the standard library before anything else imports socket or threading, so this
module is imported only by the service entry point, never by the gateway or the relay (grpcio hangs
under eventlet; see docs/decisions/0001-nameko-under-eventlet-edges-outside-it.md).
"""

from __future__ import annotations

import warnings

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

import eventlet  # noqa: E402

eventlet.monkey_patch()

import logging  # noqa: E402
import signal  # noqa: E402

from psycogreen.eventlet import patch_psycopg  # noqa: E402

patch_psycopg()  # psycopg2 yields to the hub instead of blocking it (and the AMQP heartbeats)

from nameko.runners import ServiceRunner  # noqa: E402

from services.common.config import get_settings  # noqa: E402
from services.common.logs import configure_logging  # noqa: E402
from services.common.metrics import serve_metrics  # noqa: E402
from services.common.topology import service_class  # noqa: E402
from services.common.tracing import configure_tracing, shutdown_tracing  # noqa: E402

log = logging.getLogger(__name__)

# On SIGTERM the service stops taking messages and waits for the workers it is running; a worker still running after
# this long (waiting on a call that will not be answered, a service that is itself stopping) is killed: its message
# is not acknowledged, so the broker delivers it again, and its transaction never committed. Below the supervisor's
# 10 s (of which the gateway and the relay take up to 3 s first) and Kubernetes' 30 s: the process exits on its own.
STOP_TIMEOUT = 5.0


def still_running(runner: ServiceRunner) -> list[str]:
    """What the service's containers are still waiting for: their workers and managed threads, by name."""
    found = []
    for container in runner.containers:
        found += [f"worker {ctx.entrypoint.method_name}" for ctx in list(container._worker_threads)]
        found += [f"thread {name}" for name in list(container._managed_threads.values()) if name]
    return found


def stop_within(runner: ServiceRunner, service: str, timeout: float = STOP_TIMEOUT) -> bool:
    """Stop the runner gracefully; past ``timeout``, kill what is left (nameko's kill: entrypoints, workers,
    dependencies). True when the graceful stop finished in time."""
    stopping = eventlet.spawn(runner.stop)
    with eventlet.Timeout(timeout, False):
        stopping.wait()
    if stopping.dead:
        return True
    log.warning("%s did not stop within %g s; killing what is left: %s", service, timeout,
                ", ".join(still_running(runner)) or "nothing named")
    stopping.kill()
    runner.kill()
    return False


def run_service(service: str) -> None:
    settings = get_settings()
    configure_logging(service, settings.log_level, settings.log_format)
    configure_tracing(service, settings.tracing, instance_id=settings.instance_id)
    serve_metrics(settings.metrics_port_for(service), settings.bind_host)
    runner = ServiceRunner(settings.nameko_config(service))
    runner.add_service(service_class(service))

    def shutdown(signum: int, _frame: object) -> None:
        log.info("stopping %s (signal %s)", service, signum)
        eventlet.spawn_n(stop_within, runner, service)

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    runner.start()
    log.info("%s started; metrics on :%s", service, settings.metrics_port_for(service))
    runner.wait()
    shutdown_tracing()
