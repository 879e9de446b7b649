"""Conversations of the signed-in user: CRUD, messages (whole or streamed), review, exports. Owner-only."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response, Security, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from assistant.api.deps import ClientDep, RequirePermission, RuntimeDep
from assistant.api.routes._streaming import EventStream, stream_or_json
from assistant.exports import ExportFormat
from assistant.guard import GuardConfirmation
from assistant.security import Permission, Principal
from assistant.services.chat import conversations as service
from assistant.services.chat import feedback as feedback_service
from assistant.services.chat.replies import send_message
from assistant.services.chat.views import (
    ConversationDetail,
    ConversationPage,
    ConversationSummary,
    ExchangeView,
    FeedbackView,
    MessageView,
)
from assistant.store.models import FeedbackRating, FeedbackReason

__all__ = ["router"]

router = APIRouter(prefix="/api/conversations", tags=["conversations"])

Chatter = Annotated[Principal, Security(RequirePermission(Permission.CHAT))]
Sensitivity = Literal["public", "internal", "sensitive"]


class ConversationCreate(BaseModel):
    title: str | None = Field(default=None, min_length=1, max_length=200)
    model: str | None = Field(default=None, description="Model id (GET /v1/models); the default one when omitted.")
    project_id: uuid.UUID | None = Field(default=None, description="Un de mes projets, où ranger la conversation.")


class ConversationUpdate(BaseModel):
    title: str | None = Field(default=None, min_length=1, max_length=200)
    model: str | None = Field(default=None, description="Model for the next answers.")
    project_id: uuid.UUID | None = Field(
        default=None, description="Déplacer dans ce projet ; null explicite : sortir de tout projet."
    )


class MessageCreate(BaseModel):
    content: str = Field(min_length=1, max_length=200_000)
    stream: bool = Field(default=False, description="Answer as server-sent events.")
    model: str | None = Field(default=None, description="Switch the conversation to this model first.")
    sensitivity: Sensitivity | None = Field(
        default=None, description="Declared data sensitivity; above public never reaches a non-sovereign model."
    )
    guard_confirmation: GuardConfirmation | None = Field(
        default=None, description="Answer to a forbidden-use rule asking for confirmation (rule id, reason)."
    )
    collections: list[str] | None = Field(
        default=None,
        max_length=20,
        description="Ids of document collections to answer from: passages are retrieved (read access checked), "
        "given to the model as data and listed in the answer's provenance sources.",
    )


class FeedbackIn(BaseModel):
    rating: FeedbackRating = Field(description="up : réponse utile ; down : réponse à améliorer.")
    reason: FeedbackReason | None = Field(default=None, description="Motif d'une réponse à améliorer (down).")
    comment: str | None = Field(default=None, max_length=2000, description="Commentaire libre, facultatif.")
    report: bool = Field(
        default=False,
        description="Transmettre aussi cet avis aux référents IA comme signalement (down seulement ; une fois).",
    )


def _download(file: service.ExportFile) -> Response:
    return Response(
        file.data,
        media_type=file.media_type,
        headers={"Content-Disposition": f'attachment; filename="{file.filename}"', "X-AI-Generated": "true"},
    )


@router.get("", response_model=ConversationPage, summary="Mes conversations")
async def list_conversations(
    principal: Chatter,
    runtime: RuntimeDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,  # bounded: the database integer is 64-bit
    q: Annotated[
        str | None, Query(max_length=200, description="Mots cherchés dans les titres et les messages.")
    ] = None,
    project: Annotated[
        uuid.UUID | Literal["none"] | None,
        Query(description="Id d'un de mes projets, ou « none » : les conversations hors projet."),
    ] = None,
) -> ConversationPage:
    return await service.list_conversations(
        runtime, principal=principal, limit=limit, offset=offset, project_id=project, query=q
    )


@router.post(
    "", response_model=ConversationSummary, status_code=status.HTTP_201_CREATED, summary="Nouvelle conversation"
)
async def create_conversation(
    body: ConversationCreate, principal: Chatter, runtime: RuntimeDep, client: ClientDep
) -> ConversationSummary:
    return await service.create_conversation(
        runtime, principal=principal, client=client, title=body.title, model_id=body.model, project_id=body.project_id
    )


@router.get("/{conversation_id}", response_model=ConversationDetail, summary="Une conversation et ses messages")
async def read_conversation(conversation_id: uuid.UUID, principal: Chatter, runtime: RuntimeDep) -> ConversationDetail:
    return await service.get_conversation(runtime, principal=principal, conversation_id=conversation_id)


@router.patch(
    "/{conversation_id}",
    response_model=ConversationSummary,
    summary="Renommer, changer de modèle, ranger dans un projet",
)
async def update_conversation(
    conversation_id: uuid.UUID, body: ConversationUpdate, principal: Chatter, runtime: RuntimeDep, client: ClientDep
) -> ConversationSummary:
    return await service.update_conversation(
        runtime,
        principal=principal,
        client=client,
        conversation_id=conversation_id,
        title=body.title,
        model_id=body.model,
        move_to=body.project_id if "project_id" in body.model_fields_set else service.UNSET,
    )


@router.delete("/{conversation_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Supprimer une conversation")
async def delete_conversation(
    conversation_id: uuid.UUID, principal: Chatter, runtime: RuntimeDep, client: ClientDep
) -> Response:
    await service.delete_conversation(runtime, principal=principal, client=client, conversation_id=conversation_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{conversation_id}/messages",
    response_model=ExchangeView,
    summary="Envoyer un message et recevoir la réponse (entière ou en flux SSE), étiquetée « générée par IA »",
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def post_message(
    conversation_id: uuid.UUID, body: MessageCreate, principal: Chatter, runtime: RuntimeDep, client: ClientDep
) -> JSONResponse | EventStream:
    reply = await send_message(
        runtime,
        principal=principal,
        client=client,
        conversation_id=conversation_id,
        content=body.content,
        stream=body.stream,
        model_id=body.model,
        sensitivity=body.sensitivity,
        guard_confirmation=body.guard_confirmation,
        collections=body.collections,
    )
    return stream_or_json(reply.stream, reply.exchange, headers=reply.headers)


@router.post(
    "/{conversation_id}/messages/{message_id}/review",
    response_model=MessageView,
    summary="Marquer une réponse « relu et validé » (l'étiquette IA reste)",
)
async def review_message(
    conversation_id: uuid.UUID, message_id: uuid.UUID, principal: Chatter, runtime: RuntimeDep, client: ClientDep
) -> MessageView:
    return await service.review_message(
        runtime, principal=principal, client=client, conversation_id=conversation_id, message_id=message_id
    )


@router.put(
    "/{conversation_id}/messages/{message_id}/feedback",
    response_model=FeedbackView,
    summary="Donner ou changer son avis (👍/👎) sur une réponse, et le signaler en une fois",
)
async def give_feedback(
    conversation_id: uuid.UUID,
    message_id: uuid.UUID,
    body: FeedbackIn,
    principal: Chatter,
    runtime: RuntimeDep,
    client: ClientDep,
) -> FeedbackView:
    return await feedback_service.give_feedback(
        runtime,
        principal=principal,
        client=client,
        conversation_id=conversation_id,
        message_id=message_id,
        rating=body.rating,
        reason=body.reason,
        comment=body.comment,
        report=body.report,
    )


@router.delete(
    "/{conversation_id}/messages/{message_id}/feedback",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Retirer son avis sur une réponse",
)
async def withdraw_feedback(
    conversation_id: uuid.UUID, message_id: uuid.UUID, principal: Chatter, runtime: RuntimeDep, client: ClientDep
) -> Response:
    await feedback_service.withdraw_feedback(
        runtime, principal=principal, client=client, conversation_id=conversation_id, message_id=message_id
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/{conversation_id}/export",
    summary="Exporter la conversation (Markdown, DOCX, ODT), étiquetée et vérifiable",
    response_class=Response,
)
async def export_conversation(
    conversation_id: uuid.UUID,
    principal: Chatter,
    runtime: RuntimeDep,
    client: ClientDep,
    format: ExportFormat = "md",
) -> Response:
    exported = await service.export_conversation(
        runtime, principal=principal, client=client, conversation_id=conversation_id, file_format=format
    )
    return _download(exported)


@router.get(
    "/{conversation_id}/messages/{message_id}/export",
    summary="Exporter une réponse (avec sa question), étiquetée et vérifiable",
    response_class=Response,
)
async def export_message(
    conversation_id: uuid.UUID,
    message_id: uuid.UUID,
    principal: Chatter,
    runtime: RuntimeDep,
    client: ClientDep,
    format: ExportFormat = "md",
) -> Response:
    exported = await service.export_conversation(
        runtime,
        principal=principal,
        client=client,
        conversation_id=conversation_id,
        file_format=format,
        message_id=message_id,
    )
    return _download(exported)
