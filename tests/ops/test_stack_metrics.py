"""Every process of the real stack (`kring run`, separate processes, SQLite) serves /metrics on its own port,
and promtool finds nothing wrong with any of them after some traffic."""

from __future__ import annotations

import subprocess
import uuid

import httpx
import pytest

from services.common.config import available_processes
from tests.support.infra import rabbit_vhost
from tests.support.stack import start_stack, stop_stack

PROCESSES = tuple(available_processes())  # the relay too
OWNED_GAUGES = {  # the domain gauges each service reads from its own database
    "members": ("kring_members_active",),
    "networks": ("kring_networks_active",),
    "sessions": ("kring_sessions_held_last_month", "kring_outputs_shared_beyond_network"),
}


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with rabbit_vhost("kring-ops") as amqp_uri:
        running = start_stack(tmp_path_factory.mktemp("ops-stack"), amqp_uri, None, instance_id="kring-ops")
        try:
            yield running
        finally:
            stop_stack(running.process)


@pytest.fixture(scope="module")
def member(stack) -> dict:
    """Some traffic on every edge: admin API calls that reach the services, a 404, gRPC health."""
    email = f"ops.{uuid.uuid4().hex[:8]}@example.org"
    with stack.client() as client:
        response = client.post("/v1/members", json={"name": "Ops Tester", "email": email,
                                                    "perspectives": ["practitioner", "research"]})
        assert response.status_code == 201, response.text
        registered = response.json()
        assert client.get("/v1/members", params={"perspective": "practitioner"}).status_code == 200
        assert client.get(f"/v1/members/{registered['id']}").status_code == 200
        assert client.get("/v1/no-such-route").status_code == 404
        network = client.post("/v1/networks", json={"name": "Leerkring Ops", "level": "local",
                                                    "kind": "learning_circle", "theme": "Eenzaamheid"})
        assert network.status_code < 500, network.text
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    with grpc.insecure_channel(stack.grpc) as channel:
        health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
    return {"id": registered["id"], "email": email}


@pytest.fixture(scope="module")
def expositions(stack, member) -> dict[str, str]:
    return {process: httpx.get(stack.metrics_url(process), timeout=10).text for process in PROCESSES}


def test_promtool_check_metrics_finds_nothing_on_any_process(expositions, promtool):
    reports = {}
    for process, text in expositions.items():
        result = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True,
                                timeout=30)
        reports[process] = (result.returncode, result.stdout + result.stderr)
    assert reports == {process: (0, "") for process in PROCESSES}


def test_every_service_reports_the_domain_gauges_it_owns_and_when_it_read_them(expositions):
    for service, gauges in OWNED_GAUGES.items():
        if service not in PROCESSES:
            continue
        for gauge in gauges:
            assert f"{gauge}{{" in expositions[service], f"{service} does not report {gauge}"
        assert f'kring_domain_gauges_last_success_timestamp_seconds{{service="{service}"}}' in expositions[service]


def test_requests_are_counted_by_route_template_at_the_gateway_and_by_method_in_the_service(expositions):
    assert 'kring_http_requests_total{method="GET",route="/v1/members/{member_id}",status="200"}' \
        in expositions["gateway"]
    assert 'route="unmatched",status="404"' in expositions["gateway"]
    assert 'kring_rpc_requests_total{method="register_member",outcome="ok",service="members"}' \
        in expositions["members"]
    assert 'kring_grpc_requests_total' in expositions["gateway"]


def test_errors_and_dead_letters_are_exposed_at_zero_before_the_first_so_rate_sees_it(expositions):
    networks, gateway = expositions["networks"], expositions["gateway"]
    handler = 'handler="on_membership_joined"'
    assert f'kring_events_dead_lettered_total{{{handler},reason="unprocessable",service="networks"}} 0.0' in networks
    assert f'kring_events_redelivered_total{{{handler},service="networks"}} 0.0' in networks
    assert 'kring_outbox_relay_errors_total{service="networks"} 0.0' in networks
    assert 'kring_rpc_requests_total{method="get_network",outcome="internal_error",service="networks"} 0.0' in networks
    assert 'kring_grpc_requests_total{code="INTERNAL",method="/kring.v1.Federation/PublishOutput"} 0.0' in gateway


def test_no_metric_carries_the_member_id_or_the_email_of_anyone(expositions, member):
    for process, text in expositions.items():
        assert member["id"] not in text, process
        assert member["email"] not in text, process
