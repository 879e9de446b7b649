"""Conversations shared inside the administration: who shared what, with whom, and the messages as they were."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from assistant.store._base import Base, new_id, utcnow

__all__ = ["ConversationShare", "ShareGroup", "ShareMode", "ShareUser"]


class ShareMode(enum.StrEnum):
    """What the recipients may do: read the shared messages, or also continue a copy of their own."""

    SNAPSHOT = "snapshot"
    COPY = "copy"

    @property
    def label(self) -> str:
        return "Lecture seule" if self is ShareMode.SNAPSHOT else "Copie à poursuivre"


class ConversationShare(Base):
    """One conversation shared by its owner with named users and groups, until revoked.

    ``messages`` freezes the conversation as it was shared (content, provenance, signed manifest of each
    message), so that later edits by the owner change nothing the recipients see; it is emptied on revocation.
    The row goes with its conversation (retention, deletion) and with its owner's account.
    """

    __tablename__ = "conversation_shares"
    __table_args__ = (Index("ix_conversation_shares_owner_created", "owner_id", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    conversation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # Plain strings in the database (no native enum type), like the other enums of the service.
    mode: Mapped[ShareMode] = mapped_column(
        Enum(ShareMode, name="share_mode", native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])
    )
    title: Mapped[str] = mapped_column(String(200))
    model_id: Mapped[str] = mapped_column(String(200))
    messages: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)


class ShareUser(Base):
    """One user a conversation is shared with."""

    __tablename__ = "conversation_share_users"

    share_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("conversation_shares.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True)


class ShareGroup(Base):
    """One group a conversation is shared with: every member, present and future, until revoked."""

    __tablename__ = "conversation_share_groups"

    share_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("conversation_shares.id", ondelete="CASCADE"), primary_key=True
    )
    group_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True, index=True
    )
