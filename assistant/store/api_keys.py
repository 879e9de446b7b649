"""Queries on API keys. Functions take the session keyword-only and never commit."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from assistant.store.models import ApiKey

__all__ = ["add_api_key", "get_api_key", "get_api_key_by_prefix", "list_api_keys", "touch_api_key"]


async def add_api_key(*, session: AsyncSession, key: ApiKey) -> ApiKey:
    """Stage a new key and flush it."""
    session.add(key)
    await session.flush()
    return key


async def get_api_key(*, session: AsyncSession, key_id: uuid.UUID) -> ApiKey | None:
    """The key with this id, if any."""
    return await session.get(ApiKey, key_id)


async def get_api_key_by_prefix(*, session: AsyncSession, prefix: str) -> ApiKey | None:
    """The key whose clear-text prefix is ``prefix``."""
    return (await session.execute(select(ApiKey).where(ApiKey.prefix == prefix))).scalar_one_or_none()


async def list_api_keys(
    *, session: AsyncSession, user_id: uuid.UUID | None = None, include_revoked: bool = True
) -> list[ApiKey]:
    """Keys, newest first; only ``user_id``'s when given."""
    query = select(ApiKey).order_by(ApiKey.created_at.desc(), ApiKey.id)
    if user_id is not None:
        query = query.where(ApiKey.user_id == user_id)
    if not include_revoked:
        query = query.where(ApiKey.revoked_at.is_(None))
    return list((await session.execute(query)).scalars())


async def touch_api_key(*, session: AsyncSession, key_id: uuid.UUID, used_at: datetime) -> None:
    """Record the key's last use."""
    await session.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=used_at))
