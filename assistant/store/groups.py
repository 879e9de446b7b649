"""Queries on groups and memberships. Functions take the session keyword-only and never commit."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from assistant.store.models import Group, GroupMember, User

__all__ = [
    "add_group",
    "add_member",
    "get_group",
    "get_group_by_name",
    "group_names_of",
    "list_groups",
    "list_members",
    "remove_member",
    "set_memberships",
]


async def add_group(*, session: AsyncSession, name: str, description: str = "") -> Group:
    """Stage a new group and flush it."""
    group = Group(name=name, description=description)
    session.add(group)
    await session.flush()
    return group


async def get_group(*, session: AsyncSession, group_id: uuid.UUID) -> Group | None:
    """The group with this id, if any."""
    return await session.get(Group, group_id)


async def get_group_by_name(*, session: AsyncSession, name: str) -> Group | None:
    """The group with this name, if any."""
    return (await session.execute(select(Group).where(Group.name == name))).scalar_one_or_none()


async def list_groups(*, session: AsyncSession) -> list[Group]:
    """Every group, by name."""
    return list((await session.execute(select(Group).order_by(Group.name))).scalars())


async def list_members(*, session: AsyncSession, group_id: uuid.UUID) -> list[User]:
    """Users of a group, by username."""
    query = (
        select(User).join(GroupMember, GroupMember.user_id == User.id).where(GroupMember.group_id == group_id)
    ).order_by(User.username)
    return list((await session.execute(query)).scalars())


async def add_member(*, session: AsyncSession, group_id: uuid.UUID, user_id: uuid.UUID) -> bool:
    """Add a user to a group; False when already a member."""
    if await session.get(GroupMember, (group_id, user_id)) is not None:
        return False
    session.add(GroupMember(group_id=group_id, user_id=user_id))
    await session.flush()
    return True


async def remove_member(*, session: AsyncSession, group_id: uuid.UUID, user_id: uuid.UUID) -> bool:
    """Remove a user from a group; False when not a member."""
    member = await session.get(GroupMember, (group_id, user_id))
    if member is None:
        return False
    await session.delete(member)
    await session.flush()
    return True


async def group_names_of(*, session: AsyncSession, user_id: uuid.UUID) -> list[str]:
    """Names of the groups a user belongs to."""
    query = (
        select(Group.name).join(GroupMember, GroupMember.group_id == Group.id).where(GroupMember.user_id == user_id)
    ).order_by(Group.name)
    return list((await session.execute(query)).scalars())


async def set_memberships(*, session: AsyncSession, user_id: uuid.UUID, group_ids: Iterable[uuid.UUID]) -> None:
    """Make ``group_ids`` exactly the user's groups (synchronisation from the identity provider)."""
    wanted = set(group_ids)
    current = set((await session.execute(select(GroupMember.group_id).where(GroupMember.user_id == user_id))).scalars())
    stale = current - wanted
    if stale:
        await session.execute(
            delete(GroupMember).where(GroupMember.user_id == user_id, GroupMember.group_id.in_(stale))
        )
    for group_id in wanted - current:
        session.add(GroupMember(group_id=group_id, user_id=user_id))
    await session.flush()
