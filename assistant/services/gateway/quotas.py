"""Quotas and rate limits per user and per API key: requests per minute, tokens per day, concurrent jobs.

Counters live in the configured :class:`~assistant.security.CounterBackend` (database or Redis). The chat layer
calls :func:`ensure_tokens_available` before generating and :func:`record_tokens` after; job submitters call
:func:`ensure_job_slot`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from assistant.errors import RateLimitedError
from assistant.runtime import Runtime
from assistant.security import Principal, Window
from assistant.store import users as user_store

__all__ = [
    "EffectiveQuota",
    "enforce_request_rate",
    "ensure_job_slot",
    "ensure_tokens_available",
    "get_quota",
    "record_tokens",
    "tokens_used_today",
]

_MINUTE = 60
_DAY = 86_400
_JOB_RETRY_SECONDS = 30


@dataclass(frozen=True)
class EffectiveQuota:
    """A user's limits (overrides or defaults) and which of them are overridden."""

    requests_per_minute: int
    tokens_per_day: int
    concurrent_jobs: int
    overridden: frozenset[str]


async def get_quota(runtime: Runtime, user_id: uuid.UUID, *, fresh: bool = False) -> EffectiveQuota:
    """The limits that apply to ``user_id``.

    Read on every API call, so kept a few seconds in the process: a référent's change
    applies at once on the replica that made it and within that delay on the others.
    """
    cached = None if fresh else runtime.quota_cache.get(user_id)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    settings = runtime.settings
    async with runtime.session_factory() as session:
        row = await user_store.get_quota(session=session, user_id=user_id)
    values = {
        "requests_per_minute": settings.default_requests_per_minute,
        "tokens_per_day": settings.default_tokens_per_day,
        "concurrent_jobs": settings.default_concurrent_jobs,
    }
    overridden = set()
    for name in values:
        value = getattr(row, name) if row is not None else None
        if value is not None:
            values[name] = value
            overridden.add(name)
    quota = EffectiveQuota(**values, overridden=frozenset(overridden))
    runtime.quota_cache[user_id] = quota
    return quota


async def enforce_request_rate(runtime: Runtime, principal: Principal) -> None:
    """Count one request for the user (and the key); 429 once a limit per minute is passed."""
    quota = await get_quota(runtime, principal.user_id)
    window = await runtime.counters.hit(f"rpm:user:{principal.user_id}", window_seconds=_MINUTE)
    _check(window, quota.requests_per_minute, "requêtes par minute pour votre compte")
    if principal.api_key_id is not None and principal.api_key_requests_per_minute is not None:
        window = await runtime.counters.hit(f"rpm:key:{principal.api_key_id}", window_seconds=_MINUTE)
        _check(window, principal.api_key_requests_per_minute, "requêtes par minute pour cette clé d'API")


def _check(window: Window, limit: int, what: str) -> None:
    if window.count > limit:
        raise RateLimitedError(
            f"Limite atteinte : {limit} {what}. Réessayez dans {window.reset_in} s.",
            retry_after=window.reset_in,
            code="rate_limited",
        )


async def tokens_used_today(runtime: Runtime, user_id: uuid.UUID) -> Window:
    """Tokens counted for ``user_id`` in the current UTC day."""
    return await runtime.counters.peek(f"tokens:user:{user_id}", window_seconds=_DAY)


async def ensure_tokens_available(runtime: Runtime, principal: Principal) -> int:
    """Tokens left today; 429 (until midnight UTC) when the daily quota is used up."""
    quota = await get_quota(runtime, principal.user_id)
    used = await tokens_used_today(runtime, principal.user_id)
    if used.count >= quota.tokens_per_day:
        raise RateLimitedError(
            f"Quota quotidien de {quota.tokens_per_day} jetons atteint : il se renouvelle à minuit (UTC).",
            retry_after=used.reset_in,
            code="token_quota_exceeded",
        )
    return quota.tokens_per_day - used.count


async def record_tokens(runtime: Runtime, principal: Principal, tokens: int) -> Window:
    """Add ``tokens`` (prompt + completion) to the user's daily count, and to the key's when one was used."""
    if tokens <= 0:
        return await tokens_used_today(runtime, principal.user_id)
    if principal.api_key_id is not None:
        await runtime.counters.hit(f"tokens:key:{principal.api_key_id}", window_seconds=_DAY, amount=tokens)
    return await runtime.counters.hit(f"tokens:user:{principal.user_id}", window_seconds=_DAY, amount=tokens)


async def ensure_job_slot(runtime: Runtime, user_id: uuid.UUID) -> None:
    """429 when the user already has as many queued or running jobs as allowed."""
    quota = await get_quota(runtime, user_id)
    async with runtime.session_factory() as session:
        active = await user_store.count_active_jobs(session=session, user_id=user_id)
    if active >= quota.concurrent_jobs:
        raise RateLimitedError(
            f"Déjà {active} tâches en cours (maximum {quota.concurrent_jobs}) : attendez qu'une se termine.",
            retry_after=_JOB_RETRY_SECONDS,
            code="too_many_jobs",
        )
