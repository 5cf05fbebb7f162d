"""The JSON log lines: every extra field kept, the correlation id, context fields added later (trace ids),
and no secret written, whoever logs it."""

from __future__ import annotations

import json
import logging

import pytest

from services.common import logs


def line(record_args: dict | None = None, message: str = "hello %s", args: tuple = ("world",),
         exc_info=None, process: str = "members") -> dict:
    record = logging.LogRecord("services.test", logging.WARNING, __file__, 1, message, args, exc_info)
    for key, value in (record_args or {}).items():
        setattr(record, key, value)
    logs._CorrelationFilter().filter(record)
    return json.loads(logs.JsonFormatter(process).format(record))


@pytest.fixture
def correlation():
    token = logs.correlation_id.set("corr-123")
    yield "corr-123"
    logs.correlation_id.reset(token)


def test_the_fixed_fields_and_the_correlation_id(correlation):
    entry = line()
    assert entry["message"] == "hello world"
    assert entry["level"] == "warning" and entry["logger"] == "services.test" and entry["process"] == "members"
    assert entry["correlation_id"] == "corr-123"
    assert entry["ts"].endswith("+00:00") and "T" in entry["ts"]


def test_any_extra_field_is_kept_under_its_own_name_with_its_json_type():
    entry = line({"network_id": "n-1", "batch_size": 7, "peers": ["a", "b"], "ratio": 0.5, "ok": False})
    assert entry["network_id"] == "n-1" and entry["batch_size"] == 7 and entry["peers"] == ["a", "b"]
    assert entry["ratio"] == 0.5 and entry["ok"] is False


@pytest.fixture
def root_logger():
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_an_extra_field_through_the_logging_api_survives(capsys, root_logger):
    logs.configure_logging("gateway", "INFO", "json")
    logging.getLogger("services.x").info("applied", extra={"event_type": "member.registered", "attempt": 3})
    entry = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert entry["event_type"] == "member.registered" and entry["attempt"] == 3 and entry["process"] == "gateway"
    assert "correlation_id" not in entry  # none set: left out, not null


def test_a_traceback_is_written_as_exc():
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        entry = line(exc_info=sys.exc_info())
    assert "ValueError: boom" in entry["exc"]


def test_a_context_field_added_later_appears_in_every_line(monkeypatch):
    monkeypatch.setitem(logs.CONTEXT_FIELDS, "trace_id", lambda: "4bf92f3577b34da6a3ce929d0e0e4736")
    assert line()["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    monkeypatch.setitem(logs.CONTEXT_FIELDS, "trace_id", lambda: None)
    assert "trace_id" not in line()


@pytest.mark.parametrize("field", ["password", "token", "operator_token", "Authorization", "api_key", "secret",
                                   "db_password", "cookie", "key", "keys", "federation_keys", "KRING_FEDERATION_KEYS"])
def test_a_field_named_like_a_secret_is_redacted(field):
    entry = line({field: "s3cr3t-value", "harmless": "visible"})
    assert entry[field] == logs.REDACTED
    assert entry["harmless"] == "visible"
    assert "s3cr3t-value" not in json.dumps(entry)


def test_a_password_in_a_url_is_masked_in_the_message_and_in_fields():
    entry = line({"uri": "postgresql+psycopg2://kring:hunter2@db:5432/kring", "nested": {"dsn": "amqp://u:pw@h/"}},
                 message="cannot reach %s", args=("amqp://guest:guest-pw@rabbit:5672/vhost",))
    text = json.dumps(entry)
    assert "hunter2" not in text and "guest-pw" not in text and ":pw@" not in text
    assert entry["message"] == "cannot reach amqp://guest:[redacted]@rabbit:5672/vhost"
    assert entry["uri"] == "postgresql+psycopg2://kring:[redacted]@db:5432/kring"


def test_words_that_only_look_like_secret_names_are_kept():
    entry = line({"passenger": "p", "monkey": "m", "url": "https://example.org/a:b@c"})
    assert entry["passenger"] == "p" and entry["monkey"] == "m"


def test_the_redaction_would_catch_a_formatter_that_forgot_it():
    class Leaky(logs.JsonFormatter):
        def process_log_record(self, log_data):
            return log_data

    record = logging.LogRecord("x", logging.INFO, __file__, 1, "m", (), None)
    record.token = "s3cr3t-value"
    assert "s3cr3t-value" in Leaky("p").format(record)
    assert "s3cr3t-value" not in logs.JsonFormatter("p").format(record)
