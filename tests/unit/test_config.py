"""Settings come from KRING_* environment variables with documented defaults."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from services.common.config import METRICS_PORT_OFFSETS, SERVICES, Settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests see only the KRING_* variables they set, never the developer's."""
    for name in list(os.environ):
        if name.startswith("KRING_"):
            monkeypatch.delenv(name)


def test_defaults_listen_on_http_8080_and_grpc_50051() -> None:
    settings = Settings()
    assert (settings.http_port, settings.grpc_port, settings.metrics_port) == (8080, 50051, 9100)
    assert settings.bind_host == "127.0.0.1"
    assert settings.amqp_uri == "amqp://guest:guest@127.0.0.1:5672/"
    assert settings.database_url is None
    assert settings.operator_token is None  # no secret has a default


def test_environment_variables_override_defaults_and_are_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KRING_HTTP_PORT", "9090")
    monkeypatch.setenv("KRING_RPC_TIMEOUT", "2.5")
    monkeypatch.setenv("KRING_INSTANCE_ID", "kring-utrecht")
    settings = Settings()
    assert (settings.http_port, settings.rpc_timeout, settings.instance_id) == (9090, 2.5, "kring-utrecht")


def test_a_malformed_number_is_refused_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KRING_GRPC_PORT", "fifty")
    with pytest.raises(ValidationError, match="grpc_port"):
        Settings()


def test_unknown_kring_variables_are_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KRING_NO_SUCH_SETTING", "1")
    assert Settings().http_port == 8080


def test_a_service_database_url_override_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KRING_DATABASE_URL", "postgresql://kring@db/kring")
    monkeypatch.setenv("KRING_MEMBERS_DATABASE_URL", "postgresql://members@db-members/members")
    settings = Settings()
    assert settings.database_url_for("members") == "postgresql://members@db-members/members"
    assert settings.database_url_for("networks") == "postgresql://kring@db/kring"


def test_the_shared_database_url_is_used_when_a_service_has_no_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KRING_DATABASE_URL", "postgresql://kring@db/kring")
    settings = Settings()
    assert {settings.database_url_for(service) for service in SERVICES} == {"postgresql://kring@db/kring"}


def test_without_a_url_each_service_gets_a_sqlite_file_in_the_data_dir(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("KRING_DATA_DIR", str(tmp_path / "state"))
    settings = Settings()
    assert settings.database_url_for("members") == f"sqlite:///{tmp_path / 'state' / 'members.db'}"
    assert settings.database_url_for("sessions") == f"sqlite:///{tmp_path / 'state' / 'sessions.db'}"


def test_a_relative_data_dir_becomes_an_absolute_sqlite_path(monkeypatch: pytest.MonkeyPatch,
                                                             tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    assert Settings().database_url_for("members") == f"sqlite:///{tmp_path / 'var' / 'kring' / 'members.db'}"


def test_an_empty_service_override_falls_back_to_the_shared_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KRING_DATABASE_URL", "postgresql://kring@db/kring")
    monkeypatch.setenv("KRING_MEMBERS_DATABASE_URL", "")
    assert Settings().database_url_for("members") == "postgresql://kring@db/kring"


def test_every_process_exposes_metrics_on_its_own_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KRING_METRICS_PORT", "9200")
    settings = Settings()
    ports = {process: settings.metrics_port_for(process) for process in METRICS_PORT_OFFSETS}
    assert ports["gateway"] == 9200 and ports["members"] == 9201
    assert len(set(ports.values())) == len(ports)
    assert set(SERVICES) <= set(ports)


def test_the_nameko_config_carries_broker_database_and_json_serialisation(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KRING_AMQP_URI", "amqp://kring:secret@rabbit:5672/kring")
    monkeypatch.setenv("KRING_MEMBERS_DATABASE_URL", "sqlite:////tmp/members.db")
    monkeypatch.setenv("KRING_EVENT_DELIVERY_LIMIT", "3")
    config = Settings().nameko_config("members")
    assert config["AMQP_URI"] == "amqp://kring:secret@rabbit:5672/kring"
    assert config["DATABASE_URL"] == "sqlite:////tmp/members.db"
    assert (config["SERVICE_NAME"], config["serializer"]) == ("members", "json")  # never pickle
    assert config["KRING_EVENT_DELIVERY_LIMIT"] == 3
