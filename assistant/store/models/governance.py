"""Governance tables: incident and bias reports, référent decisions on models, AI-registry reviews."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from assistant.store._base import Base, TimestampMixin, new_id

__all__ = [
    "IncidentCategory",
    "IncidentReport",
    "IncidentStatus",
    "ModelAccessGroup",
    "ModelAccessRule",
    "ModelDecision",
    "RegistryReview",
]


class IncidentCategory(enum.StrEnum):
    """What is wrong with an answer; the values are stable identifiers, :attr:`label` is shown to people."""

    FACTUAL_ERROR = "erreur_factuelle"
    BIAS = "biais"
    INAPPROPRIATE = "contenu_inapproprie"
    DATA_LEAK = "fuite_de_donnees"
    GUARD_FALSE_POSITIVE = "faux_positif_garde"  # the forbidden-use guard flagged a legitimate request
    OTHER = "autre"

    @property
    def label(self) -> str:
        return _CATEGORY_LABELS[self]


_CATEGORY_LABELS = {
    IncidentCategory.FACTUAL_ERROR: "Erreur factuelle",
    IncidentCategory.BIAS: "Biais / discrimination",
    IncidentCategory.INAPPROPRIATE: "Contenu inapproprié",
    IncidentCategory.DATA_LEAK: "Fuite de données",
    IncidentCategory.GUARD_FALSE_POSITIVE: "Alerte d'usage interdit injustifiée",
    IncidentCategory.OTHER: "Autre",
}


class IncidentStatus(enum.StrEnum):
    """Where a report stands in its triage."""

    OPEN = "open"
    IN_PROGRESS = "in_progress"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return _STATUS_LABELS[self]


_STATUS_LABELS = {
    IncidentStatus.OPEN: "Ouvert",
    IncidentStatus.IN_PROGRESS: "En cours de traitement",
    IncidentStatus.CLOSED: "Clos",
}


def _enum(enum_class: type[enum.StrEnum], name: str) -> Enum:
    # Plain strings in the database (no native enum type), so a new member needs no migration.
    return Enum(enum_class, name=name, native_enum=False, length=30, values_callable=lambda e: [m.value for m in e])


class IncidentReport(TimestampMixin, Base):
    """A user's report of a problem in a generated answer, with what was shown to them and its provenance.

    ``manifest_valid`` is the verdict on the attached signed manifest at reporting time (``None``: none was
    attached), so triage can tell a genuine answer from a pasted or edited one.
    """

    __tablename__ = "incident_reports"
    __table_args__ = (Index("ix_incident_reports_model_category", "model_id", "category", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    # SET NULL: erasing an account (RGPD) keeps the governance record, without its author.
    reporter_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True, default=None
    )
    category: Mapped[IncidentCategory] = mapped_column(_enum(IncidentCategory, "incident_category"))
    description: Mapped[str] = mapped_column(Text)
    excerpt: Mapped[str] = mapped_column(Text)
    model_id: Mapped[str | None] = mapped_column(String(128), default=None)
    provenance: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    manifest: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    manifest_valid: Mapped[bool | None] = mapped_column(default=None)
    manifest_content_matches: Mapped[bool | None] = mapped_column(default=None)
    manifest_check: Mapped[str | None] = mapped_column(String(200), default=None)
    message_ref: Mapped[str | None] = mapped_column(String(100), default=None)
    status: Mapped[IncidentStatus] = mapped_column(
        _enum(IncidentStatus, "incident_status"), default=IncidentStatus.OPEN, index=True
    )
    assignee_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), default=None)
    triage_comment: Mapped[str | None] = mapped_column(Text, default=None)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)


class ModelDecision(Base):
    """The référent's standing decision on a model, re-applied to the registry at every start."""

    __tablename__ = "model_decisions"

    model_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(String(1000), default=None)
    decided_by: Mapped[str] = mapped_column(String(200))
    decided_at: Mapped[datetime]


class ModelAccessRule(Base):
    """A model the référent reserved to some groups; a model without a rule is open to every user who may chat.

    The groups are :class:`ModelAccessGroup` rows. A rule with no group left (its groups were deleted) reserves
    the model to nobody: deleting a group never opens a model to everyone.
    """

    __tablename__ = "model_access_rules"

    model_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    decided_by: Mapped[str] = mapped_column(String(200))
    decided_at: Mapped[datetime]


class ModelAccessGroup(Base):
    """One group allowed to use a reserved model."""

    __tablename__ = "model_access_groups"

    model_id: Mapped[str] = mapped_column(
        String(128), ForeignKey("model_access_rules.model_id", ondelete="CASCADE"), primary_key=True
    )
    group_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class RegistryReview(Base):
    """The last review of one AI-registry entry (a model or a use), and the legal basis the référent wrote."""

    __tablename__ = "registry_reviews"

    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    subject_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    legal_basis: Mapped[str | None] = mapped_column(Text, default=None)
    note: Mapped[str | None] = mapped_column(Text, default=None)
    reviewed_by: Mapped[str | None] = mapped_column(String(200), default=None)
    reviewed_at: Mapped[datetime | None] = mapped_column(default=None)
