"""Fixed-window counters behind quotas, rate limits and login lockouts: in the database or in Redis.

The database backend needs nothing more than the embedded install; Redis is for several replicas under load.
Both count in windows aligned on the epoch (``key:window_number``), so a window ends at the same instant
everywhere and ``reset_in`` is exact for ``Retry-After``.
"""

from __future__ import annotations

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
    """Counters as rows of ``usage_counters``, one short transaction per operation."""

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        super().__init__()
        self._sessions = session_factory
        self._last_purge = 0.0

    async def _add(self, key: str, amount: int, ttl_seconds: int) -> int:
        now = datetime.now(UTC)
        try:
            async with self._sessions.begin() as session:
                count = await counter_store.add_to_counter(
                    session=session, key=key, amount=amount, expires_at=now + timedelta(seconds=ttl_seconds)
                )
                if time.monotonic() - self._last_purge > _PURGE_INTERVAL_SECONDS:
                    self._last_purge = time.monotonic()
                    await counter_store.purge_expired_counters(session=session, now=now)
        except SQLAlchemyError as exc:
            raise StoreError("Compteurs de quotas indisponibles (base de données).") from exc
        return count

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
