"""What the chat product returns: conversations and messages as the API, SSE events and exports show them.

Like the OpenAI protocol models, these are plain pydantic schemas built by the services, so that a streamed
event and a JSON answer describe a message in exactly the same shape. Generated messages always carry
``ai_generated: true`` and their provenance. Dump them with ``by_alias=True``: a manifest's ``schema`` field has
an alias, and only the aliased form verifies.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from assistant.guard import GuardNotice
from assistant.protocol.chat import Usage
from assistant.provenance import Manifest, Provenance
from assistant.store.models import (
    Conversation,
    ConversationMessage,
    FeedbackRating,
    FeedbackReason,
    MessageFeedback,
    MessageRole,
)

__all__ = [
    "ConversationDetail",
    "ConversationPage",
    "ConversationSummary",
    "ExchangeView",
    "FeedbackSource",
    "FeedbackView",
    "MessageView",
    "PresetView",
    "TaskResult",
    "TaskSource",
]


class FeedbackSource(BaseModel):
    """A document the rated answer cited."""

    document_id: str
    title: str | None = None


class FeedbackView(BaseModel):
    """The caller's 👍/👎 on one answer, and what produced that answer (copied when the feedback was given)."""

    message_id: uuid.UUID
    rating: FeedbackRating = Field(description="up : réponse utile ; down : réponse à améliorer.")
    rating_label: str
    reason: FeedbackReason | None = Field(default=None, description="Motif d'une réponse à améliorer.")
    reason_label: str | None = None
    comment: str | None = None
    model_id: str | None = Field(default=None, description="Modèle qui a produit la réponse.")
    preset: str | None = Field(default=None, description="Tâche prédéfinie qui a produit la réponse, le cas échéant.")
    sources: list[FeedbackSource] = Field(default_factory=list, description="Documents cités par la réponse.")
    incident_id: uuid.UUID | None = Field(default=None, description="Signalement créé à partir de cet avis.")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, feedback: MessageFeedback) -> FeedbackView:
        """The view of a stored feedback row."""
        return cls(
            message_id=feedback.message_id,
            rating=feedback.rating,
            rating_label=feedback.rating.label,
            reason=feedback.reason,
            reason_label=feedback.reason.label if feedback.reason else None,
            comment=feedback.comment,
            model_id=feedback.model_id,
            preset=feedback.preset,
            sources=[FeedbackSource.model_validate(source) for source in feedback.sources or []],
            incident_id=feedback.incident_id,
            created_at=feedback.created_at,
            updated_at=feedback.updated_at,
        )


class MessageView(BaseModel):
    """One message; for assistant messages, the AI label, the provenance and its signed manifest."""

    id: uuid.UUID
    conversation_id: uuid.UUID
    position: int
    role: Literal["user", "assistant"]
    content: str
    created_at: datetime
    model_id: str | None = None
    incomplete: bool = Field(
        default=False, description="True when the answer was cut short (client gone, model server failed)."
    )
    finish_reason: str | None = None
    ai_generated: bool = Field(description="True for every message written by a model.")
    human_reviewed: bool = Field(default=False, description="An agent marked the answer « relu et validé ».")
    provenance: Provenance | None = None
    provenance_manifest: Manifest | None = Field(default=None, description="Ed25519-signed manifest of the text.")
    usage: Usage | None = Field(default=None, description="Tokens, latency, energy (Wh) and gCO2e of the answer.")
    feedback: FeedbackView | None = Field(
        default=None, description="The caller's own 👍/👎 on this answer (null: none given, or not an answer)."
    )

    @classmethod
    def of(cls, message: ConversationMessage, feedback: MessageFeedback | None = None) -> MessageView:
        """The view of a stored message, with the caller's feedback on it when given."""
        generated = message.role is MessageRole.ASSISTANT
        manifest = Manifest.model_validate(message.manifest) if message.manifest else None
        return cls(
            id=message.id,
            conversation_id=message.conversation_id,
            position=message.position,
            role=message.role.value,
            content=message.content,
            created_at=message.created_at,
            model_id=message.model_id,
            incomplete=message.incomplete,
            finish_reason=message.finish_reason,
            ai_generated=generated,
            human_reviewed=bool(manifest and manifest.provenance.human_reviewed),
            provenance=Provenance.model_validate(message.provenance) if message.provenance else None,
            provenance_manifest=manifest,
            usage=Usage.model_validate(message.usage) if message.usage else None,
            feedback=FeedbackView.of(feedback) if feedback is not None else None,
        )


class ConversationSummary(BaseModel):
    """A conversation in a list."""

    id: uuid.UUID
    title: str
    model_id: str
    project_id: uuid.UUID | None = Field(default=None, description="Projet où la conversation est rangée.")
    created_at: datetime
    updated_at: datetime
    match: str | None = Field(default=None, description="Recherche : extrait du message qui contient les mots.")

    @classmethod
    def of(cls, conversation: Conversation, match: str | None = None) -> ConversationSummary:
        return cls(
            id=conversation.id,
            title=conversation.title,
            model_id=conversation.model_id,
            project_id=conversation.project_id,
            created_at=conversation.created_at,
            updated_at=conversation.updated_at,
            match=match,
        )


class ConversationPage(BaseModel):
    """A page of the caller's conversations, most recently active first."""

    items: list[ConversationSummary]
    total: int
    limit: int
    offset: int


class ConversationDetail(ConversationSummary):
    """A conversation with all its messages."""

    messages: list[MessageView]


class ExchangeView(BaseModel):
    """The answer to a message sent in a conversation (non-streamed)."""

    conversation_id: uuid.UUID
    user_message: MessageView
    message: MessageView = Field(description="The assistant's answer, labelled.")
    ai_generated: Literal[True] = True
    guard: list[GuardNotice] | None = Field(default=None, description="Charter reminders the message triggered.")


class PresetView(BaseModel):
    """A document task preset as listed by ``GET /api/tasks``."""

    name: str
    version: int
    id: str = Field(description="name.vN, recorded with every result and usage record.")
    title: str
    description: str
    parameters: list[str]
    sha256: str = Field(description="sha256 of the preset file: which exact prompt produced a result.")


class TaskSource(BaseModel):
    """What the task read: an uploaded file, or pasted text when ``filename`` is null."""

    filename: str | None = None
    pages: int | None = None
    characters: int


class TaskResult(BaseModel):
    """The labelled output of a document task."""

    preset: PresetView
    model: str
    content: str
    ai_generated: Literal[True] = True
    incomplete: bool = False
    provenance: Provenance
    guard: list[GuardNotice] | None = Field(default=None, description="Charter reminders the text triggered.")
    provenance_manifest: Manifest
    usage: Usage = Field(description="Summed over every model call of the task, with energy and gCO2e.")
    parts: int = Field(description="How many parts the input was split into (1 when it fit one call).")
    upstream_calls: int
    source: TaskSource
