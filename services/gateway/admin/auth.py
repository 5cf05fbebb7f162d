"""Bearer tokens to principals.

The operator's token comes from configuration. Every other token is stored hashed by the members
service: the gateway sends only the token's SHA-256 and gets back whose it is and which networks they
belong to, administer and facilitate. Answers are cached for a few seconds so a burst of requests costs
one RPC; the price is that a revoked token (or a lost coordinator role) may keep working for up to ``ttl``
seconds on another gateway replica. This process forgets its cache whenever it changes tokens or memberships.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable

from services.common.caller import Caller
from services.common.errors import Unauthenticated
from services.common.rpc_client import RpcCaller
from services.gateway.shared.ttl_cache import MISSING, TtlCache

# Longer is not a token we issued; refuse it before hashing or calling anything.
MAX_TOKEN_LENGTH = 512


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def caller_of_member(data: dict[str, object]) -> Caller:
    """The members service's ``authenticate`` answer as a caller."""
    return Caller.model_validate({"kind": "member", **data})


class Authenticator:
    def __init__(self, operator_token: str | None, rpc: RpcCaller, *, ttl: float = 10.0,
                 max_entries: int = 1024, clock: Callable[[], float] = time.monotonic) -> None:
        # Compare digests, not tokens: compare_digest then runs in time independent of the token's length.
        self._operator_digest = hashlib.sha256(operator_token.encode()).digest() if operator_token else None
        self._rpc = rpc
        # token hash -> principal, or None for a token the members service rejected
        self._cache: TtlCache[Caller | None] = TtlCache(ttl, max_entries, clock)

    def authenticate(self, token: str | None) -> Caller:
        if not token:
            raise Unauthenticated("a bearer token is required")
        if len(token) > MAX_TOKEN_LENGTH:
            raise Unauthenticated("invalid token")
        if self._is_operator(token):
            return Caller.the_operator()
        digest = token_hash(token)
        principal = self._cache.get(digest)
        if principal is MISSING:
            principal = self._ask_members(digest)
            self._cache.put(digest, principal)
        if principal is None:
            raise Unauthenticated("invalid token")
        return principal

    def forget_all(self) -> None:
        self._cache.clear()

    def forget_member(self, member_id: str) -> None:
        """Forget the cached principals of one member's tokens (their networks or roles just changed)."""
        self._cache.discard_where(lambda p: p is not None and p.member_id == member_id)

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
