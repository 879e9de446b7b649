"""Queries on users. Functions take the session keyword-only and never commit: the caller owns the transaction."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from assistant.store.models import Job, JobStatus, Role, User, UserIdentity, UserQuota

__all__ = [
    "add_identity",
    "add_user",
    "count_active_jobs",
    "count_users",
    "get_identity",
    "get_quota",
    "get_user",
    "get_user_by_username",
    "list_users",
    "put_quota",
    "usernames_by_id",
]


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


async def get_user(*, session: AsyncSession, user_id: uuid.UUID) -> User | None:
    """The user with this id, if any."""
    return await session.get(User, user_id)


async def usernames_by_id(*, session: AsyncSession, user_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Login names of the given users (ids that match no account are absent)."""
    rows = await session.execute(select(User.id, User.username).where(User.id.in_(list(user_ids))))
    return {user_id: username for user_id, username in rows}


async def list_users(*, session: AsyncSession, role: Role | None = None, active: bool | None = None) -> list[User]:
    """Users by username, optionally filtered."""
    query = select(User).order_by(User.username)
    if role is not None:
        query = query.where(User.role == role)
    if active is not None:
        query = query.where(User.is_active.is_(active))
    return list((await session.execute(query)).scalars())


async def get_identity(*, session: AsyncSession, issuer: str, subject: str) -> UserIdentity | None:
    """The link between a provider's subject and an account, if any."""
    query = select(UserIdentity).where(UserIdentity.issuer == issuer, UserIdentity.subject == subject)
    return (await session.execute(query)).scalar_one_or_none()


async def add_identity(*, session: AsyncSession, user_id: uuid.UUID, issuer: str, subject: str) -> UserIdentity:
    """Link an account to a provider's subject."""
    identity = UserIdentity(user_id=user_id, issuer=issuer, subject=subject)
    session.add(identity)
    await session.flush()
    return identity


async def get_quota(*, session: AsyncSession, user_id: uuid.UUID) -> UserQuota | None:
    """A user's quota overrides, if any."""
    return await session.get(UserQuota, user_id)


async def put_quota(
    *,
    session: AsyncSession,
    user_id: uuid.UUID,
    requests_per_minute: int | None,
    tokens_per_day: int | None,
    concurrent_jobs: int | None,
) -> UserQuota:
    """Create or replace a user's quota overrides."""
    quota = await session.get(UserQuota, user_id)
    if quota is None:
        quota = UserQuota(user_id=user_id)
        session.add(quota)
    quota.requests_per_minute = requests_per_minute
    quota.tokens_per_day = tokens_per_day
    quota.concurrent_jobs = concurrent_jobs
    await session.flush()
    return quota


async def count_active_jobs(*, session: AsyncSession, user_id: uuid.UUID) -> int:
    """How many of the user's jobs are queued or running (the concurrent-jobs quota)."""
    query = (
        select(func.count())
        .select_from(Job)
        .where(Job.owner_id == user_id, Job.status.in_([JobStatus.QUEUED, JobStatus.RUNNING]))
    )
    return int((await session.execute(query)).scalar_one())
