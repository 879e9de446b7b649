"""Chat product tables: conversations, their messages, and one usage record per generation (KPIs, frugality)."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from assistant.store._base import Base, TimestampMixin, new_id, utcnow

__all__ = ["Conversation", "ConversationMessage", "MessageRole", "UsageRecord", "UsageService"]


class MessageRole(enum.StrEnum):
    """Who wrote a message: the user, or the model (always labelled as AI-generated)."""

    USER = "user"
    ASSISTANT = "assistant"


class UsageService(enum.StrEnum):
    """Which product surface a generation served, for KPIs per service."""

    CHAT = "chat"
    TASK = "task"
    API = "api"


class Conversation(TimestampMixin, Base):
    """A user's conversation with a model; private to its owner."""

    __tablename__ = "conversations"
    __table_args__ = (Index("ix_conversations_owner_updated", "owner_id", "updated_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    # Set once a title was chosen by the user: automatic titles never overwrite it.
    title_is_custom: Mapped[bool] = mapped_column(default=False)
    model_id: Mapped[str] = mapped_column(String(200))


class ConversationMessage(Base):
    """One message. Assistant messages keep their provenance, signed manifest, usage and energy.

    ``incomplete`` marks an answer cut short (client gone, model server failed): what was generated is kept,
    signed as it stands, and shown as incomplete.
    """

    __tablename__ = "conversation_messages"
    __table_args__ = (Index("ix_conversation_messages_conversation_position", "conversation_id", "position"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    conversation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    role: Mapped[MessageRole] = mapped_column(
        Enum(
            MessageRole,
            name="message_role",
            native_enum=False,
            length=20,
            values_callable=lambda e: [m.value for m in e],
        )
    )
    content: Mapped[str] = mapped_column(Text, default="")
    model_id: Mapped[str | None] = mapped_column(String(200), default=None)
    incomplete: Mapped[bool] = mapped_column(default=False)
    finish_reason: Mapped[str | None] = mapped_column(String(50), default=None)
    error_code: Mapped[str | None] = mapped_column(String(100), default=None)
    provenance: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    manifest: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    usage: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class UsageRecord(Base):
    """Tokens, latency, energy and carbon of one generation (chat answer, document task, API completion).

    Kept when the user is deleted (``user_id`` set to null) so that service-level KPIs stay right.
    """

    __tablename__ = "usage_records"
    __table_args__ = (Index("ix_usage_records_user_created", "user_id", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    api_key_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("api_keys.id", ondelete="SET NULL"))
    model_id: Mapped[str] = mapped_column(String(200))
    service: Mapped[UsageService] = mapped_column(
        Enum(
            UsageService,
            name="usage_service",
            native_enum=False,
            length=20,
            values_callable=lambda e: [m.value for m in e],
        )
    )
    preset: Mapped[str | None] = mapped_column(String(100), default=None)
    prompt_tokens: Mapped[int] = mapped_column(default=0)
    completion_tokens: Mapped[int] = mapped_column(default=0)
    upstream_calls: Mapped[int] = mapped_column(default=1)
    latency_ms: Mapped[float] = mapped_column(default=0.0)
    energy_wh: Mapped[float] = mapped_column(default=0.0)
    gco2e: Mapped[float] = mapped_column(default=0.0)
    energy_method: Mapped[str] = mapped_column(String(50))
    incomplete: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
