"""Service calls within a gRPC call's deadline.

Every RPC the gateway makes for a partner gets ``min(time the partner's deadline leaves, KRING_RPC_TIMEOUT)``:
a partner that gives up after 2 s never has the gateway wait 10 s for it, and a call whose deadline has passed
asks nothing at all.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from services.common.rpc_client import RpcCaller
from services.gateway.partner.errors import DeadlineExceeded

Metadata = tuple[tuple[str, str | bytes], ...]


class HasDeadline(Protocol):
    def time_remaining(self) -> float | None: ...


class PartnerCall(HasDeadline, Protocol):
    """What a method of the partner API reads from its call: the metadata and the time left."""

    def invocation_metadata(self) -> Iterable[tuple[str, str | bytes]] | None: ...


@dataclass(frozen=True)
class CallSnapshot:
    """A call's metadata and deadline, taken in the event loop: safe to read from a pool thread, where the
    ``grpc.aio`` servicer context is not."""

    metadata: Metadata
    deadline: float | None  # time.monotonic() at which the caller gives up; None: never

    @classmethod
    def of(cls, context: PartnerCall) -> CallSnapshot:
        remaining = context.time_remaining()
        deadline = None if remaining is None else time.monotonic() + remaining
        return cls(tuple((str(k), v) for k, v in context.invocation_metadata() or ()), deadline)

    def invocation_metadata(self) -> Metadata:
        return self.metadata

    def time_remaining(self) -> float | None:
        return None if self.deadline is None else self.deadline - time.monotonic()


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
