"""Queries on shared conversations. Session keyword-only, never committing."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from assistant.store.models import ConversationShare, Group, ShareGroup, ShareMode, ShareUser, User

__all__ = [
    "add_share",
    "delete_owned_shares",
    "get_share",
    "list_owned_shares",
    "list_received_shares",
    "recipients_of",
    "remove_user_recipient",
    "share_is_for",
]


async def add_share(
    *,
    session: AsyncSession,
    conversation_id: uuid.UUID,
    owner_id: uuid.UUID,
    mode: ShareMode,
    title: str,
    model_id: str,
    messages: list[dict[str, Any]],
    user_ids: Iterable[uuid.UUID],
    group_ids: Iterable[uuid.UUID],
) -> ConversationShare:
    """Stage a share with its recipients."""
    share = ConversationShare(
        conversation_id=conversation_id,
        owner_id=owner_id,
        mode=mode,
        title=title,
        model_id=model_id,
        messages=messages,
    )
    session.add(share)
    await session.flush()
    session.add_all(ShareUser(share_id=share.id, user_id=user_id) for user_id in set(user_ids))
    session.add_all(ShareGroup(share_id=share.id, group_id=group_id) for group_id in set(group_ids))
    await session.flush()
    return share


async def get_share(*, session: AsyncSession, share_id: uuid.UUID) -> ConversationShare | None:
    """The share with this id, whoever may see it (the service checks)."""
    return await session.get(ConversationShare, share_id)


async def recipients_of(
    *, session: AsyncSession, share_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, tuple[list[str], list[str]]]:
    """For each share, the usernames and the group names it is shared with, each by name."""
    ids = list(share_ids)
    found: dict[uuid.UUID, tuple[list[str], list[str]]] = {share_id: ([], []) for share_id in ids}
    if not ids:
        return found
    users = await session.execute(
        select(ShareUser.share_id, User.username)
        .join(User, User.id == ShareUser.user_id)
        .where(ShareUser.share_id.in_(ids))
        .order_by(User.username)
    )
    for share_id, username in users.all():
        found[share_id][0].append(username)
    groups = await session.execute(
        select(ShareGroup.share_id, Group.name)
        .join(Group, Group.id == ShareGroup.group_id)
        .where(ShareGroup.share_id.in_(ids))
        .order_by(Group.name)
    )
    for share_id, name in groups.all():
        found[share_id][1].append(name)
    return found


def _for_recipient(user_id: uuid.UUID, group_names: Iterable[str]) -> Any:
    by_user = select(ShareUser.share_id).where(ShareUser.user_id == user_id)
    by_group = (
        select(ShareGroup.share_id)
        .join(Group, Group.id == ShareGroup.group_id)
        .where(Group.name.in_(list(group_names)))
    )
    return or_(ConversationShare.id.in_(by_user), ConversationShare.id.in_(by_group))


async def share_is_for(
    *, session: AsyncSession, share_id: uuid.UUID, user_id: uuid.UUID, group_names: Iterable[str]
) -> bool:
    """True when the share names the user, or one of the groups they belong to (revocation is not checked)."""
    found = await session.scalar(
        select(ConversationShare.id).where(ConversationShare.id == share_id, _for_recipient(user_id, group_names))
    )
    return found is not None


async def list_owned_shares(
    *, session: AsyncSession, owner_id: uuid.UUID, conversation_id: uuid.UUID | None = None
) -> list[ConversationShare]:
    """The owner's shares (of one conversation when given), newest first, revoked ones included."""
    query = select(ConversationShare).where(ConversationShare.owner_id == owner_id)
    if conversation_id is not None:
        query = query.where(ConversationShare.conversation_id == conversation_id)
    rows = await session.scalars(query.order_by(ConversationShare.created_at.desc(), ConversationShare.id))
    return list(rows)


async def list_received_shares(
    *, session: AsyncSession, user_id: uuid.UUID, group_names: Iterable[str]
) -> list[ConversationShare]:
    """Shares in force that name the user or one of their groups (never the user's own), newest first."""
    rows = await session.scalars(
        select(ConversationShare)
        .where(
            ConversationShare.revoked_at.is_(None),
            ConversationShare.owner_id != user_id,
            _for_recipient(user_id, group_names),
        )
        .order_by(ConversationShare.created_at.desc(), ConversationShare.id)
    )
    return list(rows)


async def delete_owned_shares(*, session: AsyncSession, owner_id: uuid.UUID) -> int:
    """Delete every share a user gave, with its frozen messages and recipients (explicitly: SQLite connections may
    lack cascades); returns how many."""
    ids = list(await session.scalars(select(ConversationShare.id).where(ConversationShare.owner_id == owner_id)))
    if ids:
        await session.execute(delete(ShareUser).where(ShareUser.share_id.in_(ids)))
        await session.execute(delete(ShareGroup).where(ShareGroup.share_id.in_(ids)))
        await session.execute(delete(ConversationShare).where(ConversationShare.id.in_(ids)))
    return len(ids)


async def remove_user_recipient(*, session: AsyncSession, user_id: uuid.UUID) -> None:
    """Take a user off every share that names them (erasure: their account stays, the references go)."""
    await session.execute(delete(ShareUser).where(ShareUser.user_id == user_id))
