"""Agents' feedback on answers: 👍/👎 with a reason and a comment, turned into an incident report in one step.

Only the owner of a conversation rates its answers (others get « introuvable »). The model and the cited
documents are copied from the answer's provenance when the feedback is given, so satisfaction per model stays
right once the conversation is gone or the model withdrawn. The audit log records who rated what and how,
never the comment.
"""

from __future__ import annotations

import uuid

from assistant.audit import ClientInfo
from assistant.errors import InvalidRequestError, NotFoundError
from assistant.provenance import Manifest, Provenance
from assistant.runtime import Runtime
from assistant.security import Permission, Principal
from assistant.services.chat.conversations import owned_conversation
from assistant.services.chat.views import FeedbackView
from assistant.services.governance.incidents import report_incident
from assistant.store import conversations as conversation_store
from assistant.store import feedback as store
from assistant.store import utcnow
from assistant.store.models import (
    ConversationMessage,
    FeedbackRating,
    FeedbackReason,
    IncidentCategory,
    MessageFeedback,
    MessageRole,
)

__all__ = ["give_feedback", "withdraw_feedback"]

# The incident category a 👎 becomes when its author also reports it.
_INCIDENT_CATEGORIES = {
    FeedbackReason.INACCURATE: IncidentCategory.FACTUAL_ERROR,
    FeedbackReason.BIAS: IncidentCategory.BIAS,
}


async def _rated_message(
    runtime: Runtime, principal: Principal, conversation_id: uuid.UUID, message_id: uuid.UUID
) -> ConversationMessage:
    async with runtime.session_factory() as session:
        conversation = await owned_conversation(session, conversation_id, principal)
        message = await conversation_store.get_message(
            session=session, conversation_id=conversation.id, message_id=message_id
        )
    if message is None:
        raise NotFoundError("Message introuvable.")
    if message.role is not MessageRole.ASSISTANT or not message.content.strip():
        raise InvalidRequestError("Seule une réponse générée peut recevoir un avis.")
    return message


def _sources(provenance: Provenance | None) -> list[dict[str, str | None]]:
    # One entry per cited document (an answer may cite several passages of one document).
    seen: dict[str, str | None] = {}
    for source in provenance.sources if provenance is not None else ():
        seen.setdefault(source.document_id, source.title)
    return [{"document_id": document_id, "title": title} for document_id, title in seen.items()]


async def _report(
    runtime: Runtime,
    principal: Principal,
    client: ClientInfo,
    message: ConversationMessage,
    reason: FeedbackReason | None,
    comment: str | None,
) -> uuid.UUID:
    manifest = Manifest.model_validate(message.manifest) if message.manifest else None
    provenance = Provenance.model_validate(message.provenance) if message.provenance else None
    label = reason.label if reason is not None else "sans motif"
    description = comment or f"Réponse jugée à améliorer ({label.lower()})."
    report = await report_incident(
        runtime,
        reporter=principal,
        category=_INCIDENT_CATEGORIES.get(reason, IncidentCategory.OTHER) if reason else IncidentCategory.OTHER,
        description=description,
        excerpt=message.content,
        provenance=None if manifest is not None else provenance,
        manifest=manifest,
        model_id=message.model_id,
        message_ref=str(message.id),
        client=client,
    )
    return report.id


async def give_feedback(
    runtime: Runtime,
    *,
    principal: Principal,
    client: ClientInfo,
    conversation_id: uuid.UUID,
    message_id: uuid.UUID,
    rating: FeedbackRating,
    reason: FeedbackReason | None = None,
    comment: str | None = None,
    report: bool = False,
) -> FeedbackView:
    """Give or change the caller's feedback on an answer; with ``report``, a 👎 also becomes an incident report
    for the référents (once: a second request keeps the first report)."""
    comment = (comment or "").strip() or None
    if rating is FeedbackRating.UP and (reason is not None or report):
        raise InvalidRequestError("Un motif ou un signalement ne s'ajoute qu'à une réponse jugée à améliorer.")
    if report:
        principal.require(Permission.REPORT_INCIDENT)
    message = await _rated_message(runtime, principal, conversation_id, message_id)
    provenance = Provenance.model_validate(message.provenance) if message.provenance else None
    async with runtime.session_factory.begin() as session:
        feedback = await store.get_feedback(session=session, message_id=message.id, user_id=principal.user_id)
        if feedback is None:
            feedback = await store.add_feedback(
                session=session,
                feedback=MessageFeedback(message_id=message.id, user_id=principal.user_id, rating=rating),
            )
        feedback.rating = rating
        feedback.reason = reason
        feedback.comment = comment
        feedback.model_id = provenance.model_id if provenance is not None else message.model_id
        feedback.sources = _sources(provenance)
        feedback.updated_at = utcnow()
        await session.flush()
        reported = feedback.incident_id
    if report and reported is None:
        reported = await _report(runtime, principal, client, message, reason, comment)
        async with runtime.session_factory.begin() as session:
            stored = await store.get_feedback(session=session, message_id=message.id, user_id=principal.user_id)
            if stored is not None:
                stored.incident_id = reported
                feedback = stored
    await runtime.audit.record(
        category="audit",
        action="conversation.feedback",
        actor_id=principal.user_id,
        actor_label=principal.username,
        resource_type="conversation_message",
        resource_id=str(message.id),
        client=client,
        details={
            "conversation_id": str(conversation_id),
            "rating": rating.value,
            "reason": reason.value if reason else None,
            "model": feedback.model_id,
            "commented": comment is not None,
            "incident_id": str(reported) if reported else None,
        },
    )
    return FeedbackView.of(feedback)


async def withdraw_feedback(
    runtime: Runtime, *, principal: Principal, client: ClientInfo, conversation_id: uuid.UUID, message_id: uuid.UUID
) -> None:
    """Remove the caller's feedback on an answer (an incident report made from it stays with the référents)."""
    message = await _rated_message(runtime, principal, conversation_id, message_id)
    async with runtime.session_factory.begin() as session:
        feedback = await store.get_feedback(session=session, message_id=message.id, user_id=principal.user_id)
        if feedback is None:
            raise NotFoundError("Aucun avis à retirer sur cette réponse.")
        await store.delete_feedback(session=session, feedback=feedback)
    await runtime.audit.record(
        category="audit",
        action="conversation.feedback_withdrawn",
        actor_id=principal.user_id,
        actor_label=principal.username,
        resource_type="conversation_message",
        resource_id=str(message.id),
        client=client,
        details={"conversation_id": str(conversation_id)},
    )
