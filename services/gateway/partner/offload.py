"""Blocking work kept out of the partner server's event loop.

The partner API runs on ``grpc.aio``: one event loop serves every call and every open stream. A nameko RPC
(:mod:`services.common.rpc_client`) blocks its thread until the service answers, so it must never run in the
loop. :class:`Offload` runs such work in a bounded thread pool (``KRING_GRPC_WORKERS`` threads) with the
call's context variables (correlation id, idempotency key, trace), and awaits it.

Most hot reads need no RPC at all: the edge caches answer them in memory. :meth:`Offload.cheap_first` tries the
work in the loop first, with every service call guarded (:class:`LoopGuardedRpc`): should the work reach for a
service, the guard raises :class:`WouldBlock` before anything is sent, and the work runs again in the pool. Only
work that does nothing before its first service call but read caches may go through ``cheap_first``.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from typing import Any, TypeVar

from services.common.rpc_client import RpcCaller

T = TypeVar("T")

_IN_LOOP: ContextVar[bool] = ContextVar("kring_partner_in_loop", default=False)


class WouldBlock(Exception):
    """A service call was about to block the event loop; the work runs again in the pool."""


class LoopGuardedRpc:
    """The RPC caller, refusing to call while the event loop tries work in place (:meth:`Offload.cheap_first`)."""

    def __init__(self, rpc: RpcCaller) -> None:
        self.rpc = rpc

    def call(self, service: str, method: str, *args: Any, timeout: float | None = None) -> Any:
        if _IN_LOOP.get():
            raise WouldBlock(f"{service}.{method}")
        return self.rpc.call(service, method, *args, timeout=timeout)


class Offload:
    def __init__(self, workers: int, *, name: str = "grpc") -> None:
        self.workers = workers
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)

    async def __call__(self, work: Callable[[], T], /) -> T:
        """``work()`` in the pool, with the calling task's context variables."""
        loop = asyncio.get_running_loop()
        context = contextvars.copy_context()
        return await loop.run_in_executor(self.pool, functools.partial(context.run, work))

    async def cheap_first(self, work: Callable[[], T], /) -> T:
        """``work()`` in the loop if it needs no service call, else in the pool."""
        token = _IN_LOOP.set(True)
        try:
            return work()
        except WouldBlock:
            pass
        finally:
            _IN_LOOP.reset(token)
        return await self(work)

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
