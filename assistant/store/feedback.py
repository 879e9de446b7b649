"""Queries on the agents' feedback on answers. Session keyword-only, never committing."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from assistant.store.models import ConversationMessage, FeedbackRating, FeedbackReason, MessageFeedback

__all__ = [
    "FeedbackCount",
    "add_feedback",
    "count_feedback",
    "delete_feedback",
    "get_feedback",
    "list_conversation_feedback",
    "list_user_feedback",
]


@dataclass(frozen=True, slots=True)
class FeedbackCount:
    """Feedback of one (model, rating, reason) cell."""

    model_id: str | None
    rating: FeedbackRating
    reason: FeedbackReason | None
    count: int


async def get_feedback(*, session: AsyncSession, message_id: uuid.UUID, user_id: uuid.UUID) -> MessageFeedback | None:
    """The user's feedback on one message, if they gave one."""
    query = select(MessageFeedback).where(MessageFeedback.message_id == message_id, MessageFeedback.user_id == user_id)
    return (await session.execute(query)).scalar_one_or_none()


async def add_feedback(*, session: AsyncSession, feedback: MessageFeedback) -> MessageFeedback:
    """Stage a new feedback row and flush it (the unique (message, user) pair is checked here)."""
    session.add(feedback)
    await session.flush()
    return feedback


async def delete_feedback(*, session: AsyncSession, feedback: MessageFeedback) -> None:
    """Remove one feedback row."""
    await session.execute(delete(MessageFeedback).where(MessageFeedback.id == feedback.id))


async def list_conversation_feedback(
    *, session: AsyncSession, conversation_id: uuid.UUID, user_id: uuid.UUID
) -> dict[uuid.UUID, MessageFeedback]:
    """The user's feedback on the messages of one conversation, by message id."""
    rows = await session.scalars(
        select(MessageFeedback)
        .join(ConversationMessage, ConversationMessage.id == MessageFeedback.message_id)
        .where(ConversationMessage.conversation_id == conversation_id, MessageFeedback.user_id == user_id)
    )
    return {row.message_id: row for row in rows}


async def list_user_feedback(
    *, session: AsyncSession, user_id: uuid.UUID
) -> list[tuple[MessageFeedback, ConversationMessage]]:
    """Every feedback the user gave, oldest first, with the message it is about."""
    rows = await session.execute(
        select(MessageFeedback, ConversationMessage)
        .join(ConversationMessage, ConversationMessage.id == MessageFeedback.message_id)
        .where(MessageFeedback.user_id == user_id)
        .order_by(MessageFeedback.created_at, MessageFeedback.id)
    )
    return [(feedback, message) for feedback, message in rows]


async def count_feedback(
    *, session: AsyncSession, since: datetime, until: datetime, model_id: str | None = None
) -> list[FeedbackCount]:
    """Feedback last given or changed in ``[since, until)``, counted per model, rating and reason (one aggregate)."""
    query = (
        select(MessageFeedback.model_id, MessageFeedback.rating, MessageFeedback.reason, func.count(MessageFeedback.id))
        .where(MessageFeedback.updated_at >= since, MessageFeedback.updated_at < until)
        .group_by(MessageFeedback.model_id, MessageFeedback.rating, MessageFeedback.reason)
    )
    if model_id is not None:
        query = query.where(MessageFeedback.model_id == model_id)
    rows = await session.execute(query)
    return [FeedbackCount(model, rating, reason, int(count)) for model, rating, reason, count in rows]
