"""The AI-content label and the provenance every generated payload carries."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["AI_BADGE", "AI_LABEL", "HEADER_AI_GENERATED", "HEADER_AI_MODEL", "Provenance", "SourceRef", "ai_headers"]

AI_LABEL = "Contenu généré par intelligence artificielle — à vérifier"
AI_BADGE = "Contenu généré par IA — à vérifier"
HEADER_AI_GENERATED = "X-AI-Generated"
HEADER_AI_MODEL = "X-AI-Model"


class SourceRef(BaseModel):
    """A document passage an answer drew on."""

    model_config = ConfigDict(frozen=True)

    document_id: str
    title: str | None = None
    collection_id: str | None = None
    page: int | None = Field(default=None, ge=1)
    passage_id: str | None = None
    passage: str | None = Field(default=None, description="Short excerpt cited, not the whole chunk.")
    synced_at: datetime | None = Field(
        default=None, description="Document kept in sync with a shared drive: when the drive last confirmed it."
    )


class Provenance(BaseModel):
    """What produced a piece of content. ``ai_generated`` is a constant: no caller can turn the label off."""

    model_config = ConfigDict(frozen=True)

    ai_generated: Literal[True] = True
    model_id: str = Field(description="Public id of the model in the registry.")
    model_version: str | None = Field(default=None, description="Weights sha256 or upstream revision.")
    backend: str = Field(description="Backend kind that ran the model (openai-compatible, embedded, …).")
    sovereign: bool = Field(description="True when the model runs on infrastructure the administration controls.")
    sources: tuple[SourceRef, ...] = ()
    created_at: datetime
    request_id: str | None = None
    human_reviewed: bool = False
    reviewed_by: str | None = None
    reviewed_at: datetime | None = None


def ai_headers(provenance: Provenance) -> dict[str, str]:
    """HTTP headers that label a response carrying generated content."""
    return {HEADER_AI_GENERATED: "true", HEADER_AI_MODEL: provenance.model_id}
