"""Provenance object carried by every generated payload (design §4): our extension to the OpenAI schema.

The API layer never builds one itself: the chat service gets it from the labelling module (which also signs
the manifest) and hands it to ``ChatCompletionResponse.from_result`` / ``ChatCompletionChunk.from_llm_chunk``.
Making it a required argument there is the hook: no generated answer can leave without provenance.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Provenance", "ProvenanceSource"]


class ProvenanceSource(BaseModel):
    """A document passage the answer used (RAG), as cited to the user."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    document_id: str
    title: str | None = None
    collection_id: str | None = None
    page: int | None = Field(default=None, ge=1)
    passage: str | None = Field(default=None, description="Short excerpt cited, not the whole chunk.")


class Provenance(BaseModel):
    """Who or what produced a payload, so a reader (or ``assistant provenance verify``) can tell."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str = Field(description="Public model id that generated the content.")
    model_version: str | None = Field(
        default=None, description="Weights sha256 for local models, upstream model name otherwise."
    )
    backend: str = Field(description="Configured backend name that served the request.")
    sovereign: bool = Field(
        description="True when the backend keeps data under the administration's control."
    )
    sources: list[ProvenanceSource] = Field(default_factory=list, description="Documents used (RAG).")
    generated_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    request_id: str | None = None
    human_reviewed: bool = Field(
        default=False,
        description="Set only by a signed «relu et validé» manifest; never removes the AI label.",
    )
    signature: str | None = Field(
        default=None,
        description="Ed25519 signature of the manifest (base64), filled by the labelling module.",
    )
