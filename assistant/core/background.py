"""Bookkeeping writes taken off the response path: queued, run by a few tasks, retried, drained at shutdown.

A streamed answer used to end only once its usage record and its quota count were written; under load that
wait showed in every client's stream. The stream now ends first and :class:`BackgroundWrites` does the writing:

- ``await submit(name, write)`` queues a coroutine function, run once by one of ``concurrency`` tasks (so a burst
  of answers never takes more than that many database connections for bookkeeping);
- a write that raises is retried ``attempts`` times with exponential backoff; one that still fails is logged
  at ERROR with its name, as a lost usage record always was;
- with ``max_pending`` writes already waiting, ``submit`` runs the write itself: back-pressure, never a drop;
- ``drain()`` waits for everything queued so far; ``aclose()`` (lifespan shutdown) drains, then stops the tasks.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Awaitable, Callable

__all__ = ["BackgroundWrites", "Write"]

logger = logging.getLogger(__name__)

Write = Callable[[], Awaitable[object]]


class BackgroundWrites:
    """The process's queue of deferred writes (one per :class:`~assistant.runtime.Runtime`).

    >>> await runtime.background.submit("usage record", partial(write_usage, runtime, ...))
    """

    def __init__(
        self,
        *,
        concurrency: int = 4,
        attempts: int = 5,
        backoff_seconds: float = 0.1,
        max_pending: int = 10_000,
    ) -> None:
        self._concurrency = concurrency
        self._attempts = attempts
        self._backoff = backoff_seconds
        self._max_pending = max_pending
        # Created on first use, so that the queue and its tasks belong to the loop that serves the requests.
        self._queue: asyncio.Queue[tuple[str, Write]] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._closed = False

    @property
    def pending(self) -> int:
        """Writes queued and not finished yet."""
        return self._queue.qsize() if self._queue is not None else 0

    async def submit(self, name: str, write: Write) -> None:
        """Queue ``write`` (or run it now when the queue is full or closed)."""
        if self._closed:
            await self._run(name, write)
            return
        queue = self._started()
        if queue.qsize() >= self._max_pending:
            logger.warning("background writes: %d pending, writing %s inline", queue.qsize(), name)
            await self._run(name, write)
            return
        queue.put_nowait((name, write))

    async def drain(self) -> None:
        """Wait until every write queued so far is done (or given up)."""
        if self._queue is not None:
            await self._queue.join()

    async def aclose(self) -> None:
        """Write everything still queued, then stop; later submissions run inline."""
        self._closed = True
        await self.drain()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    def _started(self) -> asyncio.Queue[tuple[str, Write]]:
        if self._queue is None:
            self._queue = asyncio.Queue()
            for number in range(self._concurrency):
                # A fresh context: the workers must not carry the request id of the request that started them.
                task = asyncio.get_running_loop().create_task(
                    self._work(self._queue), name=f"background-writes-{number}", context=contextvars.Context()
                )
                self._tasks.append(task)
        return self._queue

    async def _work(self, queue: asyncio.Queue[tuple[str, Write]]) -> None:
        while True:
            name, write = await queue.get()
            try:
                await self._run(name, write)
            finally:
                queue.task_done()

    async def _run(self, name: str, write: Write) -> None:
        for attempt in range(1, self._attempts + 1):
            try:
                await write()
                return
            except Exception as exc:  # whatever the store raised: retry, and never let a worker die
                if attempt == self._attempts:
                    logger.error("background write %s lost after %d attempts: %s", name, attempt, exc)
                    return
                logger.warning("background write %s failed (attempt %d), retrying: %s", name, attempt, exc)
                await asyncio.sleep(self._backoff * 2 ** (attempt - 1))
