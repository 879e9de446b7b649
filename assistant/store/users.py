"""Queries on users. Functions take the session keyword-only and never commit: the caller owns the transaction."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from assistant.store.models import Role, User

__all__ = ["add_user", "count_users", "get_user_by_username"]


async def get_user_by_username(*, session: AsyncSession, username: str) -> User | None:
    """The user with this login name, if any."""
    result = await session.execute(select(User).where(User.username == username))
    return result.scalar_one_or_none()


async def count_users(*, session: AsyncSession, role: Role | None = None) -> int:
    """How many accounts exist (with ``role``, when given)."""
    query = select(func.count()).select_from(User)
    if role is not None:
        query = query.where(User.role == role)
    return int((await session.execute(query)).scalar_one())


async def add_user(
    *,
    session: AsyncSession,
    username: str,
    role: Role,
    password_hash: str | None = None,
    display_name: str = "",
    email: str | None = None,
) -> User:
    """Stage a new user in the session and flush it so that its id is known."""
    user = User(username=username, role=role, password_hash=password_hash, display_name=display_name, email=email)
    session.add(user)
    await session.flush()
    return user
