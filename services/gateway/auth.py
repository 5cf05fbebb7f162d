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
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from services.common.errors import Unauthenticated
from services.gateway.policy import Principal
from services.gateway.rpc_pool import RpcCaller

# Longer is not a token we issued; refuse it before hashing or calling anything.
MAX_TOKEN_LENGTH = 512


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class Authenticator:
    def __init__(self, operator_token: str | None, rpc: RpcCaller, *, ttl: float = 10.0,
                 max_entries: int = 1024, clock: Callable[[], float] = time.monotonic) -> None:
        # Compare digests, not tokens: compare_digest then runs in time independent of the token's length.
        self._operator_digest = hashlib.sha256(operator_token.encode()).digest() if operator_token else None
        self._rpc = rpc
        self._ttl = ttl
        self._max_entries = max_entries
        self._clock = clock
        self._lock = threading.Lock()
        # token hash -> (expires at, principal or None for a token the members service rejected)
        self._cache: OrderedDict[str, tuple[float, Principal | None]] = OrderedDict()

    def authenticate(self, token: str | None) -> Principal:
        if not token:
            raise Unauthenticated("a bearer token is required")
        if len(token) > MAX_TOKEN_LENGTH:
            raise Unauthenticated("invalid token")
        if self._is_operator(token):
            return Principal.the_operator()
        digest = token_hash(token)
        cached = self._lookup(digest)
        if cached is None:
            principal = self._ask_members(digest)
            self._remember(digest, principal)
        else:
            principal = cached[1]
        if principal is None:
            raise Unauthenticated("invalid token")
        return principal

    def forget_all(self) -> None:
        with self._lock:
            self._cache.clear()

    def forget_member(self, member_id: str) -> None:
        """Forget the cached principals of one member's tokens (their networks or roles just changed)."""
        with self._lock:
            for digest in [d for d, (_, p) in self._cache.items() if p is not None and p.member_id == member_id]:
                del self._cache[digest]

    def is_operator(self, token: str) -> bool:
        """Whether ``token`` is the operator's (compared in constant time)."""
        return self._is_operator(token)

    def _is_operator(self, token: str) -> bool:
        if self._operator_digest is None:
            return False
        return hmac.compare_digest(hashlib.sha256(token.encode()).digest(), self._operator_digest)

    def _ask_members(self, digest: str) -> Principal | None:
        try:
            return Principal.from_rpc(self._rpc.call("members", "authenticate", digest))
        except Unauthenticated:
            # Remember rejections too, so guessing tokens costs the members service little.
            return None
        # Unavailable propagates: a members outage is a 503, not a reason to call the token invalid.

    def _lookup(self, digest: str) -> tuple[float, Principal | None] | None:
        now = self._clock()
        with self._lock:
            entry = self._cache.get(digest)
            if entry is None:
                return None
            if entry[0] <= now:
                del self._cache[digest]
                return None
            self._cache.move_to_end(digest)
            return entry

    def _remember(self, digest: str, principal: Principal | None) -> None:
        with self._lock:
            self._cache[digest] = (self._clock() + self._ttl, principal)
            self._cache.move_to_end(digest)
            while len(self._cache) > self._max_entries:
                self._cache.popitem(last=False)
