"""API-key principals remembered a few seconds per process, so that the gateway's hot path skips the database.

Checking a key costs a transaction (key row, owner, groups) on every request; under load that was the largest
part of the gateway's overhead. Entries are keyed by the SHA-256 of the presented key (the value the database
stores, never the key itself) and live ``ttl_seconds``.

What this trades, on purpose and documented in the setting ``api_key_cache_seconds``: a change made in
*another* process (a key revoked, an account disabled, a role or a group changed on another replica) applies
there within ``ttl_seconds``. In the process that made the change it applies at once: the services that make
such changes call :meth:`PrincipalCache.forget_key` or :meth:`PrincipalCache.forget_user`.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from cachetools import TTLCache

from assistant.security._principal import Principal

__all__ = ["CachedKey", "PrincipalCache"]


@dataclass(frozen=True, slots=True)
class CachedKey:
    """A key already checked against the database: who it acts for, until when, and when its use was last logged."""

    principal: Principal
    expires_at: datetime | None
    logged_at: datetime | None


class PrincipalCache:
    """A bounded TTL map from key hash to :class:`CachedKey`; ``ttl_seconds=0`` turns it off.

    >>> generation = cache.generation
    >>> entry = cache.get(key_hash) or check_in_database(...)
    >>> cache.put(key_hash, entry, generation=generation)  # dropped if a revocation happened meanwhile
    """

    def __init__(
        self, *, ttl_seconds: float, maxsize: int = 10_000, timer: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl_seconds = ttl_seconds
        self._entries: TTLCache[str, CachedKey] | None = (
            TTLCache(maxsize=maxsize, ttl=ttl_seconds, timer=timer) if ttl_seconds > 0 else None
        )
        # Bumped by every invalidation: an entry read from the database before a revocation must not be put back.
        self.generation = 0

    def get(self, key_hash: str) -> CachedKey | None:
        """The live entry for this key hash, if any."""
        return self._entries.get(key_hash) if self._entries is not None else None

    def put(self, key_hash: str, entry: CachedKey, *, generation: int) -> None:
        """Remember ``entry`` unless something was invalidated since ``generation`` was read."""
        if self._entries is not None and generation == self.generation:
            self._entries[key_hash] = entry

    def forget_key(self, key_id: uuid.UUID) -> None:
        """Drop the entry of one key (revoked)."""
        self._forget(lambda principal: principal.api_key_id == key_id)

    def forget_user(self, user_id: uuid.UUID) -> None:
        """Drop the entries of every key of one account (disabled, role or groups changed)."""
        self._forget(lambda principal: principal.user_id == user_id)

    def _forget(self, matches: Callable[[Principal], bool]) -> None:
        self.generation += 1
        if self._entries is None:
            return
        # Invalidations are rare (an administrator's action); a scan of at most maxsize entries is fine.
        for key_hash in [key for key, entry in list(self._entries.items()) if matches(entry.principal)]:
            self._entries.pop(key_hash, None)
