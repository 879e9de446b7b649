"""The append-only, hash-chained event log (connections and audited actions)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from assistant.store._base import Base

__all__ = ["AuditEvent"]


class AuditEvent(Base):
    """One event. ``hash = sha256(prev_hash || canonical_json(event))``; ``prev_hash`` is unique, so the chain
    cannot fork even when two processes append at once (the loser retries on the new head)."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_actor_time", "actor_id", "occurred_at"),)

    # BigInteger is not auto-incrementing on SQLite; Integer is, so vary by dialect.
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)
    category: Mapped[str] = mapped_column(String(20), index=True)
    action: Mapped[str] = mapped_column(String(100), index=True)
    outcome: Mapped[str] = mapped_column(String(20))
    occurred_at: Mapped[datetime] = mapped_column(index=True)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    actor_label: Mapped[str | None] = mapped_column(String(200), default=None)
    resource_type: Mapped[str | None] = mapped_column(String(50), default=None)
    resource_id: Mapped[str | None] = mapped_column(String(100), default=None)
    ip: Mapped[str | None] = mapped_column(String(64), default=None)
    user_agent: Mapped[str | None] = mapped_column(String(400), default=None)
    request_id: Mapped[str | None] = mapped_column(String(128), default=None)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)
