"""Sharing a conversation inside the administration: with named users and groups, read-only or as a copy the
recipient continues, revocable, audited (design §3).

What is shared is the conversation as it stood when shared: its messages are frozen in the share, with the AI
label, provenance and signed manifest of every answer, so later edits by the owner change nothing.

Cited passages never reach someone who may not read their collection: each reader's rights are checked when they
read (they may have changed since the share), and a source of a collection they cannot read is shown as
« source non accessible », without its excerpt. The answer's text stays (it is the owner's answer). Since the
sources are part of the signed provenance, a manifest whose sources had to be masked is signed again by this
service over the same content hash, so that it still verifies — and only when the stored one verified, so that
nothing altered is ever given a fresh signature.

A share that is not the caller's, or that names neither them nor one of their groups, or that was revoked, is
« introuvable » (404). A copy already continued belongs to its recipient and stays theirs after revocation.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from assistant.audit import ClientInfo
from assistant.errors import InvalidRequestError, NotFoundError, PermissionDeniedError, SouverainError
from assistant.provenance import Manifest, Provenance, SourceRef
from assistant.runtime import Runtime
from assistant.security import Principal
from assistant.services.chat.conversations import get_conversation, owned_conversation
from assistant.services.chat.views import ConversationDetail, MessageView
from assistant.services.gateway.model_access import resolve_model
from assistant.services.knowledge.collections import readable_versions
from assistant.store import conversations as conversation_store
from assistant.store import groups as group_store
from assistant.store import shares as store
from assistant.store import users as user_store
from assistant.store import utcnow
from assistant.store.models import ConversationMessage, ConversationShare, MessageRole, ShareMode

__all__ = [
    "MASKED_SOURCE_TITLE",
    "ReceivedShareView",
    "ShareView",
    "SharedConversationView",
    "continue_copy",
    "delete_my_shares",
    "export_my_shares",
    "list_conversation_shares",
    "list_received_shares",
    "read_share",
    "revoke_share",
    "share_conversation",
]

MASKED_SOURCE_TITLE = "source non accessible"
_MAX_RECIPIENTS = 50
_WHAT = "Partage"


class ShareView(BaseModel):
    """A share as its owner lists it."""

    id: uuid.UUID
    conversation_id: uuid.UUID
    title: str = Field(description="Titre de la conversation au moment du partage.")
    mode: ShareMode = Field(description="snapshot : lecture seule ; copy : copie que le destinataire poursuit.")
    mode_label: str
    users: list[str] = Field(description="Identifiants des agents destinataires.")
    groups: list[str] = Field(description="Groupes destinataires (tous leurs membres).")
    message_count: int = Field(description="Nombre de messages partagés.")
    created_at: datetime
    revoked_at: datetime | None = Field(default=None, description="Révoqué : plus personne n'y a accès.")


class ReceivedShareView(BaseModel):
    """A conversation shared with the caller, as « Partagés avec moi » lists it."""

    id: uuid.UUID
    title: str
    owner: str = Field(description="Agent qui a partagé la conversation.")
    mode: ShareMode
    mode_label: str
    message_count: int
    created_at: datetime


class SharedConversationView(ReceivedShareView):
    """A shared conversation as one reader may see it: every answer labelled, with its provenance and manifest."""

    masked_sources: int = Field(
        description="Sources remplacées par « source non accessible » : collections que vous ne pouvez pas lire."
    )
    messages: list[MessageView] = Field(description="Messages tels qu'ils étaient au moment du partage.")


# ---- Freezing and masking ---------------------------------------------------------------------------------


def _freeze(message: ConversationMessage) -> dict[str, Any]:
    """A message as the share keeps it (JSON), whatever the owner does with the conversation afterwards."""
    return {
        "id": str(message.id),
        "position": message.position,
        "role": message.role.value,
        "content": message.content,
        "created_at": message.created_at.isoformat(),
        "model_id": message.model_id,
        "incomplete": message.incomplete,
        "finish_reason": message.finish_reason,
        "error_code": message.error_code,
        "provenance": message.provenance,
        "manifest": message.manifest,
        "usage": message.usage,
    }


def _masked_source() -> SourceRef:
    return SourceRef(document_id="", title=MASKED_SOURCE_TITLE)


def _mask(
    runtime: Runtime, frozen: dict[str, Any], readable: set[str]
) -> tuple[dict[str, Any] | None, dict[str, Any] | None, int]:
    """The provenance and manifest of a frozen message for a reader of ``readable`` collections, and how many
    sources were masked."""
    if not frozen.get("provenance"):
        return frozen.get("provenance"), frozen.get("manifest"), 0
    provenance = Provenance.model_validate(frozen["provenance"])
    # A source outside any collection cannot be checked: it is masked too (deny by default).
    sources = tuple(s if s.collection_id in readable else _masked_source() for s in provenance.sources)
    masked = sum(1 for kept, source in zip(sources, provenance.sources, strict=True) if kept is not source)
    if not masked:
        return frozen["provenance"], frozen.get("manifest"), 0
    shown = provenance.model_copy(update={"sources": sources})
    manifest = None
    if frozen.get("manifest"):
        stored = Manifest.model_validate(frozen["manifest"])
        if runtime.signer.verify(stored, frozen["content"]).valid:
            manifest = runtime.signer.sign(frozen["content"], shown, content_type=stored.content_type).model_dump(
                mode="json", by_alias=True
            )
    return shown.model_dump(mode="json"), manifest, masked


def _thaw(
    runtime: Runtime, frozen: dict[str, Any], readable: set[str], *, conversation_id: uuid.UUID, position: int
) -> tuple[ConversationMessage, int]:
    """A (transient) message rebuilt from the share for one reader, and how many of its sources were masked."""
    provenance, manifest, masked = _mask(runtime, frozen, readable)
    message = ConversationMessage(
        id=uuid.UUID(frozen["id"]),
        conversation_id=conversation_id,
        position=position,
        role=MessageRole(frozen["role"]),
        content=frozen["content"],
        created_at=datetime.fromisoformat(frozen["created_at"]),
        model_id=frozen.get("model_id"),
        incomplete=bool(frozen.get("incomplete")),
        finish_reason=frozen.get("finish_reason"),
        error_code=frozen.get("error_code"),
        provenance=provenance,
        manifest=manifest,
        usage=frozen.get("usage"),
    )
    return message, masked


async def _readable(runtime: Runtime, principal: Principal) -> set[str]:
    return {str(collection_id) for collection_id in await readable_versions(runtime, principal, None)}


# ---- Views ------------------------------------------------------------------------------------------------


async def _share_views(session: AsyncSession, shares: Sequence[ConversationShare]) -> list[ShareView]:
    recipients = await store.recipients_of(session=session, share_ids=[share.id for share in shares])
    return [
        ShareView(
            id=share.id,
            conversation_id=share.conversation_id,
            title=share.title,
            mode=share.mode,
            mode_label=share.mode.label,
            users=recipients[share.id][0],
            groups=recipients[share.id][1],
            message_count=len(share.messages or []),
            created_at=share.created_at,
            revoked_at=share.revoked_at,
        )
        for share in shares
    ]


async def _received_views(session: AsyncSession, shares: Sequence[ConversationShare]) -> list[ReceivedShareView]:
    owners = await user_store.usernames_by_id(session=session, user_ids={share.owner_id for share in shares})
    return [
        ReceivedShareView(
            id=share.id,
            title=share.title,
            owner=owners.get(share.owner_id, "compte supprimé"),
            mode=share.mode,
            mode_label=share.mode.label,
            message_count=len(share.messages or []),
            created_at=share.created_at,
        )
        for share in shares
    ]


async def _audit(
    runtime: Runtime, action: str, principal: Principal, client: ClientInfo, share_id: uuid.UUID, **details: object
) -> None:
    await runtime.audit.record(
        category="audit",
        action=action,
        actor_id=principal.user_id,
        actor_label=principal.username,
        resource_type="conversation_share",
        resource_id=str(share_id),
        client=client,
        details=dict(details),
    )


# ---- Sharing and revoking ---------------------------------------------------------------------------------


def _names(values: Sequence[str], what: str) -> list[str]:
    names = sorted({value.strip() for value in values if value.strip()})
    if len(names) > _MAX_RECIPIENTS:
        raise InvalidRequestError(f"Trop de {what} ({len(names)}) : {_MAX_RECIPIENTS} au plus.")
    return names


async def _recipients(
    session: AsyncSession, principal: Principal, usernames: Sequence[str], group_names: Sequence[str]
) -> tuple[list[uuid.UUID], list[uuid.UUID]]:
    users, groups = _names(usernames, "destinataires"), _names(group_names, "groupes")
    if not users and not groups:
        raise InvalidRequestError("Choisissez au moins un agent ou un groupe avec qui partager la conversation.")
    if principal.username in users:
        raise InvalidRequestError("Vous ne pouvez pas partager une conversation avec vous-même.")
    found_users = {name: await user_store.get_user_by_username(session=session, username=name) for name in users}
    unknown = [name for name, user in found_users.items() if user is None or not user.is_active]
    if unknown:
        raise InvalidRequestError(f"Agent inconnu ou désactivé : {', '.join(f'« {name} »' for name in unknown)}.")
    found_groups = {name: await group_store.get_group_by_name(session=session, name=name) for name in groups}
    missing = [name for name, group in found_groups.items() if group is None]
    if missing:
        raise InvalidRequestError(f"Groupe inconnu : {', '.join(f'« {name} »' for name in missing)}.")
    return (
        [user.id for user in found_users.values() if user is not None],
        [group.id for group in found_groups.values() if group is not None],
    )


async def share_conversation(
    runtime: Runtime,
    *,
    principal: Principal,
    client: ClientInfo,
    conversation_id: uuid.UUID,
    mode: ShareMode,
    usernames: Sequence[str] = (),
    group_names: Sequence[str] = (),
) -> ShareView:
    """Share one of the caller's conversations, as it stands now, with named agents and groups."""
    async with runtime.session_factory.begin() as session:
        conversation = await owned_conversation(session, conversation_id, principal)
        user_ids, group_ids = await _recipients(session, principal, usernames, group_names)
        messages = await conversation_store.list_messages(session=session, conversation_id=conversation.id)
        # An answer still being generated has nothing signed yet: it is not shared.
        frozen = [_freeze(m) for m in messages if m.role is MessageRole.USER or m.manifest is not None]
        if not any(m["role"] == MessageRole.ASSISTANT.value for m in frozen):
            raise InvalidRequestError("Rien à partager : cette conversation ne contient encore aucune réponse.")
        share = await store.add_share(
            session=session,
            conversation_id=conversation.id,
            owner_id=principal.user_id,
            mode=mode,
            title=conversation.title,
            model_id=conversation.model_id,
            messages=frozen,
            user_ids=user_ids,
            group_ids=group_ids,
        )
        (view,) = await _share_views(session, [share])
    await _audit(
        runtime,
        "conversation.share",
        principal,
        client,
        share.id,
        conversation_id=str(conversation_id),
        mode=mode.value,
        users=view.users,
        groups=view.groups,
        messages=view.message_count,
    )
    return view


async def list_conversation_shares(
    runtime: Runtime, *, principal: Principal, conversation_id: uuid.UUID
) -> list[ShareView]:
    """The shares of one of the caller's conversations, newest first, revoked ones included."""
    async with runtime.session_factory() as session:
        conversation = await owned_conversation(session, conversation_id, principal)
        shares = await store.list_owned_shares(
            session=session, owner_id=principal.user_id, conversation_id=conversation.id
        )
        return await _share_views(session, shares)


async def revoke_share(runtime: Runtime, *, principal: Principal, client: ClientInfo, share_id: uuid.UUID) -> ShareView:
    """End a share: its recipients no longer see it, and the messages it froze are dropped."""
    async with runtime.session_factory.begin() as session:
        share = await store.get_share(session=session, share_id=share_id)
        if share is None or share.owner_id != principal.user_id:
            raise NotFoundError(f"{_WHAT} introuvable.")
        if share.revoked_at is None:
            share.revoked_at = utcnow()
            share.messages = []
            await session.flush()
        (view,) = await _share_views(session, [share])
    await _audit(runtime, "conversation.share_revoke", principal, client, share_id)
    return view


# ---- Reading and copying ----------------------------------------------------------------------------------


async def _visible_share(session: AsyncSession, share_id: uuid.UUID, principal: Principal) -> ConversationShare:
    """The share if it is in force and the caller gave it or is one of its recipients; 404 otherwise."""
    share = await store.get_share(session=session, share_id=share_id)
    if share is None or share.revoked_at is not None:
        raise NotFoundError(f"{_WHAT} introuvable.")
    if share.owner_id != principal.user_id and not await store.share_is_for(
        session=session, share_id=share.id, user_id=principal.user_id, group_names=principal.groups
    ):
        raise NotFoundError(f"{_WHAT} introuvable.")
    return share


async def list_received_shares(runtime: Runtime, *, principal: Principal) -> list[ReceivedShareView]:
    """The conversations shared with the caller or one of their groups, newest first."""
    async with runtime.session_factory() as session:
        shares = await store.list_received_shares(
            session=session, user_id=principal.user_id, group_names=principal.groups
        )
        return await _received_views(session, shares)


async def read_share(
    runtime: Runtime, *, principal: Principal, client: ClientInfo, share_id: uuid.UUID
) -> SharedConversationView:
    """A shared conversation as the caller may see it (sources of collections they cannot read masked)."""
    async with runtime.session_factory() as session:
        share = await _visible_share(session, share_id, principal)
        (summary,) = await _received_views(session, [share])
    readable = await _readable(runtime, principal)
    items: list[MessageView] = []
    masked = 0
    for position, frozen in enumerate(share.messages):
        message, hidden = _thaw(runtime, frozen, readable, conversation_id=share.conversation_id, position=position)
        items.append(MessageView.of(message))
        masked += hidden
    await _audit(runtime, "conversation.share_read", principal, client, share_id, masked_sources=masked)
    return SharedConversationView(**summary.model_dump(), masked_sources=masked, messages=items)


async def continue_copy(
    runtime: Runtime, *, principal: Principal, client: ClientInfo, share_id: uuid.UUID
) -> ConversationDetail:
    """A new conversation of the caller's own with the shared messages (sources they cannot read masked), to
    continue like any other."""
    async with runtime.session_factory() as session:
        share = await _visible_share(session, share_id, principal)
    if share.owner_id == principal.user_id:
        raise InvalidRequestError("C'est votre propre conversation : poursuivez-la directement dans l'assistant.")
    if share.mode is not ShareMode.COPY:
        raise PermissionDeniedError(
            "Ce partage est en lecture seule : demandez à son auteur de le partager en « Copie à poursuivre »."
        )
    try:
        model = await resolve_model(runtime, share.model_id, principal=principal)
    except SouverainError:
        # The owner's model may be withdrawn or reserved to groups the recipient is not in: theirs by default.
        model = await resolve_model(runtime, None, principal=principal)
    readable = await _readable(runtime, principal)
    masked = 0
    async with runtime.session_factory.begin() as session:
        conversation = await conversation_store.add_conversation(
            session=session, owner_id=principal.user_id, title=f"{share.title} (copie)"[:200], model_id=model.id
        )
        conversation.title_is_custom = True
        for position, frozen in enumerate(share.messages):
            message, hidden = _thaw(runtime, frozen, readable, conversation_id=conversation.id, position=position)
            message.id = uuid.uuid4()  # a message of a new conversation, not the owner's one
            session.add(message)
            masked += hidden
        await session.flush()
    await _audit(
        runtime,
        "conversation.share_copy",
        principal,
        client,
        share_id,
        conversation_id=str(conversation.id),
        masked_sources=masked,
    )
    return await get_conversation(runtime, principal=principal, conversation_id=conversation.id)


# ---- RGPD -------------------------------------------------------------------------------------------------


async def export_my_shares(runtime: Runtime, *, principal: Principal) -> dict[str, list[dict[str, Any]]]:
    """The shares the caller gave and those they received, as references (the content is in the conversations)."""
    async with runtime.session_factory() as session:
        given = await _share_views(session, await store.list_owned_shares(session=session, owner_id=principal.user_id))
        received = await _received_views(
            session,
            await store.list_received_shares(session=session, user_id=principal.user_id, group_names=principal.groups),
        )
    return {
        "donnes": [view.model_dump(mode="json") for view in given],
        "recus": [view.model_dump(mode="json") for view in received],
    }


async def delete_my_shares(runtime: Runtime, *, principal: Principal) -> int:
    """Erasure: delete every share the caller gave (with the messages it froze) and take them off the shares that
    name them; returns how many shares were deleted."""
    async with runtime.session_factory.begin() as session:
        deleted = await store.delete_owned_shares(session=session, owner_id=principal.user_id)
        await store.remove_user_recipient(session=session, user_id=principal.user_id)
    return deleted
