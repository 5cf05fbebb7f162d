"""TLS for the gateway's partner gRPC API, from files: the server's certificate chain and key
(KRING_GRPC_TLS_CERT_FILE, KRING_GRPC_TLS_KEY_FILE) and, for mutual TLS, the CA bundle client certificates must
chain to (KRING_GRPC_TLS_CLIENT_CA_FILE, required with KRING_GRPC_TLS_REQUIRE_CLIENT_CERT).

The files are read again when they change (cert-manager renews a certificate by rewriting its Secret, which the
kubelet updates in the mounted volume): grpcio asks :class:`CertificateFiles` before each new connection's
handshake, and a changed file gives the next connections the new certificate; connections already open keep
theirs. A renewal caught half-written (a key that does not match its certificate yet) is skipped until the pair
reads whole. :func:`grpc_server_credentials` serves either server kind (``grpc.server`` or ``grpc.aio.server``):
pass the credentials to ``add_secure_port``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import cast

import grpc

from services.common.config import Settings

log = logging.getLogger(__name__)


class CertificateFiles:
    """The server's certificate configuration, read from its files, and read again when one of them changes."""

    def __init__(self, cert_file: Path, key_file: Path, client_ca_file: Path | None) -> None:
        self.files = [f for f in (cert_file, key_file, client_ca_file) if f is not None]
        self.cert_file, self.key_file, self.client_ca_file = cert_file, key_file, client_ca_file
        self._lock = threading.Lock()
        self._seen = self._stamp()
        self.reloads = 0

    def _stamp(self) -> tuple[tuple[int, int], ...]:
        stamps = []
        for path in self.files:
            status = path.stat()
            stamps.append((status.st_mtime_ns, status.st_size))
        return tuple(stamps)

    def configuration(self) -> grpc.ServerCertificateConfiguration:
        key, chain = self.key_file.read_bytes(), self.cert_file.read_bytes()
        _check_pair(key, chain, self.cert_file)
        roots = self.client_ca_file.read_bytes() if self.client_ca_file is not None else None
        return grpc.ssl_server_certificate_configuration([(key, chain)], root_certificates=roots)

    def fetch(self) -> grpc.ServerCertificateConfiguration | None:
        """grpcio's certificate configuration fetcher: a new configuration when a file changed, else None (keep
        the one in use). Never raises: a file missing or half-written keeps the current certificate."""
        with self._lock:
            try:
                stamp = self._stamp()
                if stamp == self._seen:
                    return None
                configuration = self.configuration()
            except (OSError, ValueError) as exc:
                log.warning("gRPC TLS: the certificate files changed but cannot be used yet (keeping the current "
                            "certificate): %s", exc)
                return None
            self._seen = stamp
            self.reloads += 1
            log.info("gRPC TLS: certificate files changed; new connections get the renewed certificate (%s)",
                     self.cert_file)
            return configuration


def _check_pair(key: bytes, chain: bytes, cert_file: Path) -> None:
    """ValueError unless the key is the private key of the chain's first certificate."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    try:
        certificate = x509.load_pem_x509_certificates(chain)[0]
        private = serialization.load_pem_private_key(key, password=None)
    except (ValueError, TypeError, IndexError) as exc:
        raise ValueError(f"{cert_file} and its key do not read as a PEM certificate and private key: {exc}") from None
    public = serialization.PublicFormat.SubjectPublicKeyInfo
    if certificate.public_key().public_bytes(serialization.Encoding.PEM, public) != \
            private.public_key().public_bytes(serialization.Encoding.PEM, public):
        raise ValueError(f"the key is not the private key of {cert_file}'s certificate")


def grpc_server_credentials(settings: Settings) -> tuple[grpc.ServerCredentials, CertificateFiles] | None:
    """TLS credentials for the partner gRPC API from the settings (with the files they watch); None when no
    certificate is configured (plaintext). Raises OSError or ValueError, naming the file, when the files set
    cannot be used at start."""
    if settings.grpc_tls_cert_file is None or settings.grpc_tls_key_file is None:
        return None
    files = CertificateFiles(settings.grpc_tls_cert_file, settings.grpc_tls_key_file,
                             settings.grpc_tls_client_ca_file)
    # grpcio documents None from the fetcher as "keep the current configuration"; typeshed's stub leaves it out.
    fetch = cast("Callable[[], grpc.ServerCertificateConfiguration]", files.fetch)
    credentials = grpc.dynamic_ssl_server_credentials(
        files.configuration(), fetch, require_client_authentication=settings.grpc_tls_require_client_cert)
    return credentials, files
