"""Bearer tokens to principals.

The operator's token comes from configuration. Every other token is stored hashed by the members
service: the gateway sends only the token's SHA-256 and gets back whose it is and which networks they
belong to, administer and facilitate. Answers are kept in an :class:`~services.gateway.shared.edge_cache.EdgeCache`
tagged ``member:<id>``: the members service's events (``token.revoked``, ``member.erased``, ``membership.*``)
drop them on every gateway replica as soon as the change feed brings them, so a hot token costs no RPC and a
revoked one is refused within the event path's latency. While the change feed is away, answers live ``ttl``
seconds at most. Refusals are kept ``ttl`` seconds, so guessing tokens costs the members service little.
This process also forgets at once what its own admin API changes.

A token may expire (a sign-in's always does): the members service then refuses it, and a cached answer is
checked against the wall clock on every use and kept no longer than the token works, so an expired token
authenticates as nobody here too. A sign-in whose token carries the operator's authority (the members service
says ``operator``) becomes an operator caller that still knows its member id.

The sign-in broker's token (``KRING_SIGN_IN_BROKER_TOKEN``) is no principal: it opens only the sign-in exchange
(:func:`services.gateway.admin.deps.sign_in_broker`) and is refused, 403, everywhere else.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from services.common.caller import Caller
from services.common.errors import PermissionDenied, Unauthenticated
from services.common.rpc_client import RpcCaller
from services.gateway.shared.edge_cache import MISSING, EdgeCache, never_live

# Longer is not a token we issued; refuse it before hashing or calling anything.
MAX_TOKEN_LENGTH = 512


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


BROKER_ONLY = ("the sign-in broker token opens only POST /v1/sign-in/tokens; act with the token that "
               "exchange gave")


class Session(BaseModel):
    """What a bearer token stands for: the caller and, for a token the members service issued, its id and expiry."""

    model_config = ConfigDict(frozen=True)

    caller: Caller
    token_id: str | None = None
    expires_at: datetime | None = None  # None: until revoked (the operator's token, a token without expiry)

    def expired(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now


def session_of_member(data: Mapping[str, Any]) -> Session:
    """The members service's ``authenticate`` answer: a member, or the operator for an operator's sign-in."""
    principal = dict(data)
    token_id, expires_at = principal.pop("token_id", None), principal.pop("expires_at", None)
    kind = "operator" if principal.pop("operator", False) else "member"
    return Session(caller=Caller.model_validate({"kind": kind, **principal}), token_id=token_id,
                   expires_at=expires_at)


def caller_of_member(data: Mapping[str, Any]) -> Caller:
    """The members service's ``authenticate`` answer as a caller."""
    return session_of_member(data).caller


def _now() -> datetime:
    return datetime.now(UTC)


class Authenticator:
    def __init__(self, operator_token: str | None, rpc: RpcCaller, *, broker_token: str | None = None,
                 ttl: float = 10.0, max_age: float = 300.0, max_entries: int = 4096,
                 live: Callable[[], bool] = never_live, clock: Callable[[], float] = time.monotonic,
                 wall_clock: Callable[[], datetime] = _now) -> None:
        # Compare digests, not tokens: compare_digest then runs in time independent of the token's length.
        self._operator_digest = _digest(operator_token)
        self._broker_digest = _digest(broker_token)
        self._rpc = rpc
        self._wall_clock = wall_clock  # expiry is a moment in time, not an interval of this process's clock
        # token hash -> session, or None for a token the members service rejected
        self.cache: EdgeCache[Session | None] = EdgeCache(
            "member tokens", max_age=max_age, fallback_ttl=ttl, refusal_ttl=ttl, max_entries=max_entries, live=live,
            clock=clock)

    @property
    def sign_in_enabled(self) -> bool:
        return self._broker_digest is not None

    def authenticate(self, token: str | None) -> Caller:
        return self.session(token).caller

    def session(self, token: str | None) -> Session:
        if not token:
            raise Unauthenticated("a bearer token is required")
        if len(token) > MAX_TOKEN_LENGTH:
            raise Unauthenticated("invalid token")
        if self._is_operator(token):
            return Session(caller=Caller.the_operator())
        if self.is_broker(token):
            raise PermissionDenied(BROKER_ONLY)
        digest = token_hash(token)
        session = self.cache.get(digest)
        if session is MISSING:
            ticket = self.cache.ticket()
            session = self._ask_members(digest)
            if session is None:
                self.cache.put(digest, None, (), ticket, refusal=True)
            else:
                self.cache.put(digest, session, (f"member:{session.caller.member_id}",), ticket,
                               ttl=self._seconds_left(session))
        if session is None:
            raise Unauthenticated("invalid token")
        if session.expired(self._wall_clock()):
            raise Unauthenticated("the token has expired; sign in again")
        return session

    def is_broker(self, token: str) -> bool:
        """Whether ``token`` is the sign-in broker's (compared in constant time)."""
        return _matches(token, self._broker_digest)

    def _seconds_left(self, session: Session) -> float | None:
        if session.expires_at is None:
            return None
        return max(0.0, (session.expires_at - self._wall_clock()).total_seconds())

    def forget_all(self) -> None:
        self.cache.changed_everything()

    def forget_member(self, member_id: str) -> None:
        """Forget the cached principals of one member's tokens (their networks or roles just changed)."""
        self.cache.changed(f"member:{member_id}")

    def is_operator(self, token: str) -> bool:
        """Whether ``token`` is the operator's (compared in constant time)."""
        return self._is_operator(token)

    def _is_operator(self, token: str) -> bool:
        return _matches(token, self._operator_digest)

    def _ask_members(self, digest: str) -> Session | None:
        try:
            return session_of_member(self._rpc.call("members", "authenticate", digest))
        except Unauthenticated:
            # Remember rejections too, so guessing tokens costs the members service little.
            return None
        # Unavailable propagates: a members outage is a 503, not a reason to call the token invalid.


def _digest(secret: str | None) -> bytes | None:
    return hashlib.sha256(secret.encode()).digest() if secret else None


def _matches(token: str, digest: bytes | None) -> bool:
    return digest is not None and hmac.compare_digest(hashlib.sha256(token.encode()).digest(), digest)
