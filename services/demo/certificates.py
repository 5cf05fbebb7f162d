"""Certificates for instances on one machine (``cryptography``): a CA per organisation, server certificates for
names and addresses, client certificates for instances (and expired ones, for the tests). ``make
run-federation`` makes its two instances' with :func:`local_pki`; the tests make theirs. Keys are EC P-256."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass
class Issued:
    cert_pem: bytes
    key_pem: bytes

    def write(self, directory: Path, name: str) -> tuple[Path, Path]:
        """(certificate file, key file) in ``directory``."""
        directory.mkdir(parents=True, exist_ok=True)
        cert, key = directory / f"{name}.crt", directory / f"{name}.key"
        cert.write_bytes(self.cert_pem)
        key.write_bytes(self.key_pem)
        return cert, key


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


class CertificateAuthority:
    def __init__(self, name: str, *, days: int = 30) -> None:
        self.name = name
        self.key = _key()
        now = datetime.now(UTC)
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        self.cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
                     .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
                     .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=days))
                     .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                     .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                                  content_commitment=False, key_encipherment=False,
                                                  data_encipherment=False, key_agreement=False,
                                                  encipher_only=False, decipher_only=False), critical=True)
                     .add_extension(x509.SubjectKeyIdentifier.from_public_key(self.key.public_key()), critical=False)
                     .sign(self.key, hashes.SHA256()))

    @property
    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def write(self, directory: Path, name: str) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{name}.crt"
        path.write_bytes(self.pem)
        return path

    def issue(self, common_name: str, *, dns: tuple[str, ...] = (), ips: tuple[str, ...] = (),
              client: bool = False, expired: bool = False, days: int = 7) -> Issued:
        """A leaf certificate: a server's (for ``dns`` names and ``ips``) or, with ``client``, an instance's."""
        key = _key()
        now = datetime.now(UTC)
        start, end = (now - timedelta(days=10), now - timedelta(days=1)) if expired else \
            (now - timedelta(hours=1), now + timedelta(days=days))
        names: list[x509.GeneralName] = [x509.DNSName(d) for d in dns]
        names += [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
        builder = (x509.CertificateBuilder()
                   .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
                   .issuer_name(self.cert.subject).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(start).not_valid_after(end)
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                   .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH if client
                                                         else ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
                   # Key identifiers as any real CA writes them: Python 3.13's strict verification requires them.
                   .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
                   .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                                  critical=False))
        if names:
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        cert = builder.sign(self.key, hashes.SHA256())
        return Issued(cert.public_bytes(serialization.Encoding.PEM), _key_pem(key))


@dataclass(frozen=True)
class LocalInstancePki:
    """One instance's files for ``make run-federation``: its CA, its gateway's server certificate (for
    ``localhost`` and 127.0.0.1) and its instance's client certificate."""

    ca_file: Path
    server: tuple[Path, Path]
    client: tuple[Path, Path]

    def env(self, peer_ca_file: Path) -> dict[str, str]:
        """Serve mutual TLS, accepting the peer's instance certificates; present ours to the peer."""
        return {"KRING_GRPC_TLS_CERT_FILE": str(self.server[0]), "KRING_GRPC_TLS_KEY_FILE": str(self.server[1]),
                "KRING_GRPC_TLS_CLIENT_CA_FILE": str(peer_ca_file), "KRING_GRPC_TLS_REQUIRE_CLIENT_CERT": "true",
                "KRING_PEER_TLS_CERT_FILE": str(self.client[0]), "KRING_PEER_TLS_KEY_FILE": str(self.client[1])}

    def transport(self) -> dict[str, object]:
        """How the other instance reaches this one (a peer's ``transport``)."""
        return {"mode": "tls", "ca_bundle": self.ca_file.read_text(), "server_name": "localhost",
                "client_certificate": True}


def local_pki(directory: Path, instance_id: str) -> LocalInstancePki:
    """The instance's files in ``directory`` (made once, valid for a year; delete them to make new ones)."""
    ca_file, server, client = (directory / f"{instance_id}-ca.crt",
                               (directory / f"{instance_id}-server.crt", directory / f"{instance_id}-server.key"),
                               (directory / f"{instance_id}-client.crt", directory / f"{instance_id}-client.key"))
    if not all(path.exists() for path in (ca_file, *server, *client)):
        ca = CertificateAuthority(f"{instance_id} development CA", days=366)
        ca.write(directory, f"{instance_id}-ca")
        ca.issue(instance_id, dns=("localhost",), ips=("127.0.0.1",), days=365).write(directory,
                                                                                       f"{instance_id}-server")
        ca.issue(instance_id, client=True, days=365).write(directory, f"{instance_id}-client")
    return LocalInstancePki(ca_file, server, client)
