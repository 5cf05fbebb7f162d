"""Idempotency keys at the edge: a client's retry of a request with the same key is the same request.

A client sends ``Idempotency-Key`` (admin API) or ``request_id`` (partner API) with a request that changes
state. While the request is handled, every command the gateway sends to a service carries a request id made of
the caller, the key, the command and how many times this request called that command before; the service
applies a request id once and answers repeats from its record (:mod:`services.common.commands`), for as long as
it keeps records (``KRING_COMMAND_RETENTION_HOURS``). So a retry after a timeout, a 503 or a lost connection
gets the first answer, whether or not the first attempt got through, and never applies the request twice.

With the request goes its fingerprint (method, path and body, or the partner call): the same key with another
request is refused with 409 (``Idempotency-Key`` / ``same_request_for_same_key``). Keys are scoped to the
caller: the same key from two callers is two requests.

Without a key each call is still applied once per delivery (the service uses the message's own id), which
covers the broker delivering a request again, but not a client retrying.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from services.common.commands import fingerprint_of
from services.common.errors import KringError, ValidationFailed

HEADER = "Idempotency-Key"
# Visible ASCII, as Stripe and the IETF draft use it; long enough for a UUID or a client's own scheme.
_VALID_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
KEY_RULE = "idempotency_key"


@dataclass
class KeyedRequest:
    """One client request sent with a key; hands out the request id of each command it makes."""

    base: str
    fingerprint: str
    _calls: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def next_request(self, service: str, method: str) -> tuple[str, str]:
        """(request id, fingerprint) for the next call of ``service.method`` within this request."""
        command = f"{service}.{method}"
        with self._lock:
            nth = self._calls[command]
            self._calls[command] += 1
        digest = hashlib.sha256(f"{self.base}\x00{command}\x00{nth}".encode()).hexdigest()
        return f"key-{digest}", self.fingerprint


_current: ContextVar[KeyedRequest | None] = ContextVar("kring_keyed_request", default=None)


def check_key(key: str, field_name: str = HEADER) -> str:
    if not _VALID_KEY.match(key):
        raise ValidationFailed.single(field_name, KEY_RULE, "1 to 255 visible ASCII characters (no spaces)")
    return key


def keyed_request(caller_scope: str, key: str, *request_parts: object) -> KeyedRequest:
    """The keyed request of ``caller_scope`` (who is asking) with ``key``; ``request_parts`` make its fingerprint."""
    base = hashlib.sha256(f"{caller_scope}\x00{key}".encode()).hexdigest()
    return KeyedRequest(base, fingerprint_of(*request_parts))


def begin(request: KeyedRequest) -> None:
    """Make ``request`` the current one for the rest of this context (an HTTP request's task)."""
    _current.set(request)


@contextmanager
def keyed(request: KeyedRequest | None, field_name: str = HEADER) -> Iterator[None]:
    """Make ``request`` the current one within the block (a partner call's thread). The services name the key
    ``Idempotency-Key`` in their refusals; ``field_name`` is what the caller calls it (``request_id``)."""
    token = _current.set(request)
    try:
        yield
    except KringError as exc:
        if field_name == HEADER or not any(v.get("field") == HEADER for v in exc.violations):
            raise
        violations = [{**v, "field": field_name} if v.get("field") == HEADER else v for v in exc.violations]
        raise type(exc)(exc.message.replace(HEADER, field_name), violations) from None
    finally:
        _current.reset(token)


def next_request(service: str, method: str) -> tuple[str, str] | None:
    """The request id and fingerprint for a call made now, if the current request has a key."""
    current = _current.get()
    return None if current is None else current.next_request(service, method)
