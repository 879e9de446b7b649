"""Continuing a conversation: store the user's message, generate the answer (whole or streamed), keep it.

Two builders, as in the gateway: :func:`_full_reply` returns the stored exchange, :func:`_stream_reply` yields
SSE events (``message_start`` … ``delta`` … ``message_end`` | ``error``) whose first and last carry the label.

Whatever happens, the answer is saved: a client that disconnects mid-stream or a model server that fails
leaves the text generated so far, signed, marked ``incomplete``. Saving runs shielded from cancellation,
because a disconnect cancels the task that was streaming.
"""

from __future__ import annotations

import logging
import math
import uuid
from collections.abc import AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass, field

import anyio

from assistant.audit import ClientInfo
from assistant.core.sse import sse_event
from assistant.errors import InvalidRequestError
from assistant.guard import GuardConfirmation, GuardNotice
from assistant.llm import LLMError, Message, RegisteredModel
from assistant.provenance import Provenance, SourceRef, ai_headers
from assistant.runtime import Runtime
from assistant.security import Principal
from assistant.services.chat.conversations import DEFAULT_TITLE, owned_conversation
from assistant.services.chat.projects import owned_project
from assistant.services.chat.views import ExchangeView, MessageView
from assistant.services.gateway.generation import (
    FixedAnswer,
    Generation,
    check_forbidden_uses,
    check_sovereignty,
    parse_sensitivity,
)
from assistant.services.gateway.labelling import provenance_for
from assistant.services.gateway.model_access import resolve_model
from assistant.services.gateway.quotas import ensure_tokens_available, record_tokens
from assistant.services.gateway.usage import record_usage
from assistant.services.knowledge.grounding import Grounding, collection_ids_of, ground
from assistant.services.knowledge.grounding import classification as classification_of
from assistant.store import conversations as store
from assistant.store.models import ConversationMessage, MessageRole, Project, UsageService

__all__ = ["Reply", "send_message"]

logger = logging.getLogger(__name__)

_TITLE_CHARS = 80


@dataclass
class Reply:
    """What the route sends back: the stored exchange, or an SSE stream; plus the labelling headers."""

    provenance: Provenance
    exchange: ExchangeView | None = None
    stream: AsyncIterator[str] | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class _Turn:
    conversation_id: uuid.UUID
    user_message: ConversationMessage
    answer_id: uuid.UUID
    model: RegisteredModel
    provenance: Provenance
    generation: Generation
    guard: list[GuardNotice] = field(default_factory=list)


def _title_from(content: str) -> str:
    words = " ".join(content.split())
    return words if len(words) <= _TITLE_CHARS else words[: _TITLE_CHARS - 1].rsplit(" ", 1)[0] + "…"


def _system_prompt(runtime: Runtime, project: Project | None) -> str:
    """The service's system prompt, followed by the standing instructions of the conversation's project."""
    system = runtime.settings.chat_system_prompt
    if project is None or not project.instructions:
        return system
    standing = f"Consignes permanentes de l'utilisateur pour ce projet (« {project.name} ») :\n{project.instructions}"
    return f"{system}\n\n{standing}" if system else standing


def _history(
    runtime: Runtime,
    model: RegisteredModel,
    past: list[ConversationMessage],
    content: str,
    project: Project | None = None,
) -> list[Message]:
    """System prompt (with the project's instructions), as many recent messages as the budget allows, then the
    new message."""
    budget = runtime.settings.chat_history_tokens
    if model.context_length:
        budget = min(budget, model.context_length // 2)
    kept: list[Message] = []
    for message in reversed(past):
        if not message.content:
            continue
        budget -= math.ceil(len(message.content) / 4)
        if budget < 0:
            break
        kept.append({"role": message.role.value, "content": message.content})
    system = _system_prompt(runtime, project)
    prefix: list[Message] = [{"role": "system", "content": system}] if system else []
    return [*prefix, *reversed(kept), {"role": "user", "content": content}]


async def send_message(
    runtime: Runtime,
    *,
    principal: Principal,
    client: ClientInfo,
    conversation_id: uuid.UUID,
    content: str,
    stream: bool,
    model_id: str | None = None,
    sensitivity: str | None = None,
    guard_confirmation: GuardConfirmation | None = None,
    collections: list[str] | None = None,
) -> Reply:
    """Add the user's message to one of their conversations and answer it.

    With ``collections``, the answer is grounded in passages retrieved there (read access checked first): they
    are fenced as data in a system message, listed in the answer's provenance, and their classification raises
    the request's sensitivity. In a project, its instructions join the system prompt and its collections are
    used when the message names none.
    """
    if not content.strip():
        raise InvalidRequestError("Message vide : écrivez votre question.")
    async with runtime.session_factory() as session:
        conversation = await owned_conversation(session, conversation_id, principal)
        past = await store.list_messages(session=session, conversation_id=conversation.id)
        project = await owned_project(session, conversation.project_id, principal) if conversation.project_id else None
    model = await resolve_model(runtime, model_id or conversation.model_id, principal=principal)
    messages = _history(runtime, model, past, content, project)
    texts = [str(message["content"]) for message in messages if message["role"] != "system"]
    if project is not None and project.instructions:
        texts.append(project.instructions)  # they go to the model: the sensitivity check reads them too
    collections = collections or (list(project.collection_ids) if project is not None else None)
    sources: list[SourceRef] = []
    # The conversation carries the highest classification it has touched: answers drawn from an internal
    # collection stay in the history sent with every later message, whichever model it goes to.
    classification = await classification_of(runtime, _collections_touched(past))
    grounding: Grounding | None = None
    if collections:
        grounding = await _grounding(runtime, principal, model, content, collections, messages)
        if not grounding.declined:
            messages = grounding.messages(messages)
            sources = grounding.sources()
            classification = max(classification, grounding.classification)
            # The passages go to the model too: the personal-data detector reads them, as on /v1.
            texts.extend(passage.text for passage in grounding.passages)
    await check_sovereignty(
        runtime,
        texts,
        model,
        declared=parse_sensitivity(sensitivity),
        collections=classification,
        principal=principal,
        client=client,
    )
    notices = await check_forbidden_uses(
        runtime, [content], principal=principal, client=client, surface="chat", confirmation=guard_confirmation
    )
    await ensure_tokens_available(runtime, principal)
    async with runtime.session_factory.begin() as session:
        conversation = await owned_conversation(session, conversation_id, principal)
        user_message = await store.add_message(
            session=session, conversation_id=conversation.id, role=MessageRole.USER, content=content
        )
        # A placeholder: even if the process dies mid-answer, the conversation shows an incomplete answer.
        answer = await store.add_message(
            session=session,
            conversation_id=conversation.id,
            role=MessageRole.ASSISTANT,
            content="",
            model_id=model.id,
            incomplete=True,
        )
        changes: dict[str, object] = {"model_id": model.id}
        if not conversation.title_is_custom and conversation.title == DEFAULT_TITLE:
            changes["title"] = _title_from(content)
        await store.touch_conversation(session=session, conversation=conversation, **changes)
    provenance = provenance_for(model, request_id=client.request_id, sources=sources)
    # A question the collections cannot answer gets the fixed decline: labelled and stored like any answer.
    generation = (
        FixedAnswer(runtime, model, messages, answer=grounding.decline_text())
        if grounding is not None and grounding.declined
        else Generation(runtime, model, messages)
    )
    turn = _Turn(conversation.id, user_message, answer.id, model, provenance, generation, notices)
    headers = ai_headers(provenance)
    if stream:
        return Reply(provenance, stream=_stream_reply(runtime, principal, turn), headers=headers)
    return Reply(provenance, exchange=await _full_reply(runtime, principal, turn), headers=headers)


def _collections_touched(past: list[ConversationMessage]) -> set[uuid.UUID]:
    """The collections earlier answers of the conversation drew on, from their stored provenance."""
    touched: set[uuid.UUID] = set()
    for message in past:
        for source in (message.provenance or {}).get("sources") or []:
            collection_id = source.get("collection_id") if isinstance(source, dict) else None
            if collection_id:
                try:
                    touched.add(uuid.UUID(str(collection_id)))
                except ValueError:
                    touched.add(uuid.UUID(int=0))  # unreadable: counted as a collection that no longer exists
    return touched


async def _grounding(
    runtime: Runtime,
    principal: Principal,
    model: RegisteredModel,
    content: str,
    collections: list[str],
    history: list[Message],
) -> Grounding:
    """The same grounding as /v1 and /api/rag/answer: ACL, retrieval, answerability, passages fitted to the window."""
    return await ground(
        runtime, principal, content, model=model, collection_ids=collection_ids_of(collections), history=history
    )


async def _save_answer(runtime: Runtime, principal: Principal, turn: _Turn) -> MessageView | None:
    """Store the answer as it stands (complete or not), count its tokens, record its usage."""
    generation = turn.generation
    measure = generation.measure()
    incomplete = not generation.finished
    await record_tokens(runtime, principal, measure.prompt_tokens + measure.completion_tokens)
    await record_usage(
        runtime,
        principal=principal,
        model_id=turn.model.id,
        service=UsageService.CHAT,
        measure=measure,
        incomplete=incomplete,
    )
    text = generation.text
    async with runtime.session_factory.begin() as session:
        answer = await session.get(ConversationMessage, turn.answer_id)
        if answer is None:
            return None  # the conversation was deleted meanwhile
        if incomplete and not text:
            await store.delete_message(session=session, message_id=answer.id)
            return None
        answer.content = text
        answer.incomplete = incomplete
        # A loop cut by the model server is told apart from a natural end, so the page can say so.
        answer.finish_reason = "repetition" if generation.stop_reason == "repetition" else generation.finish_reason
        answer.error_code = generation.error.code if generation.error else None
        answer.provenance = turn.provenance.model_dump(mode="json")
        answer.manifest = runtime.signer.sign(text, turn.provenance).model_dump(mode="json", by_alias=True)
        answer.usage = measure.usage().model_dump(mode="json")
        await session.flush()
    if incomplete:
        logger.info("answer %s saved incomplete (%d chars)", turn.answer_id, len(text))
    return MessageView.of(answer)


async def _full_reply(runtime: Runtime, principal: Principal, turn: _Turn) -> ExchangeView:
    try:
        await turn.generation.run()
    except LLMError as exc:
        saved = await _save_answer(runtime, principal, turn)
        if saved is not None:
            exc.details = {"message": saved.model_dump(mode="json", by_alias=True)}
        raise
    saved = await _save_answer(runtime, principal, turn)
    if saved is None:
        raise InvalidRequestError("La conversation a été supprimée pendant la génération de la réponse.")
    return ExchangeView(
        conversation_id=turn.conversation_id,
        user_message=MessageView.of(turn.user_message),
        message=saved,
        guard=turn.guard or None,
    )


async def _stream_reply(runtime: Runtime, principal: Principal, turn: _Turn) -> AsyncIterator[str]:
    saved: MessageView | None = None
    done = False
    try:
        if turn.guard:
            yield sse_event("guard", {"notices": [notice.model_dump(mode="json") for notice in turn.guard]})
        yield sse_event(
            "message_start",
            {
                "conversation_id": str(turn.conversation_id),
                "message_id": str(turn.answer_id),
                "user_message": MessageView.of(turn.user_message).model_dump(mode="json", by_alias=True),
                "model": turn.model.id,
                "ai_generated": True,
                "provenance": turn.provenance.model_dump(mode="json"),
            },
        )
        try:
            async with aclosing(turn.generation.deltas()) as pieces:
                async for piece in pieces:
                    yield sse_event("delta", {"content": piece})
        except LLMError as exc:
            with anyio.CancelScope(shield=True):
                saved, done = await _save_answer(runtime, principal, turn), True
            error = {"message": exc.message, "type": "upstream_error", "code": exc.code}
            body: dict[str, object] = {"error": error, "ai_generated": True, "incomplete": True}
            body["message"] = saved.model_dump(mode="json", by_alias=True) if saved else None
            yield sse_event("error", body)
            return
        with anyio.CancelScope(shield=True):
            saved, done = await _save_answer(runtime, principal, turn), True
        yield sse_event(
            "message_end",
            {"ai_generated": True, "message": saved.model_dump(mode="json", by_alias=True) if saved else None},
        )
    finally:
        if not done:
            # The client went away (the response task was cancelled or the generator closed): keep what came.
            with anyio.CancelScope(shield=True):
                await _save_answer(runtime, principal, turn)
