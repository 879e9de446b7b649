"""Fixed-window counters behind quotas, rate limits and login lockouts: in the database or in Redis.

The database backend needs nothing more than the embedded install; Redis is for several replicas under load.
Both count in windows aligned on the epoch (``key:window_number``), so a window ends at the same instant
everywhere and ``reset_in`` is exact for ``Retry-After``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from redis import asyncio as aioredis
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from assistant.errors import ServiceUnavailableError, StoreError
from assistant.store import counters as counter_store

__all__ = ["CounterBackend", "DatabaseCounters", "RedisCounters", "Window"]

logger = logging.getLogger(__name__)

_PURGE_INTERVAL_SECONDS = 300.0
# Expiry of a counter written before its window was known (never: hit reads it first); a day, the longest window.
_DEFAULT_TTL_SECONDS = 86_400.0


@dataclass(frozen=True)
class Window:
    """A counter's value in the current window, and the whole seconds until that window ends."""

    count: int
    reset_in: int


def _window(window_seconds: int, now: float) -> tuple[int, int]:
    number = int(now // window_seconds)
    reset_in = max(1, math.ceil((number + 1) * window_seconds - now))
    return number, reset_in


class CounterBackend(ABC):
    """Where counters live. Implementations are safe to share between concurrent requests.

    >>> window = await counters.hit("rpm:user:42", window_seconds=60)
    >>> if window.count > limit: raise RateLimitedError(..., retry_after=window.reset_in)
    """

    def __init__(self) -> None:
        self._now: Callable[[], float] = time.time

    async def hit(self, key: str, *, window_seconds: int, amount: int = 1) -> Window:
        """Add ``amount`` to ``key`` in the current window and return the new value."""
        number, reset_in = _window(window_seconds, self._now())
        count = await self._add(f"{key}:{number}", amount, reset_in)
        return Window(count=count, reset_in=reset_in)

    async def peek(self, key: str, *, window_seconds: int) -> Window:
        """The value of ``key`` in the current window, unchanged."""
        number, reset_in = _window(window_seconds, self._now())
        return Window(count=await self._read(f"{key}:{number}"), reset_in=reset_in)

    async def reset(self, key: str, *, window_seconds: int) -> None:
        """Forget ``key`` in the current window."""
        number, _ = _window(window_seconds, self._now())
        await self._delete(f"{key}:{number}")

    async def aclose(self) -> None:  # noqa: B027 — optional hook, most backends hold nothing
        """Release connections."""

    @abstractmethod
    async def _add(self, key: str, amount: int, ttl_seconds: int) -> int: ...

    @abstractmethod
    async def _read(self, key: str) -> int: ...

    @abstractmethod
    async def _delete(self, key: str) -> None: ...


class DatabaseCounters(CounterBackend):
    """Counters as rows of ``usage_counters``, written behind: a hit is counted in the process at once and the
    increments of every key are added to the database together, ``flush_seconds`` later, in one transaction.

    A write per request would put the database's write lock on every request's path: on SQLite, concurrent
    writers wait for each other in the busy handler's sleeps (tens of milliseconds at 16 concurrent streams).
    Counting in the process keeps the limits exact within a process; the database total (every process's
    increments, read back by each flush) reaches the others within ``flush_seconds``. A process killed outright
    loses at most that much counting; a clean stop flushes (:meth:`aclose`).
    """

    def __init__(self, session_factory: async_sessionmaker[AsyncSession], *, flush_seconds: float = 0.2) -> None:
        super().__init__()
        self._sessions = session_factory
        self._flush_seconds = flush_seconds
        self._last_purge = 0.0
        # key -> (the database's total when last read or written, when the window ends as a Unix time)
        self._known: dict[str, tuple[int, float]] = {}
        self._pending: dict[str, int] = {}  # key -> increments not yet in the database
        self._flusher: asyncio.Task[None] | None = None
        # Held by a flush and by a reset, so that an increment in flight never revives a counter just reset.
        self._writing = asyncio.Lock()

    async def hit(self, key: str, *, window_seconds: int, amount: int = 1) -> Window:
        number, reset_in = _window(window_seconds, self._now())
        full = f"{key}:{number}"
        if full not in self._known:
            total = await self._read(full)
            self._known.setdefault(full, (total, self._now() + reset_in))  # a concurrent flush may have set it
        self._pending[full] = self._pending.get(full, 0) + amount
        self._schedule_flush()
        return Window(count=self._known[full][0] + self._pending[full], reset_in=reset_in)

    async def peek(self, key: str, *, window_seconds: int) -> Window:
        number, reset_in = _window(window_seconds, self._now())
        full = f"{key}:{number}"
        known = self._known.get(full)
        total = known[0] if known is not None else await self._read(full)
        return Window(count=total + self._pending.get(full, 0), reset_in=reset_in)

    async def reset(self, key: str, *, window_seconds: int) -> None:
        number, _ = _window(window_seconds, self._now())
        full = f"{key}:{number}"
        async with self._writing:
            self._pending.pop(full, None)
            self._known.pop(full, None)
            await self._delete(full)

    async def flush(self) -> None:
        """Write the increments counted so far (they stay pending, to be retried, if the database fails)."""
        async with self._writing:
            batch = {key: amount for key, amount in self._pending.items() if amount}
            if batch:
                await self._write(batch)
            self._forget_ended()

    async def aclose(self) -> None:
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
            self._flusher = None
        try:
            await self.flush()
        except StoreError:
            logger.error("rate-limit and quota counts of the last %.1f s not saved", self._flush_seconds)

    def _schedule_flush(self) -> None:
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.get_running_loop().create_task(self._flush_soon())

    async def _flush_soon(self) -> None:
        await asyncio.sleep(self._flush_seconds)
        try:
            await self.flush()
        except StoreError:
            logger.warning("rate-limit and quota counters not saved (database): retried in %.1f s", self._flush_seconds)
        if any(self._pending.values()):
            # Hits counted during the write, or a failed write: another flush follows (a new task, since this
            # one is still the scheduled one until it returns).
            asyncio.get_running_loop().call_soon(self._schedule_flush)

    async def _write(self, batch: dict[str, int]) -> None:
        now = datetime.now(UTC)
        totals: dict[str, int] = {}
        try:
            async with self._sessions.begin() as session:
                for key, amount in batch.items():
                    ends = self._known.get(key, (0, self._now() + _DEFAULT_TTL_SECONDS))[1]
                    expires_at = now + timedelta(seconds=max(1.0, ends - self._now()))
                    totals[key] = await counter_store.add_to_counter(
                        session=session, key=key, amount=amount, expires_at=expires_at
                    )
                if time.monotonic() - self._last_purge > _PURGE_INTERVAL_SECONDS:
                    self._last_purge = time.monotonic()
                    await counter_store.purge_expired_counters(session=session, now=now)
        except SQLAlchemyError as exc:
            raise StoreError("Compteurs de quotas indisponibles (base de données).") from exc
        for key, amount in batch.items():
            left = self._pending.get(key, 0) - amount
            if left:
                self._pending[key] = left
            else:
                self._pending.pop(key, None)
            ends = self._known.get(key, (0, self._now() + _DEFAULT_TTL_SECONDS))[1]
            self._known[key] = (totals[key], ends)

    def _forget_ended(self) -> None:
        now = self._now()
        for key in [key for key, (_, ends) in self._known.items() if ends < now and not self._pending.get(key)]:
            del self._known[key]

    async def _add(self, key: str, amount: int, ttl_seconds: int) -> int:
        now = datetime.now(UTC)
        try:
            async with self._sessions.begin() as session:
                return await counter_store.add_to_counter(
                    session=session, key=key, amount=amount, expires_at=now + timedelta(seconds=ttl_seconds)
                )
        except SQLAlchemyError as exc:
            raise StoreError("Compteurs de quotas indisponibles (base de données).") from exc

    async def _read(self, key: str) -> int:
        try:
            async with self._sessions() as session:
                return await counter_store.read_counter(session=session, key=key)
        except SQLAlchemyError as exc:
            raise StoreError("Compteurs de quotas indisponibles (base de données).") from exc

    async def _delete(self, key: str) -> None:
        try:
            async with self._sessions.begin() as session:
                await counter_store.delete_counter(session=session, key=key)
        except SQLAlchemyError as exc:
            raise StoreError("Compteurs de quotas indisponibles (base de données).") from exc


class RedisCounters(CounterBackend):
    """Counters as Redis keys that expire with their window (shared by every replica)."""

    def __init__(self, url: str, *, prefix: str = "souverain:rl:", timeout_seconds: float = 2.0) -> None:
        super().__init__()
        self._redis = aioredis.Redis.from_url(
            url, socket_timeout=timeout_seconds, socket_connect_timeout=timeout_seconds
        )
        self._prefix = prefix

    async def _add(self, key: str, amount: int, ttl_seconds: int) -> int:
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.incrby(self._prefix + key, amount)
                pipe.expire(self._prefix + key, ttl_seconds + 1)
                count, _ = await pipe.execute()
        except RedisError as exc:
            raise ServiceUnavailableError("Compteurs de quotas indisponibles (Redis ne répond pas).") from exc
        return int(count)

    async def _read(self, key: str) -> int:
        try:
            value = await self._redis.get(self._prefix + key)
        except RedisError as exc:
            raise ServiceUnavailableError("Compteurs de quotas indisponibles (Redis ne répond pas).") from exc
        return int(value or 0)

    async def _delete(self, key: str) -> None:
        try:
            await self._redis.delete(self._prefix + key)
        except RedisError as exc:
            raise ServiceUnavailableError("Compteurs de quotas indisponibles (Redis ne répond pas).") from exc

    async def aclose(self) -> None:
        await self._redis.aclose()
