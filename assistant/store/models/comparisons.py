"""Side-by-side comparisons: one question put to two models, both answers kept labelled, and the agent's vote."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from assistant.store._base import Base, new_id, utcnow

__all__ = ["Comparison", "ComparisonVote"]


class ComparisonVote(enum.StrEnum):
    """Which answer the agent preferred; the values are stable identifiers, :attr:`label` is shown."""

    A = "a"
    B = "b"
    EQUIVALENT = "equivalent"

    @property
    def label(self) -> str:
        return _VOTE_LABELS[self]


_VOTE_LABELS = {
    ComparisonVote.A: "A est meilleure",
    ComparisonVote.B: "B est meilleure",
    ComparisonVote.EQUIVALENT: "Équivalentes",
}


class Comparison(Base):
    """Two models' answers to one question, side by side, and the vote once given (one vote, never changed).

    Each answer keeps its provenance, signed manifest, tokens, energy and carbon, as a chat answer does; the
    models' names stay hidden from the agent until the vote when ``blind``. Private to its author, and gone with
    their account, by erasure or past the conversations' retention limit.
    """

    __tablename__ = "comparisons"
    __table_args__ = (Index("ix_comparisons_user_created", "user_id", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    question: Mapped[str] = mapped_column(Text)
    blind: Mapped[bool] = mapped_column(default=True)
    model_a: Mapped[str] = mapped_column(String(200))
    model_b: Mapped[str] = mapped_column(String(200))
    answer_a: Mapped[str] = mapped_column(Text, default="")
    answer_b: Mapped[str] = mapped_column(Text, default="")
    provenance_a: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    provenance_b: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    manifest_a: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    manifest_b: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    energy_wh_a: Mapped[float] = mapped_column(default=0.0)
    energy_wh_b: Mapped[float] = mapped_column(default=0.0)
    gco2e_a: Mapped[float] = mapped_column(default=0.0)
    gco2e_b: Mapped[float] = mapped_column(default=0.0)
    tokens_a: Mapped[int] = mapped_column(default=0)
    tokens_b: Mapped[int] = mapped_column(default=0)
    # Plain strings in the database (no native enum type), like the other enums of the service.
    vote: Mapped[ComparisonVote | None] = mapped_column(
        Enum(
            ComparisonVote,
            name="comparison_vote",
            native_enum=False,
            length=20,
            values_callable=lambda e: [m.value for m in e],
        ),
        default=None,
    )
    voted_at: Mapped[datetime | None] = mapped_column(default=None, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
