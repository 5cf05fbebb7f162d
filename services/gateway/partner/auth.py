"""Partner API keys to partners.

A partner calls the gRPC API with ``authorization: Bearer <key>`` metadata. The gateway sends only the key's
SHA-256 to the federation service (``authenticate_partner``), which answers with the partner and its
networks, or refuses: an unknown or revoked key is UNAUTHENTICATED, a blocked partner PERMISSION_DENIED.
Answers are kept in an :class:`~services.gateway.shared.edge_cache.EdgeCache` tagged ``partner:<id>``: the
federation service's ``partner.*`` events drop them on every gateway replica as soon as the change feed brings
them, so a hot key costs no RPC and a revoked, rotated or blocked one is refused within the event path's
latency. While the change feed is away, answers live ``ttl`` seconds at most. Refusals are kept ``ttl``
seconds, so a guessing client costs the federation service little.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from services.common.caller import Caller
from services.common.errors import KringError, PermissionDenied, Unauthenticated
from services.gateway.shared.edge_cache import MISSING, EdgeCache, never_live

# Keys we issue are about 50 characters; anything much longer is not one of ours.
MAX_KEY_LENGTH = 512
AUTHORIZATION = "authorization"


@dataclass(frozen=True)
class Partner:
    partner_id: str
    name: str
    network_ids: frozenset[str]
    instance_id: str | None = None  # a partner of kind instance: another Kring instance

    @classmethod
    def from_rpc(cls, data: Mapping[str, Any]) -> Partner:
        """The federation service's ``authenticate_partner`` result."""
        return cls(partner_id=str(data["partner_id"]), name=str(data["name"]),
                   network_ids=frozenset(data.get("network_ids") or ()), instance_id=data.get("instance_id"))

    def owns(self, network_id: str) -> bool:
        return network_id in self.network_ids

    @property
    def caller(self) -> Caller:
        """The partner as the services see a caller."""
        return Caller.partner(self.partner_id, self.network_ids)


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def bearer_key(metadata: Iterable[tuple[str, str | bytes]] | None) -> str | None:
    """The key in ``authorization: Bearer <key>`` call metadata; None when there is none."""
    for name, value in metadata or ():
        if name.lower() != AUTHORIZATION:
            continue
        text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
        scheme, _, key = text.strip().partition(" ")
        if scheme.lower() == "bearer" and key.strip():
            return key.strip()
        raise Unauthenticated("the authorization metadata must be `Bearer <key>`")
    return None


class TimedCall(Protocol):
    """A service's JSON answer to ``method(*args)`` within ``timeout`` (None: the pool's): ``RpcCaller.call``."""

    def __call__(self, service: str, method: str, /, *args: Any, timeout: float | None = None) -> Any: ...


class PartnerAuthenticator:
    def __init__(self, rpc_call: TimedCall, *, ttl: float = 10.0, max_age: float = 300.0, max_entries: int = 4096,
                 live: Callable[[], bool] = never_live, clock: Callable[[], float] = time.monotonic) -> None:
        """``rpc_call(service, method, *args, timeout=...)``: the gateway's RPC pool's ``call``."""
        self._call = rpc_call
        # key hash -> the partner, or the refusal to raise again
        self.cache: EdgeCache[Partner | KringError] = EdgeCache(
            "partner keys", max_age=max_age, fallback_ttl=ttl, refusal_ttl=ttl, max_entries=max_entries, live=live,
            clock=clock)

    def authenticate(self, key: str | None, *, timeout: float | None = None) -> Partner:
        if not key:
            raise Unauthenticated("a partner API key is required: `authorization: Bearer <key>` metadata")
        if len(key) > MAX_KEY_LENGTH:
            raise Unauthenticated("invalid partner API key")
        digest = key_hash(key)
        answer = self.cache.get(digest)
        if answer is MISSING:
            ticket = self.cache.ticket()
            answer = self._ask(digest, timeout)
            if isinstance(answer, Partner):
                self.cache.put(digest, answer, (f"partner:{answer.partner_id}",), ticket)
            else:
                self.cache.put(digest, answer, (), ticket, refusal=True)
        if isinstance(answer, KringError):
            raise type(answer)(answer.message, answer.violations)
        return answer

    def forget_partner(self, partner_id: str) -> None:
        """Forget what is cached about one partner (its key was revoked or rotated, or it was blocked).
        Cached refusals stay: no change makes a refused key valid again."""
        self.cache.changed(f"partner:{partner_id}")

    def forget_all(self) -> None:
        self.cache.changed_everything()

    def _ask(self, digest: str, timeout: float | None) -> Partner | KringError:
        try:
            return Partner.from_rpc(self._call("federation", "authenticate_partner", digest, timeout=timeout))
        except (Unauthenticated, PermissionDenied) as refusal:
            return refusal
        # Unavailable propagates uncached: an outage is not a reason to call the key invalid.
