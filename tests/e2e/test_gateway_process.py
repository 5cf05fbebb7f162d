"""The gateway as a real process: gRPC health and reflection, GetInstance, probes, auth, metrics, shutdown.

The members service is not started here, on a fresh RabbitMQ virtual host: readiness must say so. The
whole stack, members included, is driven by the other e2e tests.
"""

import json
import subprocess
import sys

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.gateway_process import OPERATOR_TOKEN, REPO, running_gateway
from tests.support.infra import rabbit_vhost
from tests.support.stack import free_port

INSTANCE_ID = "e2e-instance"
OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    with rabbit_vhost("kring-e2e-gateway") as amqp_uri, running_gateway(
            tmp_path_factory.mktemp("gateway"), amqp_uri, KRING_INSTANCE_ID=INSTANCE_ID,
            KRING_INSTANCE_NAME="Kring e2e") as running:
        yield running


@pytest.fixture(scope="module")
def grpc_report(gateway):
    probe = subprocess.run([sys.executable, "-m", "tests.e2e.grpc_probe", gateway.grpc_target], cwd=REPO,
                           capture_output=True, text=True, timeout=60)
    assert probe.returncode == 0, f"{probe.stderr}\n--- gateway log ---\n{gateway.log()}"
    return json.loads(probe.stdout)


def test_grpc_health_is_serving_for_the_server_and_the_federation_service(grpc_report):
    assert grpc_report["health"] == {"(server)": "SERVING", "kring.v1.Federation": "SERVING"}


def test_reflection_lists_the_federation_health_and_reflection_services(grpc_report):
    assert {"kring.v1.Federation", "grpc.health.v1.Health",
            "grpc.reflection.v1alpha.ServerReflection"} <= set(grpc_report["services"])


def test_get_instance_answers_with_the_configured_instance_and_echoes_the_correlation_id(grpc_report):
    instance = grpc_report["instance"]
    assert (instance["id"], instance["name"], instance["api_version"]) == (INSTANCE_ID, "Kring e2e", "kring.v1")
    assert instance["version"]
    assert grpc_report["instance_correlation_id"] == "probe-1"


def test_an_unknown_grpc_method_is_unimplemented(grpc_report):
    assert grpc_report["unknown_method"] == "UNIMPLEMENTED"


def test_healthz_is_200_without_any_service(gateway):
    assert httpx.get(f"{gateway.http_url}/healthz").status_code == 200


def test_readyz_is_503_and_names_the_members_service_when_it_is_not_running(gateway):
    response = httpx.get(f"{gateway.http_url}/readyz", timeout=10)
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["rabbitmq"] == "ok"
    assert checks["members"].startswith("unavailable"), checks


def test_the_operator_token_authenticates_without_the_members_service(gateway):
    response = httpx.get(f"{gateway.http_url}/v1/whoami", headers=OPERATOR)
    assert (response.status_code, response.json()["operator"]) == (200, True)


def test_a_request_without_a_token_is_401(gateway):
    response = httpx.get(f"{gateway.http_url}/v1/members")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_a_members_token_while_the_members_service_is_down_is_503_not_401(gateway):
    response = httpx.get(f"{gateway.http_url}/v1/whoami", headers={"Authorization": "Bearer someone"}, timeout=10)
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "unavailable"


def test_the_openapi_document_is_served(gateway):
    document = httpx.get(f"{gateway.http_url}/openapi.json").json()
    assert "/v1/members" in document["paths"]


def test_metrics_count_requests_by_route_template_and_grpc_method(gateway, grpc_report):
    httpx.get(f"{gateway.http_url}/v1/members/someone")  # 401, but counted under its route template
    samples = {(sample.name, tuple(sorted(sample.labels.items())))
               for family in text_string_to_metric_families(httpx.get(gateway.metrics_url).text)
               for sample in family.samples}
    assert ("kring_http_requests_total",
            (("method", "GET"), ("route", "/v1/members/{member_id}"), ("status", "401"))) in samples
    assert ("kring_grpc_requests_total",
            (("code", "OK"), ("method", "/kring.v1.Federation/GetInstance"))) in samples


def test_with_rabbitmq_unreachable_readyz_is_503_and_sigterm_stops_the_gateway_cleanly(tmp_path):
    dead_broker = f"amqp://guest:guest@127.0.0.1:{free_port()}/"
    with running_gateway(tmp_path, dead_broker) as gateway:
        response = httpx.get(f"{gateway.http_url}/readyz", timeout=10)
        assert response.status_code == 503
        assert response.json()["checks"]["rabbitmq"].startswith("unreachable")
        assert gateway.stop() == 0
        assert "gateway stopped" in gateway.log()
