"""Service calls within a gRPC call's deadline.

Every RPC the gateway makes for a partner gets ``min(time the partner's deadline leaves, KRING_RPC_TIMEOUT)``:
a partner that gives up after 2 s never has the gateway wait 10 s for it, and a call whose deadline has passed
asks nothing at all.
"""

from __future__ import annotations

from typing import Any, Protocol

from services.common.rpc_client import RpcCaller
from services.gateway.partner.errors import DeadlineExceeded


class HasDeadline(Protocol):
    def time_remaining(self) -> float | None: ...


class CallScope:
    """The RPC caller as one gRPC call sees it."""

    def __init__(self, rpc: RpcCaller, context: HasDeadline, timeout: float) -> None:
        self.rpc = rpc
        self.context = context
        self.timeout = timeout

    def budget(self) -> float:
        """Seconds the next service call may take; raises DeadlineExceeded when none are left."""
        remaining = self.context.time_remaining()
        if remaining is None:
            return self.timeout
        if remaining <= 0:
            raise DeadlineExceeded("the call's deadline has passed")
        return min(self.timeout, remaining)

    def call(self, service: str, method: str, *args: Any) -> Any:
        return self.rpc.call(service, method, *args, timeout=self.budget())
