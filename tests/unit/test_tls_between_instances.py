"""TLS between instances, on real sockets: the gateway's gRPC server serves TLS from files (mutual when
configured) and picks up a renewed certificate for new connections; a peer's connection settings reach it with
a CA bundle, a server name and this instance's client certificate; every TLS refusal, on either side, is a
refusal saying why (expired, another CA, another name, none where one is required), never a bare UNAVAILABLE."""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest

from services.api.kring.v1 import federation_pb2 as pb
from services.api.kring.v1 import federation_pb2_grpc
from services.common.config import Settings
from services.common.errors import Unavailable
from services.federation.relay.peer_client import PeerClient, PeerRefused
from services.federation.relay.transport import ClientIdentity
from services.gateway.shared.tls import grpc_server_credentials
from tests.support.certificates import CertificateAuthority
from tests.support.stack import free_port

SERVER_NAME = "kring-b.test"


class Instance(federation_pb2_grpc.FederationServicer):
    def GetInstance(self, request: pb.GetInstanceRequest, context: grpc.ServicerContext) -> pb.Instance:
        return pb.Instance(id="kring-b", name="Kring B", version="test", api_version="v1")


@dataclass
class Pki:
    """Organisation B's CA (its server), A's CA (its client certificate), and a stranger's."""

    directory: Path
    ca_a: CertificateAuthority
    ca_b: CertificateAuthority
    stranger: CertificateAuthority
    client: ClientIdentity  # A's, signed by A's CA

    def server_files(self, ca: CertificateAuthority | None = None, *, expired: bool = False,
                     name: str = "server") -> tuple[Path, Path]:
        return (ca or self.ca_b).issue("kring-b", dns=(SERVER_NAME,), expired=expired).write(self.directory, name)

    def client_identity(self, ca: CertificateAuthority, *, expired: bool = False,
                        name: str = "other") -> ClientIdentity:
        return ClientIdentity(*ca.issue("kring-a", client=True, expired=expired).write(self.directory, name))

    def transport(self, **changes: Any) -> dict[str, Any]:
        return {"mode": "tls", "ca_bundle": self.ca_b.pem.decode(), "server_name": SERVER_NAME,
                "client_certificate": True, **changes}


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    directory = tmp_path_factory.mktemp("pki")
    ca_a, ca_b = CertificateAuthority("Kring A CA"), CertificateAuthority("Kring B CA")
    client = ClientIdentity(*ca_a.issue("kring-a", client=True).write(directory, "client-a"))
    return Pki(directory, ca_a, ca_b, CertificateAuthority("Someone else's CA"), client)


@dataclass
class Served:
    address: str
    settings: Settings
    server: grpc.Server


def serve(settings: Settings) -> Served:
    server = grpc.server(ThreadPoolExecutor(max_workers=4))
    federation_pb2_grpc.add_FederationServicer_to_server(Instance(), server)
    tls = grpc_server_credentials(settings)
    assert tls is not None
    port = server.add_secure_port(f"127.0.0.1:{settings.grpc_port}", tls[0])
    server.start()
    return Served(f"127.0.0.1:{port}", settings, server)


def settings_for(pki: Pki, cert: Path, key: Path, *, require: bool = True) -> Settings:
    return Settings(grpc_port=free_port(), grpc_tls_cert_file=cert, grpc_tls_key_file=key,
                    grpc_tls_client_ca_file=pki.ca_a.write(pki.directory, "client-ca"),
                    grpc_tls_require_client_cert=require)


@pytest.fixture(scope="module")
def mutual(pki: Pki) -> Iterator[Served]:
    """B's server: a valid certificate from B's CA; requires client certificates from A's CA."""
    served = serve(settings_for(pki, *pki.server_files()))
    yield served
    served.server.stop(0)


def ask(address: str, transport: dict[str, Any], identity: ClientIdentity | None) -> dict[str, str]:
    client = PeerClient("kring-b", address, "kpk_the-key-b-issued", timeout=5, transport=transport,
                        identity=identity)
    try:
        return client.get_instance()
    finally:
        client.close()


def refusal(address: str, transport: dict[str, Any], identity: ClientIdentity | None) -> str:
    with pytest.raises(PeerRefused) as refused:
        ask(address, transport, identity)
    return refused.value.message


def test_an_instance_with_its_client_certificate_reaches_a_peer_over_mutual_tls(pki: Pki, mutual: Served):
    assert ask(mutual.address, pki.transport(), pki.client)["id"] == "kring-b"


def test_a_peer_whose_certificate_expired_is_refused_saying_so(pki: Pki):
    served = serve(settings_for(pki, *pki.server_files(expired=True, name="expired-server")))
    try:
        message = refusal(served.address, pki.transport(), pki.client)
    finally:
        served.server.stop(0)
    assert "TLS handshake failed: the peer's certificate: certificate has expired" in message
    assert message.startswith("peer kring-b: GetInstance:")


def test_a_peer_whose_certificate_another_ca_signed_is_refused_saying_so(pki: Pki):
    served = serve(settings_for(pki, *pki.server_files(pki.stranger, name="stranger-server")))
    try:
        message = refusal(served.address, pki.transport(), pki.client)
    finally:
        served.server.stop(0)
    assert "TLS handshake failed: the peer's certificate: unable to get local issuer certificate" in message


def test_a_peer_whose_certificate_is_for_another_name_is_refused_saying_so(pki: Pki, mutual: Served):
    message = refusal(mutual.address, pki.transport(server_name="kring-c.test"), pki.client)
    assert "TLS handshake failed: the peer's certificate: Hostname mismatch" in message
    assert "kring-c.test" in message


def test_an_instance_without_a_client_certificate_is_refused_where_one_is_required(pki: Pki, mutual: Served):
    message = refusal(mutual.address, pki.transport(client_certificate=False), None)
    assert "TLS handshake failed: the peer requires a client certificate and we presented none" in message


def test_an_instance_whose_client_certificate_expired_is_refused_saying_so(pki: Pki, mutual: Served):
    expired = pki.client_identity(pki.ca_a, expired=True, name="expired-client")
    message = refusal(mutual.address, pki.transport(), expired)
    assert "TLS handshake failed: the peer refused our client certificate: certificate expired" in message


def test_an_instance_whose_client_certificate_another_ca_signed_is_refused_saying_so(pki: Pki, mutual: Served):
    foreign = pki.client_identity(pki.stranger, name="stranger-client")
    message = refusal(mutual.address, pki.transport(), foreign)
    assert "TLS handshake failed: the peer refused our client certificate: the peer does not trust the CA" in message
    assert "Someone else" in message


def test_asking_for_a_client_certificate_this_instance_does_not_have_is_a_refusal_naming_the_settings(
        pki: Pki, mutual: Served):
    message = refusal(mutual.address, pki.transport(), None)
    assert "KRING_PEER_TLS_CERT_FILE and KRING_PEER_TLS_KEY_FILE are not set here" in message


def test_a_peer_that_is_away_is_unavailable_not_refused(pki: Pki):
    with pytest.raises(Unavailable) as away:
        ask(f"127.0.0.1:{free_port()}", pki.transport(), pki.client)
    assert not isinstance(away.value, PeerRefused)


def test_without_mutual_tls_a_client_needs_no_certificate(pki: Pki):
    served = serve(settings_for(pki, *pki.server_files(name="one-way-server"), require=False))
    try:
        assert ask(served.address, pki.transport(client_certificate=False), None)["id"] == "kring-b"
    finally:
        served.server.stop(0)


def test_a_renewed_server_certificate_is_served_to_new_connections_without_a_restart(pki: Pki):
    cert, key = pki.server_files(name="renewed-server")
    served = serve(settings_for(pki, cert, key))
    renewal_ca = CertificateAuthority("Kring B CA, 2027")
    trusting_only_the_new_ca = pki.transport(ca_bundle=renewal_ca.pem.decode())
    try:
        assert "unable to get local issuer certificate" in refusal(served.address, trusting_only_the_new_ca,
                                                                   pki.client)
        renewed = renewal_ca.issue("kring-b", dns=(SERVER_NAME,))
        key.write_bytes(renewed.key_pem)
        cert.write_bytes(renewed.cert_pem)  # as cert-manager rewrites the mounted Secret
        os.utime(cert, ns=(os.stat(cert).st_atime_ns, os.stat(cert).st_mtime_ns + 1_000_000_000))

        assert ask(served.address, trusting_only_the_new_ca, pki.client)["id"] == "kring-b"
        assert "unable to get local issuer certificate" in refusal(served.address, pki.transport(), pki.client)
    finally:
        served.server.stop(0)


def test_a_renewal_caught_half_written_keeps_the_current_certificate(pki: Pki):
    cert, key = pki.server_files(name="half-written-server")
    served = serve(settings_for(pki, cert, key))
    try:
        key.write_bytes(CertificateAuthority("unrelated").issue("x").key_pem)  # the key of another certificate
        os.utime(key, ns=(os.stat(key).st_atime_ns, os.stat(key).st_mtime_ns + 1_000_000_000))
        assert ask(served.address, pki.transport(), pki.client)["id"] == "kring-b"
    finally:
        served.server.stop(0)


def test_a_certificate_and_a_key_that_do_not_match_stop_the_start_naming_the_file(pki: Pki):
    cert, _ = pki.server_files(name="mismatched")
    _, other_key = pki.server_files(name="mismatched-other")
    with pytest.raises(ValueError, match=r"the key is not the private key of .*mismatched\.crt"):
        grpc_server_credentials(settings_for(pki, cert, other_key))


def test_mutual_tls_without_a_client_ca_is_refused_at_start():
    with pytest.raises(ValueError, match="KRING_GRPC_TLS_REQUIRE_CLIENT_CERT needs"):
        Settings(grpc_tls_require_client_cert=True)
    with pytest.raises(ValueError, match="set together or not at all"):
        Settings(grpc_tls_cert_file=Path("server.crt"))
