"""Conversations: create, list, read, rename, delete, review an answer, export (design §3, §4).

Every conversation is private to its owner: another user gets « introuvable » (404), never « interdit ».
Sending a message and generating the answer lives in :mod:`assistant.services.chat.replies`.
"""

from __future__ import annotations

import enum
import re
import unicodedata
import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from assistant.audit import ClientInfo
from assistant.errors import InvalidRequestError, NotFoundError
from assistant.exports import MEDIA_TYPES, ExportDocument, ExportFormat, ExportItem, render_export
from assistant.provenance import Manifest
from assistant.runtime import Runtime
from assistant.security import Principal, require_owner
from assistant.services.chat.projects import owned_project
from assistant.services.chat.views import ConversationDetail, ConversationPage, ConversationSummary, MessageView
from assistant.services.gateway.model_access import resolve_model
from assistant.store import conversations as store
from assistant.store import feedback as feedback_store
from assistant.store.models import Conversation, ConversationMessage, MessageRole

__all__ = [
    "DEFAULT_TITLE",
    "UNSET",
    "ExportFile",
    "Unset",
    "create_conversation",
    "delete_conversation",
    "export_conversation",
    "get_conversation",
    "list_conversations",
    "owned_conversation",
    "review_message",
    "update_conversation",
]

DEFAULT_TITLE = "Nouvelle conversation"
_WHAT = "Conversation"
_MAX_QUERY_CHARS = 200


class Unset(enum.Enum):
    """The marker of an argument not given (``None`` is a value: « out of any project »)."""

    UNSET = "unset"


UNSET = Unset.UNSET


async def owned_conversation(session: AsyncSession, conversation_id: uuid.UUID, principal: Principal) -> Conversation:
    """The conversation if the caller owns it; 404 otherwise (existence is not revealed)."""
    conversation = await store.get_conversation(session=session, conversation_id=conversation_id)
    require_owner(conversation.owner_id if conversation else None, principal, what=_WHAT)
    assert conversation is not None
    return conversation


async def _audit(
    runtime: Runtime, action: str, principal: Principal, client: ClientInfo, resource_id: uuid.UUID, **details: object
) -> None:
    await runtime.audit.record(
        category="audit",
        action=action,
        actor_id=principal.user_id,
        actor_label=principal.username,
        resource_type="conversation",
        resource_id=str(resource_id),
        client=client,
        details=dict(details),
    )


async def create_conversation(
    runtime: Runtime,
    *,
    principal: Principal,
    client: ClientInfo,
    title: str | None,
    model_id: str | None,
    project_id: uuid.UUID | None = None,
) -> ConversationSummary:
    """A new, empty conversation with the given (or default) model, in one of the caller's projects if given."""
    model = await resolve_model(runtime, model_id, principal=principal)
    async with runtime.session_factory.begin() as session:
        if project_id is not None:
            await owned_project(session, project_id, principal)
        conversation = await store.add_conversation(
            session=session,
            owner_id=principal.user_id,
            title=title or DEFAULT_TITLE,
            model_id=model.id,
            project_id=project_id,
        )
        conversation.title_is_custom = bool(title)
    await _audit(runtime, "conversation.create", principal, client, conversation.id, model=model.id)
    return ConversationSummary.of(conversation)


async def list_conversations(
    runtime: Runtime,
    *,
    principal: Principal,
    limit: int,
    offset: int,
    project_id: uuid.UUID | str | None = None,
    query: str | None = None,
) -> ConversationPage:
    """A page of the caller's conversations: all, one project's (``store.NO_PROJECT``: unfiled ones), and/or
    those whose title or messages contain ``query`` (each with an excerpt of the first matching message)."""
    query = " ".join((query or "").split()) or None
    if query is not None and len(query) > _MAX_QUERY_CHARS:
        raise InvalidRequestError(f"Recherche trop longue : {_MAX_QUERY_CHARS} caractères au plus.")
    async with runtime.session_factory() as session:
        if isinstance(project_id, uuid.UUID):
            await owned_project(session, project_id, principal)
        rows, total = await store.list_conversations(
            session=session,
            owner_id=principal.user_id,
            limit=limit,
            offset=offset,
            project_id=project_id,
            query=query,
        )
        matches = (
            await store.first_matches(session=session, conversation_ids=[row.id for row in rows], query=query)
            if query
            else {}
        )
    items = [
        ConversationSummary.of(row, _excerpt(matches[row.id].content, query) if row.id in matches and query else None)
        for row in rows
    ]
    return ConversationPage(items=items, total=total, limit=limit, offset=offset)


def _excerpt(text: str, query: str, *, around: int = 80) -> str:
    """The words around the first occurrence of ``query`` in ``text``, with ellipses where it was cut."""
    flat = " ".join(text.split())
    at = flat.casefold().find(query.casefold())
    if at < 0:
        return flat[: 2 * around] + ("…" if len(flat) > 2 * around else "")
    start, end = max(0, at - around), min(len(flat), at + len(query) + around)
    return ("…" if start else "") + flat[start:end] + ("…" if end < len(flat) else "")


async def get_conversation(runtime: Runtime, *, principal: Principal, conversation_id: uuid.UUID) -> ConversationDetail:
    """One of the caller's conversations with its messages."""
    async with runtime.session_factory() as session:
        conversation = await owned_conversation(session, conversation_id, principal)
        messages = await store.list_messages(session=session, conversation_id=conversation.id)
        feedback = await feedback_store.list_conversation_feedback(
            session=session, conversation_id=conversation.id, user_id=principal.user_id
        )
    return ConversationDetail(
        **ConversationSummary.of(conversation).model_dump(),
        messages=[MessageView.of(m, feedback.get(m.id)) for m in messages],
    )


async def update_conversation(
    runtime: Runtime,
    *,
    principal: Principal,
    client: ClientInfo,
    conversation_id: uuid.UUID,
    title: str | None = None,
    model_id: str | None = None,
    move_to: uuid.UUID | Unset | None = UNSET,
) -> ConversationSummary:
    """Rename a conversation, switch the model its next answers come from, and/or move it into one of the
    caller's projects (``move_to=None``: out of any project)."""
    changes: dict[str, object] = {}
    if title is not None:
        changes.update(title=title, title_is_custom=True)
    if model_id is not None:
        changes["model_id"] = (await resolve_model(runtime, model_id, principal=principal)).id
    async with runtime.session_factory.begin() as session:
        if not isinstance(move_to, Unset):
            if move_to is not None:
                await owned_project(session, move_to, principal)
            changes["project_id"] = move_to
        conversation = await owned_conversation(session, conversation_id, principal)
        await store.touch_conversation(session=session, conversation=conversation, **changes)
    await _audit(runtime, "conversation.update", principal, client, conversation_id, fields=sorted(changes))
    return ConversationSummary.of(conversation)


async def delete_conversation(
    runtime: Runtime, *, principal: Principal, client: ClientInfo, conversation_id: uuid.UUID
) -> None:
    """Delete a conversation and all its messages."""
    async with runtime.session_factory.begin() as session:
        conversation = await owned_conversation(session, conversation_id, principal)
        await store.delete_conversation(session=session, conversation_id=conversation.id)
    await _audit(runtime, "conversation.delete", principal, client, conversation_id)


async def _owned_message(
    session: AsyncSession, conversation_id: uuid.UUID, message_id: uuid.UUID, principal: Principal
) -> tuple[Conversation, ConversationMessage]:
    conversation = await owned_conversation(session, conversation_id, principal)
    message = await store.get_message(session=session, conversation_id=conversation.id, message_id=message_id)
    if message is None:
        raise NotFoundError("Message introuvable.")
    return conversation, message


async def review_message(
    runtime: Runtime, *, principal: Principal, client: ClientInfo, conversation_id: uuid.UUID, message_id: uuid.UUID
) -> MessageView:
    """Mark an answer « relu et validé »: a new signed manifest with ``human_reviewed``; the AI label stays."""
    async with runtime.session_factory.begin() as session:
        _, message = await _owned_message(session, conversation_id, message_id, principal)
        if message.role is not MessageRole.ASSISTANT or message.manifest is None:
            raise InvalidRequestError("Seule une réponse générée (et terminée d'enregistrer) peut être relue.")
        reviewed = runtime.signer.mark_reviewed(
            Manifest.model_validate(message.manifest), message.content, reviewer=principal.username
        )
        message.manifest = reviewed.model_dump(mode="json", by_alias=True)
        message.provenance = reviewed.provenance.model_dump(mode="json")
        await session.flush()
        feedback = await feedback_store.get_feedback(session=session, message_id=message.id, user_id=principal.user_id)
    await runtime.audit.record(
        category="audit",
        action="conversation.message_reviewed",
        actor_id=principal.user_id,
        actor_label=principal.username,
        resource_type="conversation_message",
        resource_id=str(message_id),
        client=client,
        details={"conversation_id": str(conversation_id)},
    )
    return MessageView.of(message, feedback)


@dataclass(frozen=True)
class ExportFile:
    """An export ready to download."""

    filename: str
    media_type: str
    data: bytes


def _slug(title: str) -> str:
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^A-Za-z0-9]+", "-", ascii_title).strip("-").lower()[:60] or "conversation"


def _item(message: ConversationMessage, author: str) -> ExportItem | None:
    if message.role is MessageRole.USER:
        return ExportItem(role="user", text=message.content, author=author)
    if message.manifest is None:
        return None  # an answer still being generated has nothing signed to export yet
    return ExportItem(role="assistant", text=message.content, manifest=Manifest.model_validate(message.manifest))


async def export_conversation(
    runtime: Runtime,
    *,
    principal: Principal,
    client: ClientInfo,
    conversation_id: uuid.UUID,
    file_format: ExportFormat,
    message_id: uuid.UUID | None = None,
) -> ExportFile:
    """The whole conversation, or one answer (with the question it answers), as Markdown, DOCX or ODT."""
    async with runtime.session_factory() as session:
        if message_id is None:
            conversation = await owned_conversation(session, conversation_id, principal)
            messages = await store.list_messages(session=session, conversation_id=conversation.id)
            title = conversation.title
        else:
            conversation, answer = await _owned_message(session, conversation_id, message_id, principal)
            if answer.role is not MessageRole.ASSISTANT:
                raise InvalidRequestError("Seule une réponse générée s'exporte seule ; exportez la conversation.")
            history = await store.list_messages(session=session, conversation_id=conversation.id)
            question = [m for m in history if m.role is MessageRole.USER and m.position < answer.position][-1:]
            messages = [*question, answer]
            title = f"{conversation.title} — réponse"
    items = tuple(item for item in (_item(m, principal.username) for m in messages) if item is not None)
    if not any(item.role == "assistant" for item in items):
        raise InvalidRequestError("Rien à exporter : cette conversation ne contient encore aucune réponse.")
    document = ExportDocument(
        title=title,
        items=items,
        created_at=conversation.created_at,
        author=principal.username,
        models=tuple(sorted({m.model_id for m in messages if m.model_id})),
    )
    data = render_export(document, file_format)
    await _audit(
        runtime, "conversation.export", principal, client, conversation_id, format=file_format, message=str(message_id)
    )
    return ExportFile(f"{_slug(title)}.{file_format}", MEDIA_TYPES[file_format], data)
