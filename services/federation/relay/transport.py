"""How this instance reaches a peer's partner gRPC API: the peer's connection settings (``transport`` in
``POST /v1/peers``: plaintext for local development only, or TLS with the system's trust store or the peer's CA
bundle, a server name when the certificate does not carry the address's host, and this instance's client
certificate for a peer that requires mutual TLS), and a readable reason when a TLS handshake fails.

grpcio says only UNAVAILABLE ("failed to connect to all addresses; ... Ssl handshake failed ...") for every TLS
failure, on either side. :func:`diagnose` repeats the handshake with the standard library's ``ssl`` under the
same settings and names what went wrong: the peer's certificate expired, chains to a CA we do not trust, is for
another name; or the peer refused ours (none given where it requires one, expired, from a CA it does not trust).

This instance's client certificate and key come from files (KRING_PEER_TLS_CERT_FILE, KRING_PEER_TLS_KEY_FILE),
read at every connection, so a renewed certificate (cert-manager) is presented from the next one on.
"""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc

from services.common.config import Settings

PLAINTEXT, TLS = "plaintext", "tls"
HANDSHAKE_FAILED = "TLS handshake failed"

# What a TLS alert from the peer means for the certificate we presented (OpenSSL's reason codes).
PEER_ALERTS = {
    "TLSV13_ALERT_CERTIFICATE_REQUIRED": "the peer requires a client certificate and we presented none (set "
                                         "client_certificate in the peer's transport, and KRING_PEER_TLS_CERT_FILE)",
    "SSLV3_ALERT_CERTIFICATE_EXPIRED": "the peer refused our client certificate: certificate expired",
    "TLSV1_ALERT_UNKNOWN_CA": "the peer refused our client certificate: it does not trust the CA that signed it",
    "SSLV3_ALERT_BAD_CERTIFICATE": "the peer refused our client certificate",
    "SSLV3_ALERT_CERTIFICATE_UNKNOWN": "the peer refused our client certificate",
    "TLSV1_ALERT_DECRYPT_ERROR": "the peer refused our client certificate",
    "WRONG_VERSION_NUMBER": "the peer does not speak TLS on this port (is it plaintext?)",
    "RECORD_LAYER_FAILURE": "the peer does not speak TLS on this port (is it plaintext?)",
}


@dataclass(frozen=True)
class Transport:
    """A peer's connection settings, as stored (``PeerTransport`` as JSON)."""

    mode: str = TLS
    ca_bundle: str | None = None
    server_name: str | None = None
    client_certificate: bool = False

    @classmethod
    def of(cls, stored: dict[str, Any] | None) -> Transport:
        if not stored:
            return cls(mode=PLAINTEXT)  # a peer configured before connection settings existed
        return cls(mode=stored.get("mode", TLS), ca_bundle=stored.get("ca_bundle"),
                   server_name=stored.get("server_name"), client_certificate=bool(stored.get("client_certificate")))


@dataclass(frozen=True)
class ClientIdentity:
    """This instance's client certificate for peers that require mutual TLS (paths; read at each use)."""

    cert_file: Path
    key_file: Path

    @classmethod
    def from_settings(cls, settings: Settings) -> ClientIdentity | None:
        if settings.peer_tls_cert_file is None or settings.peer_tls_key_file is None:
            return None
        return cls(settings.peer_tls_cert_file, settings.peer_tls_key_file)

    def read(self) -> tuple[bytes, bytes]:
        """(private key, certificate chain), PEM."""
        return self.key_file.read_bytes(), self.cert_file.read_bytes()


class TransportNotUsable(Exception):
    """The settings ask for something this instance does not have (no client certificate configured)."""


def _identity_for(transport: Transport, identity: ClientIdentity | None) -> ClientIdentity | None:
    if not transport.client_certificate:
        return None
    if identity is None:
        raise TransportNotUsable("the peer's transport asks for our client certificate, and "
                                 "KRING_PEER_TLS_CERT_FILE and KRING_PEER_TLS_KEY_FILE are not set here")
    return identity


def open_channel(address: str, transport: Transport, identity: ClientIdentity | None) -> grpc.Channel:
    if transport.mode == PLAINTEXT:
        return grpc.insecure_channel(address)
    presented = _identity_for(transport, identity)
    try:
        key, chain = presented.read() if presented is not None else (None, None)
    except OSError as exc:
        raise TransportNotUsable(f"cannot read our client certificate: {exc.strerror}: {exc.filename}") from None
    credentials = grpc.ssl_channel_credentials(
        root_certificates=transport.ca_bundle.encode("ascii") if transport.ca_bundle else None,
        private_key=key, certificate_chain=chain)
    options = [("grpc.ssl_target_name_override", transport.server_name)] if transport.server_name else []
    return grpc.secure_channel(address, credentials, options=options)


def diagnose(address: str, transport: Transport, identity: ClientIdentity | None, timeout: float) -> str | None:
    """Why a TLS handshake with the peer fails (a sentence starting with "TLS handshake failed"), or None when
    it succeeds or the peer cannot be reached at all (then the peer is away, not refusing)."""
    if transport.mode != TLS:
        return None
    host, _, port = address.rpartition(":")
    host = host.strip("[]")
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cadata=transport.ca_bundle or None)
    context.set_alpn_protocols(["h2"])
    try:
        presented = _identity_for(transport, identity)
        if presented is not None:
            context.load_cert_chain(presented.cert_file, presented.key_file)
    except (TransportNotUsable, OSError, ssl.SSLError) as exc:
        return f"{HANDSHAKE_FAILED}: our client certificate: {exc}"
    try:
        raw = socket.create_connection((host, int(port)), timeout=timeout)
    except OSError:
        return None
    with raw:
        try:
            with context.wrap_socket(raw, server_hostname=transport.server_name or host) as tls:
                # TLS 1.3: the peer judges our certificate after the client's side of the handshake is done; a
                # peer that accepts us sends its HTTP/2 settings, one that does not closes the connection (gRPC
                # sends no alert saying why).
                accepted = tls.recv(1) != b""
        except ssl.SSLCertVerificationError as exc:
            return f"{HANDSHAKE_FAILED}: the peer's certificate: {exc.verify_message}"
        except ssl.SSLError as exc:
            reason = exc.reason or ""
            return f"{HANDSHAKE_FAILED}: {PEER_ALERTS.get(reason, reason or str(exc))}"
        except TimeoutError:
            return None
        except OSError as exc:  # reset during the handshake
            return f"{HANDSHAKE_FAILED}: the peer closed the connection during the handshake ({exc})"
    if accepted:
        return None
    if presented is None:
        return f"{HANDSHAKE_FAILED}: {PEER_ALERTS['TLSV13_ALERT_CERTIFICATE_REQUIRED']}"
    return f"{HANDSHAKE_FAILED}: the peer refused our client certificate: {_own_problem(presented.cert_file)}"


def _own_problem(cert_file: Path) -> str:
    """What is wrong with our client certificate as far as we can tell, else what the peer may not accept."""
    from cryptography import x509

    try:
        certificate = x509.load_pem_x509_certificates(cert_file.read_bytes())[0]
    except (OSError, ValueError) as exc:
        return f"it cannot be read ({exc})"
    now = datetime.now(UTC)
    if certificate.not_valid_after_utc < now:
        return f"certificate expired (not valid after {certificate.not_valid_after_utc:%Y-%m-%d %H:%M} UTC)"
    if certificate.not_valid_before_utc > now:
        return f"certificate not valid yet (not before {certificate.not_valid_before_utc:%Y-%m-%d %H:%M} UTC)"
    return ("the peer does not trust the CA that signed it (issuer: "
            f"{certificate.issuer.rfc4514_string()}); ask its operator which CA its KRING_GRPC_TLS_CLIENT_CA_FILE "
            "holds")
