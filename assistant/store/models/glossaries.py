"""Glossaries of the administration's vocabulary (sigles, services, people) for transcriptions.

One glossary per user and one per group, as entries; each transcription keeps the glossary it was given.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from assistant.store._base import Base, TimestampMixin, new_id, utcnow

__all__ = ["GlossaryEntry", "TranscriptionGlossary"]


class GlossaryEntry(TimestampMixin, Base):
    """A term of a user's personal glossary (``owner_id``) or of a group's (``group_id``), never both.

    ``term_key`` is the term without accents, case or punctuation: two entries of one glossary cannot share it
    (« CSA » and « C.S.A. » are the same term). ``variants`` are how the term is said or mis-transcribed.
    """

    __tablename__ = "glossary_entries"
    __table_args__ = (
        CheckConstraint("(owner_id IS NULL) <> (group_id IS NULL)", name="one_scope"),
        UniqueConstraint("owner_id", "term_key", name="uq_glossary_entries_owner_term"),
        UniqueConstraint("group_id", "term_key", name="uq_glossary_entries_group_term"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    owner_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True, default=None
    )
    group_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), index=True, default=None
    )
    term: Mapped[str] = mapped_column(String(100))
    term_key: Mapped[str] = mapped_column(String(100))
    variants: Mapped[list[str]] = mapped_column(JSON, default=list)
    note: Mapped[str] = mapped_column(String(300), default="")
    # Who last edited a group's entry (kept as a name: the entry stays when that account goes).
    edited_by: Mapped[str | None] = mapped_column(String(200), default=None)


class TranscriptionGlossary(Base):
    """The glossary a transcription was given when it was submitted: its terms and variants, frozen.

    A retry or a re-run of the job reads this, not the glossaries as they are now, so its result is reproducible.
    """

    __tablename__ = "transcription_glossaries"

    transcription_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("transcriptions.id", ondelete="CASCADE"), primary_key=True
    )
    terms: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    corrections: Mapped[int | None] = mapped_column(default=None, doc="Replacements made after transcription.")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
