"""Queries on web sessions. Functions take the session keyword-only and never commit."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from assistant.store.models import WebSession

__all__ = ["add_web_session", "delete_user_sessions", "delete_web_session", "get_web_session_by_hash"]


async def add_web_session(*, session: AsyncSession, web_session: WebSession) -> WebSession:
    """Stage a new web session and flush it."""
    session.add(web_session)
    await session.flush()
    return web_session


async def get_web_session_by_hash(*, session: AsyncSession, token_hash: str, now: datetime) -> WebSession | None:
    """The unexpired web session whose token hashes to ``token_hash``."""
    query = select(WebSession).where(WebSession.token_hash == token_hash, WebSession.expires_at > now)
    return (await session.execute(query)).scalar_one_or_none()


async def delete_web_session(*, session: AsyncSession, session_id: uuid.UUID) -> None:
    """End one web session."""
    await session.execute(delete(WebSession).where(WebSession.id == session_id))


async def delete_user_sessions(*, session: AsyncSession, user_id: uuid.UUID) -> None:
    """End every web session of a user (disabled account, role change)."""
    await session.execute(delete(WebSession).where(WebSession.user_id == user_id))
