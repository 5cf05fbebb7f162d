"""Bearer tokens to principals.

The operator's token comes from configuration. Every other token is stored hashed by the members
service: the gateway sends only the token's SHA-256 and gets back whose it is and which networks they
belong to, administer and facilitate. Answers are kept in an :class:`~services.gateway.shared.edge_cache.EdgeCache`
tagged ``member:<id>``: the members service's events (``token.revoked``, ``member.erased``, ``membership.*``)
drop them on every gateway replica as soon as the change feed brings them, so a hot token costs no RPC and a
revoked one is refused within the event path's latency. While the change feed is away, answers live ``ttl``
seconds at most. Refusals are kept ``ttl`` seconds, so guessing tokens costs the members service little.
This process also forgets at once what its own admin API changes.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable

from services.common.caller import Caller
from services.common.errors import Unauthenticated
from services.common.rpc_client import RpcCaller
from services.gateway.shared.edge_cache import MISSING, EdgeCache, never_live

# Longer is not a token we issued; refuse it before hashing or calling anything.
MAX_TOKEN_LENGTH = 512


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def caller_of_member(data: dict[str, object]) -> Caller:
    """The members service's ``authenticate`` answer as a caller."""
    return Caller.model_validate({"kind": "member", **data})


class Authenticator:
    def __init__(self, operator_token: str | None, rpc: RpcCaller, *, ttl: float = 10.0, max_age: float = 300.0,
                 max_entries: int = 4096, live: Callable[[], bool] = never_live,
                 clock: Callable[[], float] = time.monotonic) -> None:
        # Compare digests, not tokens: compare_digest then runs in time independent of the token's length.
        self._operator_digest = hashlib.sha256(operator_token.encode()).digest() if operator_token else None
        self._rpc = rpc
        # token hash -> principal, or None for a token the members service rejected
        self.cache: EdgeCache[Caller | None] = EdgeCache(
            "member tokens", max_age=max_age, fallback_ttl=ttl, refusal_ttl=ttl, max_entries=max_entries, live=live,
            clock=clock)

    def authenticate(self, token: str | None) -> Caller:
        if not token:
            raise Unauthenticated("a bearer token is required")
        if len(token) > MAX_TOKEN_LENGTH:
            raise Unauthenticated("invalid token")
        if self._is_operator(token):
            return Caller.the_operator()
        digest = token_hash(token)
        principal = self.cache.get(digest)
        if principal is MISSING:
            ticket = self.cache.ticket()
            principal = self._ask_members(digest)
            if principal is None:
                self.cache.put(digest, None, (), ticket, refusal=True)
            else:
                self.cache.put(digest, principal, (f"member:{principal.member_id}",), ticket)
        if principal is None:
            raise Unauthenticated("invalid token")
        return principal

    def forget_all(self) -> None:
        self.cache.changed_everything()

    def forget_member(self, member_id: str) -> None:
        """Forget the cached principals of one member's tokens (their networks or roles just changed)."""
        self.cache.changed(f"member:{member_id}")

    def is_operator(self, token: str) -> bool:
        """Whether ``token`` is the operator's (compared in constant time)."""
        return self._is_operator(token)

    def _is_operator(self, token: str) -> bool:
        if self._operator_digest is None:
            return False
        return hmac.compare_digest(hashlib.sha256(token.encode()).digest(), self._operator_digest)

    def _ask_members(self, digest: str) -> Caller | None:
        try:
            return caller_of_member(self._rpc.call("members", "authenticate", digest))
        except Unauthenticated:
            # Remember rejections too, so guessing tokens costs the members service little.
            return None
        # Unavailable propagates: a members outage is a 503, not a reason to call the token invalid.
