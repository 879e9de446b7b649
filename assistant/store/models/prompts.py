"""The prompt library: personal prompts and prompts published to groups, their versions and their uses."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from assistant.store._base import Base, TimestampMixin, new_id, utcnow

__all__ = ["Prompt", "PromptGroup", "PromptUse", "PromptVersion"]


class Prompt(TimestampMixin, Base):
    """A reusable prompt with ``{{variables}}``; ``version`` counts its edits (each kept in :class:`PromptVersion`).

    A personal prompt has an ``owner_id`` and goes with its owner's account. A published one has none: référents
    publish it to groups (:class:`PromptGroup`), and it stays when its author's account goes (``published_by``
    keeps who published it).
    """

    __tablename__ = "prompts"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    owner_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True, default=None
    )
    published_by: Mapped[str | None] = mapped_column(String(200), default=None)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(500), default="")
    body: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(default=1)


class PromptGroup(Base):
    """One group a published prompt is offered to."""

    __tablename__ = "prompt_groups"

    prompt_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("prompts.id", ondelete="CASCADE"), primary_key=True)
    group_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class PromptVersion(Base):
    """The text of one version of a prompt, as it was saved."""

    __tablename__ = "prompt_versions"

    prompt_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("prompts.id", ondelete="CASCADE"), primary_key=True)
    version: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(500), default="")
    body: Mapped[str] = mapped_column(Text)
    edited_by: Mapped[str | None] = mapped_column(String(200), default=None)
    edited_at: Mapped[datetime] = mapped_column(default=utcnow)


class PromptUse(Base):
    """One use of a prompt (filled in and inserted), for the indicators; kept without its user on erasure."""

    __tablename__ = "prompt_uses"
    __table_args__ = (Index("ix_prompt_uses_used_at", "used_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    prompt_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("prompts.id", ondelete="CASCADE"), index=True)
    version: Mapped[int]
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), default=None)
    surface: Mapped[str] = mapped_column(String(20))
    used_at: Mapped[datetime] = mapped_column(default=utcnow)
