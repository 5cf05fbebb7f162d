"""Structured logging: one JSON object per line, carrying the correlation id of the request or event.

The correlation id lives in a context variable. nameko workers set it from the incoming call or event
(see :mod:`services.common.nameko_kit`); the gateway sets it per HTTP request and gRPC call and passes it
on with every RPC, so one id follows a request through every service and every event it causes.

The JSON lines are written by python-json-logger: every ``extra={...}`` field of a log call appears in the
line under its own name, beside ``ts``, ``level``, ``process``, ``logger``, ``message``, ``correlation_id``
and ``exc`` (a traceback). Two rules keep secrets out of the logs, whoever logs what: a field whose name says
it holds a secret (``password``, ``token``, ``authorization``, ...) is written as ``[redacted]``, and the
password of a URL (``amqp://kring:PASSWORD@host``) is masked in every string written.
"""

from __future__ import annotations

import contextvars
import logging
import re
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pythonjsonlogger.json import JsonFormatter as _LibraryJsonFormatter

correlation_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("correlation_id", default=None)

REDACTED = "[redacted]"
# Field names (of an `extra`) whose values are never written; matched case-insensitively anywhere in the name.
SECRET_FIELD = re.compile(r"passw(or)?d|passphrase|^pass$|secret|token|authori[sz]ation|api_?key|^keys?$|credential|"
                          r"private_?key|cookie|federation_keys|fernet", re.IGNORECASE)
URL_PASSWORD = re.compile(r"(?P<head>\b[a-z][a-z0-9+.-]*://[^\s:/@]*:)[^\s@/]+(?=@)", re.IGNORECASE)

# Context added to every JSON line: name -> function returning its value (None: left out). The correlation id
# is the first; tracing adds its ids here (`trace_id`, `span_id`) with add_context_field, nothing else changes.
CONTEXT_FIELDS: dict[str, Callable[[], Any]] = {"correlation_id": correlation_id.get}


def add_context_field(name: str, read: Callable[[], Any]) -> None:
    """Write ``name`` into every JSON log line, with the value ``read()`` returns when the line is logged."""
    CONTEXT_FIELDS[name] = read


def remove_context_field(name: str) -> None:
    CONTEXT_FIELDS.pop(name, None)


def redact(value: Any) -> Any:
    """Mask the password of every URL in a string (recursively in lists and dicts); other values as they are."""
    if isinstance(value, str):
        return URL_PASSWORD.sub(rf"\g<head>{REDACTED}", value)
    if isinstance(value, dict):
        return {k: REDACTED if SECRET_FIELD.search(str(k)) else redact(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    return value


class _CorrelationFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.correlation_id = correlation_id.get()
        if isinstance(record.msg, str) and record.msg.startswith("(expected)"):
            # nameko logs every expected (user-caused) RPC error with a traceback; one line is enough.
            record.exc_info = None
            record.levelno, record.levelname = logging.INFO, "INFO"
        return True


class JsonFormatter(_LibraryJsonFormatter):
    """python-json-logger's formatter with Kring's field names, context fields and redaction."""

    def __init__(self, process_name: str) -> None:
        super().__init__("%(message)s", rename_fields={"exc_info": "exc"}, static_fields={"process": process_name},
                         json_default=str, json_ensure_ascii=False)

    def add_fields(self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]) -> None:
        log_data["ts"] = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        log_data["level"] = record.levelname.lower()
        log_data["logger"] = record.name
        super().add_fields(log_data, record, message_dict)  # process, message, every extra field, exc
        for name, read in CONTEXT_FIELDS.items():
            value = getattr(record, name) if hasattr(record, name) else read()
            if value:
                log_data[name] = value
            else:
                log_data.pop(name, None)

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        redacted: dict[str, Any] = redact(log_data)  # a dict comes back a dict
        return redacted


def configure_logging(process_name: str, level: str = "INFO", fmt: str = "json") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_CorrelationFilter())
    if fmt == "json":
        handler.setFormatter(JsonFormatter(process_name))
    else:
        handler.setFormatter(
            logging.Formatter(f"%(asctime)s {process_name} %(levelname)s [%(correlation_id)s] %(name)s: %(message)s")
        )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("amqp", "kombu", "nameko.messaging", "alembic.runtime.migration", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
