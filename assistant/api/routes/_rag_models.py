"""API schemas of collections, documents, search and RAG answers (separate from the table models)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from assistant.guard import GuardConfirmation, GuardNotice
from assistant.protocol.chat import GroundingReport, Usage
from assistant.provenance import Manifest, Provenance
from assistant.services.knowledge.collections import CollectionAccessList, CollectionView
from assistant.services.knowledge.retrieval import Passage, RagAnswer
from assistant.store.models import AccessLevel, Classification, Document, DocumentStatus

__all__ = [
    "AccessListIn",
    "AccessListOut",
    "CollectionCreate",
    "CollectionOut",
    "CollectionUpdate",
    "DocumentOut",
    "PassageOut",
    "RagAnswerIn",
    "RagAnswerOut",
    "SearchIn",
    "SearchOut",
    "UploadOut",
]

Right = Literal["owner", "write", "read", "manage"]
_RIGHTS: dict[str, Right] = {"OWNER": "owner", "WRITE": "write", "READ": "read", "MANAGE": "manage"}


class CollectionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=150)
    description: str = Field(default="", max_length=1000)
    classification: Classification = Field(
        default=Classification.INTERNAL,
        description="'internal' (default) content never reaches a non-sovereign model; 'public' may.",
    )


class CollectionUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=150)
    description: str | None = Field(default=None, max_length=1000)
    classification: Classification | None = None


class CollectionOut(BaseModel):
    id: uuid.UUID
    name: str
    description: str
    classification: Classification
    owner_id: uuid.UUID
    version: int = Field(description="Moves with every change of the collection's passages.")
    your_access: Right = Field(description="What you may do: owner, write, read, or manage (référent, no content).")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_view(cls, view: CollectionView) -> CollectionOut:
        c = view.collection
        return cls(
            id=c.id,
            name=c.name,
            description=c.description,
            classification=c.classification,
            owner_id=c.owner_id,
            version=c.version,
            your_access=_RIGHTS[view.right.name],
            created_at=c.created_at,
            updated_at=c.updated_at,
        )


class AccessListIn(BaseModel):
    """The complete access list (it replaces the previous one)."""

    model_config = ConfigDict(extra="forbid")

    users: dict[str, AccessLevel] = Field(default_factory=dict, description="username → read | write")
    groups: dict[str, AccessLevel] = Field(default_factory=dict, description="group name → read | write")


class AccessListOut(BaseModel):
    owner_id: uuid.UUID
    users: dict[str, AccessLevel]
    groups: dict[str, AccessLevel]

    @classmethod
    def from_service(cls, access: CollectionAccessList) -> AccessListOut:
        return cls(
            owner_id=access.owner_id,
            users={e.name: e.access for e in access.entries if e.kind == "user"},
            groups={e.name: e.access for e in access.entries if e.kind == "group"},
        )


class DocumentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    collection_id: uuid.UUID
    owner_id: uuid.UUID
    filename: str
    mime: str | None
    size_bytes: int
    content_hash: str = Field(description="sha256 of the file: the same bytes are never ingested twice.")
    status: DocumentStatus
    progress: float
    error: str | None = Field(description="Why ingestion failed, in French.")
    title: str | None
    pages: int | None
    chunk_count: int
    ocr_pages: int
    job_id: uuid.UUID | None
    created_at: datetime
    updated_at: datetime
    duplicate: bool = Field(default=False, description="True when this upload matched an existing document.")

    @classmethod
    def from_document(cls, document: Document, *, duplicate: bool = False) -> DocumentOut:
        out = cls.model_validate(document)
        out.duplicate = duplicate
        return out


class UploadOut(BaseModel):
    documents: list[DocumentOut] = Field(description="One entry per file sent, in order, each with its own status.")


class SearchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: str = Field(min_length=1, max_length=2000)
    collection_ids: list[uuid.UUID] | None = Field(
        default=None, description="Collections to search; all those you may read when absent."
    )
    k: int = Field(default=5, ge=1, le=50)
    mode: Literal["hybrid", "vector", "keyword"] = "hybrid"


class PassageOut(BaseModel):
    marker: int = Field(description="Citation number: [n] in an answer.")
    collection_id: uuid.UUID
    document_id: uuid.UUID
    filename: str
    title: str
    page: int | None
    section: str | None
    text: str
    score: float

    @classmethod
    def from_passage(cls, passage: Passage) -> PassageOut:
        return cls(
            marker=passage.marker,
            collection_id=passage.collection_id,
            document_id=passage.document_id,
            filename=passage.filename,
            title=passage.title,
            page=passage.page,
            section=passage.section,
            text=passage.text,
            score=passage.score,
        )


class SearchOut(BaseModel):
    passages: list[PassageOut]


class RagAnswerIn(SearchIn):
    """A question answered from your collections; the passages are data, never instructions."""

    query: str = Field(min_length=1, max_length=4000, description="The question.")
    model: str | None = Field(default=None, description="Chat model id; the default model when absent.")
    sensitivity: Literal["public", "internal", "sensitive"] | None = None
    max_tokens: int | None = Field(default=None, ge=1, le=8192)
    temperature: float | None = Field(default=None, ge=0, le=2)
    guard_confirmation: GuardConfirmation | None = Field(
        default=None, description="Answer to a forbidden-use rule asking for confirmation (rule id, reason)."
    )


class RagAnswerOut(BaseModel):
    object: Literal["rag.answer"] = "rag.answer"
    id: str
    model: str
    answer: str
    citations: list[PassageOut] = Field(description="The passages given to the model; [n] refers to marker n.")
    usage: Usage | None
    ai_generated: Literal[True] = True
    provenance: Provenance
    provenance_manifest: Manifest | None
    guard: list[GuardNotice] | None = None
    grounding: GroundingReport | None = Field(
        default=None, description="What was searched and consulted, whether the answer was declined, its checks."
    )

    @classmethod
    def from_answer(cls, answer: RagAnswer) -> RagAnswerOut:
        completion = answer.completion
        manifests = completion.provenance_manifests or []
        return cls(
            id=completion.id,
            model=completion.model,
            answer=answer.answer,
            citations=[PassageOut.from_passage(p) for p in answer.passages],
            usage=completion.usage,
            provenance=completion.provenance,
            provenance_manifest=manifests[0] if manifests else None,
            guard=completion.guard,
            grounding=completion.grounding,
        )
