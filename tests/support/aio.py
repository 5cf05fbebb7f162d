"""Asynchronous iterators (the partner server's streams) driven from plain test code, each on an event loop of
its own thread, as the grpc.aio server runs them."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterable, Iterator
from typing import Any


class _Loop:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()


def driven(source: AsyncIterable[Any], timeout: float = 10.0) -> Iterator[Any]:
    """A plain iterator over ``source``: each ``next`` awaits its next item in the source's loop."""
    loop = _Loop().loop
    iterator = source.__aiter__()
    while True:
        future = asyncio.run_coroutine_threadsafe(iterator.__anext__(), loop)  # type: ignore[arg-type]
        try:
            yield future.result(timeout)
        except StopAsyncIteration:
            return


def collect(source: AsyncIterable[Any], timeout: float = 10.0) -> list[Any]:
    return list(driven(source, timeout))


class Consumer:
    """Reads ``source`` to its end in a task; ``cancel()`` plays a client that hangs up (grpc.aio cancels the
    handler's task), ``error`` is what ended it (None: it ran out, or was cancelled)."""

    def __init__(self, source: AsyncIterable[Any], expected: tuple[type[BaseException], ...] = (Exception,)) -> None:
        self.items: list[Any] = []
        self.error: BaseException | None = None
        self._expected = expected
        self._loop = _Loop()
        self._task: asyncio.Task[None] | None = None
        self._started = threading.Event()
        self._loop.loop.call_soon_threadsafe(self._begin, source)
        self._started.wait(5.0)

    def _begin(self, source: AsyncIterable[Any]) -> None:
        self._task = self._loop.loop.create_task(self._read(source))
        self._started.set()

    async def _read(self, source: AsyncIterable[Any]) -> None:
        try:
            async for item in source:
                self.items.append(item)
        except asyncio.CancelledError:
            pass
        except self._expected as exc:
            self.error = exc

    def cancel(self) -> None:
        task = self._task
        if task is not None:
            self._loop.loop.call_soon_threadsafe(task.cancel)

    @property
    def alive(self) -> bool:
        return self._task is not None and not self._task.done()

    def join(self, timeout: float = 5.0) -> bool:
        """Whether it ended within ``timeout``."""
        task = self._task
        if task is None:
            return True
        done = threading.Event()
        self._loop.loop.call_soon_threadsafe(lambda: task.add_done_callback(lambda _t: done.set()))
        return done.wait(timeout)
