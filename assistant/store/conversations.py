"""Queries on conversations and their messages. Session keyword-only, never committing."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ColumnElement, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from assistant.store._base import utcnow
from assistant.store.models import (
    Conversation,
    ConversationMessage,
    ConversationShare,
    MessageFeedback,
    MessageRole,
    ShareGroup,
    ShareUser,
)

__all__ = [
    "NO_PROJECT",
    "add_conversation",
    "add_message",
    "delete_conversation",
    "delete_message",
    "first_matches",
    "get_conversation",
    "get_message",
    "list_conversations",
    "list_messages",
    "project_conversation_ids",
    "touch_conversation",
]


async def add_conversation(
    *, session: AsyncSession, owner_id: uuid.UUID, title: str, model_id: str, project_id: uuid.UUID | None = None
) -> Conversation:
    """Stage a new conversation and flush it so that its id is known."""
    conversation = Conversation(owner_id=owner_id, title=title, model_id=model_id, project_id=project_id)
    session.add(conversation)
    await session.flush()
    return conversation


async def get_conversation(*, session: AsyncSession, conversation_id: uuid.UUID) -> Conversation | None:
    """The conversation with this id, whoever owns it (the service checks ownership)."""
    return await session.get(Conversation, conversation_id)


# ``project_id`` filter: a project's id, or this marker for the conversations outside any project.
NO_PROJECT = "none"


async def list_conversations(
    *,
    session: AsyncSession,
    owner_id: uuid.UUID,
    limit: int,
    offset: int = 0,
    project_id: uuid.UUID | str | None = None,
    query: str | None = None,
) -> tuple[list[Conversation], int]:
    """A page of the owner's conversations, most recently active first, and the total count.

    ``project_id`` keeps one project's (or, with :data:`NO_PROJECT`, those outside any project); ``query`` keeps
    those whose title or one of whose messages contains it, case-insensitively.
    """
    conditions: list[ColumnElement[bool]] = [Conversation.owner_id == owner_id]
    if project_id == NO_PROJECT:
        conditions.append(Conversation.project_id.is_(None))
    elif isinstance(project_id, uuid.UUID):
        conditions.append(Conversation.project_id == project_id)
    if query:
        in_messages = select(ConversationMessage.conversation_id).where(
            ConversationMessage.content.icontains(query, autoescape=True)
        )
        conditions.append(or_(Conversation.title.icontains(query, autoescape=True), Conversation.id.in_(in_messages)))
    total = await session.scalar(select(func.count()).select_from(Conversation).where(*conditions))
    rows = await session.scalars(
        select(Conversation)
        .where(*conditions)
        .order_by(Conversation.updated_at.desc(), Conversation.id)
        .limit(limit)
        .offset(offset)
    )
    return list(rows), int(total or 0)


async def first_matches(
    *, session: AsyncSession, conversation_ids: list[uuid.UUID], query: str
) -> dict[uuid.UUID, ConversationMessage]:
    """For each conversation, its first message containing ``query`` (to show where the search matched)."""
    if not conversation_ids:
        return {}
    rows = await session.scalars(
        select(ConversationMessage)
        .where(
            ConversationMessage.conversation_id.in_(conversation_ids),
            ConversationMessage.content.icontains(query, autoescape=True),
        )
        .order_by(ConversationMessage.conversation_id, ConversationMessage.position)
    )
    found: dict[uuid.UUID, ConversationMessage] = {}
    for message in rows:
        found.setdefault(message.conversation_id, message)
    return found


async def project_conversation_ids(*, session: AsyncSession, project_id: uuid.UUID) -> list[uuid.UUID]:
    """Ids of the conversations filed in a project."""
    return list(await session.scalars(select(Conversation.id).where(Conversation.project_id == project_id)))


async def delete_conversation(*, session: AsyncSession, conversation_id: uuid.UUID) -> None:
    """Delete a conversation, its messages, the feedback on them and its shares with their frozen messages
    (explicitly: SQLite does not enforce cascades by default)."""
    shares = select(ConversationShare.id).where(ConversationShare.conversation_id == conversation_id)
    for recipients in (ShareUser, ShareGroup):
        await session.execute(
            delete(recipients).where(recipients.share_id.in_(shares)).execution_options(synchronize_session=False)
        )
    await session.execute(delete(ConversationShare).where(ConversationShare.conversation_id == conversation_id))
    messages = select(ConversationMessage.id).where(ConversationMessage.conversation_id == conversation_id)
    await session.execute(
        delete(MessageFeedback)
        .where(MessageFeedback.message_id.in_(messages))
        .execution_options(synchronize_session=False)
    )
    await session.execute(delete(ConversationMessage).where(ConversationMessage.conversation_id == conversation_id))
    await session.execute(delete(Conversation).where(Conversation.id == conversation_id))


async def touch_conversation(*, session: AsyncSession, conversation: Conversation, **changes: Any) -> None:
    """Apply ``changes`` and mark the conversation as active now (it moves to the top of the list)."""
    for name, value in changes.items():
        setattr(conversation, name, value)
    conversation.updated_at = utcnow()
    await session.flush()


async def list_messages(*, session: AsyncSession, conversation_id: uuid.UUID) -> list[ConversationMessage]:
    """Every message of a conversation in order."""
    rows = await session.scalars(
        select(ConversationMessage)
        .where(ConversationMessage.conversation_id == conversation_id)
        .order_by(ConversationMessage.position)
    )
    return list(rows)


async def get_message(
    *, session: AsyncSession, conversation_id: uuid.UUID, message_id: uuid.UUID
) -> ConversationMessage | None:
    """A message, only if it belongs to ``conversation_id``."""
    message = await session.get(ConversationMessage, message_id)
    if message is None or message.conversation_id != conversation_id:
        return None
    return message


async def add_message(
    *,
    session: AsyncSession,
    conversation_id: uuid.UUID,
    role: MessageRole,
    content: str,
    model_id: str | None = None,
    incomplete: bool = False,
) -> ConversationMessage:
    """Append a message at the end of the conversation."""
    last = await session.scalar(
        select(func.max(ConversationMessage.position)).where(ConversationMessage.conversation_id == conversation_id)
    )
    message = ConversationMessage(
        conversation_id=conversation_id,
        position=(last if last is not None else -1) + 1,
        role=role,
        content=content,
        model_id=model_id,
        incomplete=incomplete,
    )
    session.add(message)
    await session.flush()
    return message


async def delete_message(*, session: AsyncSession, message_id: uuid.UUID) -> None:
    """Remove one message (an answer placeholder that never received any text) and any feedback on it."""
    await session.execute(delete(MessageFeedback).where(MessageFeedback.message_id == message_id))
    await session.execute(delete(ConversationMessage).where(ConversationMessage.id == message_id))
