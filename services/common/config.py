"""Configuration from environment variables, one place, documented defaults.

Every setting is ``KRING_<NAME>``; the README's configuration table lists them all.
A service's database may be overridden on its own with ``KRING_<SERVICE>_DATABASE_URL``.
"""

from __future__ import annotations

import importlib.util
import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.common.keys_at_rest import parse_keys

SERVICES = ("members", "networks", "sessions", "federation")



def available_services() -> list[str]:
    """The services this installation has, found without importing them (no nameko, no eventlet)."""
    return [s for s in SERVICES if importlib.util.find_spec(f"services.{s}.service") is not None]


# Offsets from KRING_METRICS_PORT: each process exposes /metrics on its own port.
METRICS_PORT_OFFSETS = {"gateway": 0, "members": 1, "networks": 2, "sessions": 3, "federation": 4, "relay": 5}


def available_processes() -> list[str]:
    """Every long-running process of an instance: the gateway, the services, and the relay (with federation)."""
    services = available_services()
    return ["gateway", *services, *(["relay"] if "federation" in services else [])]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KRING_", extra="ignore")

    amqp_uri: str = Field("amqp://guest:guest@127.0.0.1:5672/", description="RabbitMQ URI, vhost included")
    rabbitmq_management_url: str | None = Field(
        None, description="RabbitMQ's management API, where `kring declare` sets the queue policies. Unset: "
        "http://<host of KRING_AMQP_URI>:15672 when that URI uses the standard port; credentials from the URL, "
        "else those of KRING_AMQP_URI",
    )
    data_dir: Path = Field(Path("var/kring"), description="where SQLite databases and local state live")
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL shared by all services; PostgreSQL gives each service its own schema. "
        "Unset: one SQLite file per service in the data directory",
    )
    http_port: int = Field(8080, description="admin API (HTTP/JSON) port of the gateway")
    grpc_port: int = Field(50051, description="partner gRPC API port of the gateway")
    metrics_port: int = Field(9100, description="base port for /metrics; each process adds its own offset")
    bind_host: str = Field("127.0.0.1", description="interface the gateway and metrics listen on")
    operator_token: str | None = Field(None, description="bearer token of the operator (make run generates one)")
    sign_in_broker_token: SecretStr | None = Field(
        None, description="bearer token of the sign-in broker (the console): it opens only POST /v1/sign-in/tokens, "
        "which exchanges a verified e-mail address for that member's short-lived token, and nothing else. Unset: "
        "no sign-in (make run generates one, saved in the data directory)",
    )
    operator_emails: str = Field(
        "", description="comma-separated e-mail addresses whose sign-in gives a token with the operator's "
        "authority (for its lifetime); each must be an active member's address. Read by the gateway",
    )
    instance_id: str = Field("kring-local", description="identifier of this Kring instance in the federation")
    instance_name: str = Field("Kring (local)", description="human name of this instance")
    rpc_timeout: float = Field(10.0, description="seconds before a gateway RPC call gives up")
    rpc_pool_size: int = Field(16, description="standalone RPC proxies the gateway keeps open")
    grpc_workers: int = Field(32, ge=1, description="gateway threads for partner API calls that call a service (reads "
                              "the edge caches answer, and open streams, take none)")
    grpc_max_streams: int = Field(
        2000, ge=0, description="open StreamOutputs streams one gateway serves; beyond it a new stream is refused "
        "with RESOURCE_EXHAUSTED (a stream holds no thread: the cap bounds memory)"
    )
    edge_cache_max_age_seconds: float = Field(
        300.0, gt=0, description="longest the gateway keeps a service's answer (a token's principal, a partner key, a "
        "directory page) while its change feed is live; events drop it sooner when what it depends on changes"
    )
    edge_cache_fallback_seconds: float = Field(
        10.0, gt=0, description="longest the gateway keeps an answer while its change feed is not connected to the "
        "broker, and how long it remembers a refused token or key"
    )
    log_level: str = Field("INFO", description="root log level")
    log_format: str = Field("json", description="json (one object per line) or text")
    tracing: Literal["auto", "on", "off"] = Field(
        "auto", description="OpenTelemetry tracing: auto (on when OTEL_EXPORTER_OTLP_ENDPOINT or "
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set), on (also to the default http://localhost:4318), off (never; "
        "OTEL_SDK_DISABLED=true too). Spans go over OTLP/HTTP, configured by the standard OTEL_* variables",
    )
    event_delivery_limit: int = Field(
        5, description="deliveries of an event before a failing handler's message is dead-lettered"
    )
    outbox_retention_hours: float = Field(168.0, description="how long published outbox rows are kept")
    dedup_retention_hours: float = Field(
        720.0, description="how long consumers remember processed event ids (must outlast any redelivery)"
    )
    command_retention_hours: float = Field(
        24.0, gt=0, description="how long services keep the answers of applied commands: a retry with the same "
        "Idempotency-Key (or partner request_id) within it gets the first answer and changes nothing"
    )
    audit_retention_days: float = Field(
        730.0, gt=0, description="how long the audit log keeps an entry (who did what with people's data or with "
        "trust); older entries are purged hourly by the service that recorded them"
    )
    relay_reload_interval: float = Field(10.0, description="seconds between the relay's readings of the peer list")
    relay_backoff_initial: float = Field(1.0, description="the relay's first wait after a failed attempt at a peer")
    relay_backoff_max: float = Field(60.0, description="the relay's longest wait between attempts at a peer")
    peer_directory_sync_seconds: float = Field(
        60.0, gt=0, description="seconds between the relay's readings of each peer's directory of networks (also "
        "read when the relay starts and when the peer is reconfigured)"
    )
    relay_refused_retry: float = Field(
        300.0, description="seconds between the relay's attempts at a peer that refused it (or that this "
        "instance refuses); changing the peer retries at once"
    )
    # Rate limits per credential at the gateway (services/gateway/rate_limit.py); 0 turns a limit off.
    partner_rate: float = Field(
        100.0, ge=0, allow_inf_nan=False,
        description="partner API calls per second each partner key earns, per gateway replica; 0: no limit",
    )
    partner_burst: float = Field(200.0, ge=0, allow_inf_nan=False,
                                 description="partner API calls one key may make at once")
    admin_rate: float = Field(
        100.0, ge=0, allow_inf_nan=False,
        description="admin API requests per second each member's token earns on /v1, per gateway replica "
        "(the operator's token is not limited); 0: no limit",
    )
    admin_burst: float = Field(200.0, ge=0, allow_inf_nan=False,
                               description="admin API requests one token may make at once")
    # Keys at rest (services/common/keys_at_rest.py).
    federation_keys: SecretStr | None = Field(
        None, description="comma-separated Fernet keys for the peer API keys stored in the federation database: "
        "the first encrypts, every one decrypts (`kring federation-keys new` makes one; rotation in README, "
        "Operations). `make run` keeps a generated one in the data directory",
    )
    # TLS between organisations (services/gateway/shared/tls.py, services/federation/relay/peer_client.py).
    grpc_tls_cert_file: Path | None = Field(
        None, description="PEM certificate chain the partner gRPC API serves TLS with (with "
        "KRING_GRPC_TLS_KEY_FILE); read again when the files change (cert-manager renewals). Unset: plaintext",
    )
    grpc_tls_key_file: Path | None = Field(None, description="PEM private key of KRING_GRPC_TLS_CERT_FILE")
    grpc_tls_client_ca_file: Path | None = Field(
        None, description="PEM CA bundle that client certificates presented to the gRPC API must chain to",
    )
    grpc_tls_require_client_cert: bool = Field(
        False, description="mutual TLS: refuse a gRPC client without a certificate from "
        "KRING_GRPC_TLS_CLIENT_CA_FILE (every partner then needs one)",
    )
    peer_tls_cert_file: Path | None = Field(
        None, description="PEM client certificate this instance presents to peers whose connection settings "
        "ask for one (with KRING_PEER_TLS_KEY_FILE); read at every connection",
    )
    peer_tls_key_file: Path | None = Field(None, description="PEM private key of KRING_PEER_TLS_CERT_FILE")
    http_tls_cert_file: Path | None = Field(
        None, description="PEM certificate chain the admin API serves HTTPS with (with KRING_HTTP_TLS_KEY_FILE); "
        "read at start. Unset: plain HTTP (terminate TLS in front)",
    )
    http_tls_key_file: Path | None = Field(None, description="PEM private key of KRING_HTTP_TLS_CERT_FILE")
    http_tls_client_ca_file: Path | None = Field(
        None, description="when set, the admin API requires client certificates chaining to this PEM CA bundle",
    )

    @field_validator("federation_keys")
    @classmethod
    def _fernet_keys(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            parse_keys(value.get_secret_value())  # ValueError naming the key's position, never the key
        return value

    @field_validator("operator_emails")
    @classmethod
    def _addresses(cls, value: str) -> str:
        for position, address in enumerate((a.strip() for a in value.split(",") if a.strip()), start=1):
            if "@" not in address or any(c.isspace() for c in address):
                raise ValueError(f"KRING_OPERATOR_EMAILS: entry {position} is not an e-mail address")
        return value

    @property
    def operator_email_set(self) -> frozenset[str]:
        """KRING_OPERATOR_EMAILS lower-cased, as the members service stores addresses."""
        return frozenset(a.strip().lower() for a in self.operator_emails.split(",") if a.strip())

    @model_validator(mode="after")
    def _broker_is_not_the_operator(self) -> Settings:
        broker = self.sign_in_broker_token.get_secret_value() if self.sign_in_broker_token else None
        if broker is not None and broker == self.operator_token:
            raise ValueError("KRING_SIGN_IN_BROKER_TOKEN must differ from KRING_OPERATOR_TOKEN")
        return self

    @model_validator(mode="after")
    def _certificate_with_key(self) -> Settings:
        for prefix in ("grpc_tls", "peer_tls", "http_tls"):
            cert, key = getattr(self, f"{prefix}_cert_file"), getattr(self, f"{prefix}_key_file")
            if (cert is None) != (key is None):
                raise ValueError(f"KRING_{prefix.upper()}_CERT_FILE and KRING_{prefix.upper()}_KEY_FILE are set "
                                 "together or not at all")
        if self.grpc_tls_require_client_cert and (self.grpc_tls_client_ca_file is None
                                                  or self.grpc_tls_cert_file is None):
            raise ValueError("KRING_GRPC_TLS_REQUIRE_CLIENT_CERT needs KRING_GRPC_TLS_CERT_FILE, "
                             "KRING_GRPC_TLS_KEY_FILE and KRING_GRPC_TLS_CLIENT_CA_FILE")
        if self.http_tls_client_ca_file is not None and self.http_tls_cert_file is None:
            raise ValueError("KRING_HTTP_TLS_CLIENT_CA_FILE needs KRING_HTTP_TLS_CERT_FILE and KRING_HTTP_TLS_KEY_FILE")
        return self

    def database_url_for(self, service: str) -> str:
        override = os.environ.get(f"KRING_{service.upper()}_DATABASE_URL")
        if override:
            return override
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / f'{service}.db').resolve()}"

    def metrics_port_for(self, process: str) -> int:
        return self.metrics_port + METRICS_PORT_OFFSETS[process]

    def nameko_config(self, service: str) -> dict[str, Any]:
        """The config dict a nameko container (or a standalone proxy) is started with."""
        return {
            "AMQP_URI": self.amqp_uri,
            "DATABASE_URL": self.database_url_for(service),
            "SERVICE_NAME": service,
            "max_workers": 10,
            "serializer": "json",
            "HEARTBEAT": 30,
            "KRING_EVENT_DELIVERY_LIMIT": self.event_delivery_limit,
            "KRING_OUTBOX_RETENTION_HOURS": self.outbox_retention_hours,
            "KRING_DEDUP_RETENTION_HOURS": self.dedup_retention_hours,
            "KRING_COMMAND_RETENTION_HOURS": self.command_retention_hours,
            "KRING_AUDIT_RETENTION_DAYS": self.audit_retention_days,
        }


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
