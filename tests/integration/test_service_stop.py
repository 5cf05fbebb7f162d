"""A service stops on SIGTERM within its stop timeout, even with a worker that would never finish: past the
timeout what is left is killed (its message unacknowledged, so the broker delivers it again) and named."""

from __future__ import annotations

import logging

import eventlet
from nameko.rpc import rpc
from nameko.runners import ServiceRunner
from nameko.standalone.rpc import ClusterRpcProxy

from services.common.runner import stop_within

ENTERED = eventlet.event.Event()


class StuckService:
    name = "stuck"

    @rpc
    def wait_for_ever(self) -> None:
        ENTERED.send(True)
        eventlet.sleep(60)  # a call to a service that already stopped, with no timeout

    @rpc
    def ping(self) -> str:
        return "pong"


def test_a_worker_that_never_finishes_is_killed_after_the_stop_timeout_and_named(amqp_uri, caplog):
    config = {"AMQP_URI": amqp_uri, "serializer": "json"}
    runner = ServiceRunner(config)
    runner.add_service(StuckService)
    runner.start()
    with ClusterRpcProxy(config, timeout=10) as cluster:
        cluster.stuck.wait_for_ever.call_async()
        ENTERED.wait()

        with caplog.at_level(logging.WARNING, logger="services.common.runner"):
            stopped_in_time = stop_within(runner, "stuck", timeout=0.5)

    assert not stopped_in_time
    with eventlet.Timeout(5):
        runner.wait()  # every container is down: the process can exit
    assert "worker wait_for_ever" in caplog.text


def test_a_service_with_nothing_running_stops_gracefully(amqp_uri):
    config = {"AMQP_URI": amqp_uri, "serializer": "json"}
    runner = ServiceRunner(config)
    runner.add_service(StuckService)
    runner.start()
    with ClusterRpcProxy(config, timeout=10) as cluster:
        assert cluster.stuck.ping() == "pong"

    assert stop_within(runner, "stuck", timeout=5.0)
