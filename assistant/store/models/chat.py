"""Chat product tables: conversations, their messages, the agents' feedback on answers, and one usage record per
generation (KPIs, frugality).
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from assistant.store._base import Base, TimestampMixin, new_id, utcnow

__all__ = [
    "Conversation",
    "ConversationMessage",
    "FeedbackRating",
    "FeedbackReason",
    "MessageFeedback",
    "MessageRole",
    "Project",
    "UsageRecord",
    "UsageService",
]


class MessageRole(enum.StrEnum):
    """Who wrote a message: the user, or the model (always labelled as AI-generated)."""

    USER = "user"
    ASSISTANT = "assistant"


class UsageService(enum.StrEnum):
    """Which product surface a generation served, for KPIs per service."""

    CHAT = "chat"
    TASK = "task"
    API = "api"


class FeedbackRating(enum.StrEnum):
    """An agent's verdict on one answer: 👍 useful, or 👎 to be improved."""

    UP = "up"
    DOWN = "down"

    @property
    def label(self) -> str:
        return "Réponse utile" if self is FeedbackRating.UP else "Réponse à améliorer"


class FeedbackReason(enum.StrEnum):
    """Why an answer is to be improved (👎 only); the values are stable identifiers, :attr:`label` is shown."""

    INACCURATE = "inexact"
    INCOMPLETE = "incomplet"
    OFF_TOPIC = "hors_sujet"
    BIAS = "biais"  # bias or inappropriate wording
    MISCITED_SOURCES = "sources_mal_citees"
    OTHER = "autre"

    @property
    def label(self) -> str:
        return _REASON_LABELS[self]


_REASON_LABELS = {
    FeedbackReason.INACCURATE: "Inexact",
    FeedbackReason.INCOMPLETE: "Incomplet",
    FeedbackReason.OFF_TOPIC: "Hors sujet",
    FeedbackReason.BIAS: "Biais ou propos inapproprié",
    FeedbackReason.MISCITED_SOURCES: "Sources mal citées",
    FeedbackReason.OTHER: "Autre",
}


def _plain_enum(enum_class: type[enum.StrEnum], name: str, length: int) -> Enum:
    # Plain strings in the database (no native enum type), so a new member needs no migration.
    return Enum(enum_class, name=name, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e])


class Project(TimestampMixin, Base):
    """A user's folder of conversations, with standing instructions and collections applied to each of them.

    Private to its owner like its conversations. ``collection_ids`` are re-checked for read access at every
    answer (access may have been withdrawn since the project was set up).
    """

    __tablename__ = "projects"
    __table_args__ = (Index("ix_projects_owner_name", "owner_id", "name"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    instructions: Mapped[str] = mapped_column(Text, default="")
    collection_ids: Mapped[list[str]] = mapped_column(JSON, default=list)


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
    # SET NULL: the service deletes a project's conversations itself when asked to; the database never does.
    project_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("projects.id", ondelete="SET NULL"), index=True, default=None
    )


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


class MessageFeedback(TimestampMixin, Base):
    """One user's 👍/👎 on one answer, with what produced that answer (model, preset, cited documents).

    The model, preset and sources are copied from the message when the feedback is given, so that satisfaction
    per model stays right when the model is later withdrawn or renamed. The row goes with its message (and so
    with its conversation, by retention or erasure) and with its author's account. ``incident_id`` is set once
    the 👎 became an incident report.
    """

    __tablename__ = "message_feedback"
    __table_args__ = (
        UniqueConstraint("message_id", "user_id"),
        Index("ix_message_feedback_model_updated", "model_id", "updated_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    message_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("conversation_messages.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    rating: Mapped[FeedbackRating] = mapped_column(_plain_enum(FeedbackRating, "feedback_rating", 10))
    reason: Mapped[FeedbackReason | None] = mapped_column(
        _plain_enum(FeedbackReason, "feedback_reason", 30), default=None
    )
    comment: Mapped[str | None] = mapped_column(String(2000), default=None)
    model_id: Mapped[str | None] = mapped_column(String(200), default=None)
    preset: Mapped[str | None] = mapped_column(String(100), default=None)
    # [{"document_id": …, "title": …}, …]: the documents the answer cited, as its provenance listed them.
    sources: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, default=None)
    incident_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("incident_reports.id", ondelete="SET NULL"), default=None
    )


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
