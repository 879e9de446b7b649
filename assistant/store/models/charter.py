"""Responsible use: published versions of the usage charter, who accepted which, the forbidden-use guard rules."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from assistant.store._base import Base, utcnow

__all__ = ["CharterAcceptance", "CharterVersion", "GuardRuleSet"]


class CharterVersion(Base):
    """One published version of the usage charter; the highest ``version`` is the current one."""

    __tablename__ = "charter_versions"

    version: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    published_by: Mapped[str] = mapped_column(String(200))
    published_at: Mapped[datetime] = mapped_column(default=utcnow)


class CharterAcceptance(Base):
    """A user's acceptance of one charter version; kept for the auditors, one row per (user, version)."""

    __tablename__ = "charter_acceptances"
    __table_args__ = (Index("ix_charter_acceptances_version", "version", "accepted_at"),)

    # CASCADE: erasing an account (RGPD) erases its acceptances, which name it.
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    version: Mapped[int] = mapped_column(ForeignKey("charter_versions.version", ondelete="CASCADE"), primary_key=True)
    accepted_at: Mapped[datetime] = mapped_column(default=utcnow)
    method: Mapped[str] = mapped_column(String(20))


class GuardRuleSet(Base):
    """One version of the forbidden-use rules as the référent edited them (the shipped defaults otherwise)."""

    __tablename__ = "guard_rule_sets"

    version: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    rules: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    updated_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
