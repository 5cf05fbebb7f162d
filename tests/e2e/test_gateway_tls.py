"""The gateway as a real process serving its admin API over HTTPS with client certificates required
(KRING_HTTP_TLS_*), and its gRPC API over TLS: a client with the right CA and certificate is served; one
without a certificate, or speaking plain HTTP, is refused at the handshake."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.e2e.gateway_process import OPERATOR_TOKEN, Gateway, running_gateway
from tests.support.certificates import CertificateAuthority
from tests.support.infra import rabbit_vhost


@dataclass
class Served:
    gateway: Gateway
    ca: Path
    client: tuple[Path, Path]


def context(ca: Path, client: tuple[Path, Path] | None) -> ssl.SSLContext:
    made = ssl.create_default_context(cafile=str(ca))
    if client is not None:
        made.load_cert_chain(*client)
    return made


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[Served]:
    directory = tmp_path_factory.mktemp("gateway-tls")
    ca = CertificateAuthority("Werkplaats CA")
    ca_file = ca.write(directory, "ca")
    server = ca.issue("kring", ips=("127.0.0.1",)).write(directory, "server")
    client = ca.issue("operator-tools", client=True).write(directory, "client")
    env = {"KRING_HTTP_TLS_CERT_FILE": str(server[0]), "KRING_HTTP_TLS_KEY_FILE": str(server[1]),
           "KRING_HTTP_TLS_CLIENT_CA_FILE": str(ca_file),
           "KRING_GRPC_TLS_CERT_FILE": str(server[0]), "KRING_GRPC_TLS_KEY_FILE": str(server[1])}
    with rabbit_vhost("kring-e2e-gateway-tls") as amqp_uri, running_gateway(
            directory, amqp_uri, https=context(ca_file, client), **env) as gateway:
        yield Served(gateway, ca_file, client)


def test_the_admin_api_answers_over_https_to_a_client_with_a_certificate(served: Served):
    verify = context(served.ca, served.client)
    response = httpx.get(f"{served.gateway.http_url}/v1/members", verify=verify,
                         headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"}, timeout=10)
    assert served.gateway.http_url.startswith("https://")
    assert response.status_code in (200, 503)  # served (503: the members service is not running here)
    assert "admin API on https://" in served.gateway.log() and "(TLS)" in served.gateway.log()


def test_the_admin_api_refuses_a_client_without_a_certificate_at_the_handshake(served: Served):
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{served.gateway.http_url}/healthz", verify=context(served.ca, None), timeout=10)


def test_the_admin_api_does_not_answer_plain_http(served: Served):
    with pytest.raises(httpx.TransportError):
        httpx.get(served.gateway.http_url.replace("https://", "http://") + "/healthz", timeout=10)
