"""Data-subject rights (RGPD): access and portability (an archive of one's data), rectification, erasure.

Erasure removes what the user produced — conversations, documents and their vectors, transcripts and audio, batches
and their files — by the same service functions the user would call one by one (so files and index caches go
too), revokes their API keys, and ends with an audited receipt. The account itself, the connection and audit logs
(kept under the administration's legal obligations) and anonymous usage figures stay; the receipt says so.
"""

from __future__ import annotations

import dataclasses
import io
import json
import uuid
import zipfile
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from assistant.audit import ClientInfo
from assistant.errors import InvalidRequestError, NotFoundError, UserFacingError
from assistant.provenance import AI_LABEL
from assistant.runtime import Runtime
from assistant.security import Principal
from assistant.services.batch import data as batch_data
from assistant.services.chat import comparisons as comparison_service
from assistant.services.chat import conversations as conversation_service
from assistant.services.chat import projects as project_service
from assistant.services.chat import prompts as prompt_service
from assistant.services.chat import sharing as sharing_service
from assistant.services.gateway.usage import usage_summary
from assistant.services.identity.api_keys import list_api_keys, revoke_api_key
from assistant.services.knowledge.collections import delete_collection
from assistant.services.meetings import glossary as glossary_service
from assistant.services.meetings import live as live_service
from assistant.services.meetings import transcriptions as transcription_service
from assistant.store import collections as collection_store
from assistant.store import documents as document_store
from assistant.store import prompts as prompt_store
from assistant.store import users as user_store
from assistant.store import utcnow

__all__ = ["ERASE_CONFIRMATION", "ErasureReceipt", "erase_my_data", "export_my_data", "rectify_profile"]

ERASE_CONFIRMATION = "SUPPRIMER MES DONNÉES"
_PAGE = 200


@dataclass(frozen=True)
class ErasureReceipt:
    """What was erased, when, and the audit event that records it (its hash proves the receipt's authenticity)."""

    user: str
    erased_at: datetime
    conversations: int
    collections: int
    transcriptions: int
    api_keys_revoked: int
    audit_event_hash: str
    kept: tuple[str, ...]
    projects: int = 0
    prompts: int = 0
    batches: int = 0
    batch_files: int = 0
    comparisons: int = 0
    shares: int = 0
    glossary_terms: int = 0


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, indent=1, default=str).encode("utf-8")


async def _all_conversations(runtime: Runtime, principal: Principal) -> list[uuid.UUID]:
    ids: list[uuid.UUID] = []
    while True:
        page = await conversation_service.list_conversations(runtime, principal=principal, limit=_PAGE, offset=len(ids))
        ids.extend(item.id for item in page.items)
        if len(page.items) < _PAGE:
            return ids


async def _all_transcriptions(runtime: Runtime, principal: Principal) -> list[uuid.UUID]:
    ids: list[uuid.UUID] = []
    while True:
        page = await transcription_service.list_transcriptions(
            runtime, owner_id=principal.user_id, limit=_PAGE, offset=len(ids)
        )
        ids.extend(item.id for item in page)
        if len(page) < _PAGE:
            return ids


async def export_my_data(runtime: Runtime, *, principal: Principal, client: ClientInfo) -> bytes:
    """A ZIP archive of everything the user produced, readable (Markdown, text) and reusable (JSON)."""
    async with runtime.session_factory() as session:
        user = await user_store.get_user(session=session, user_id=principal.user_id)
        if user is None:
            raise NotFoundError("Compte introuvable.")
        collections = await collection_store.list_collections(session=session, owner_id=principal.user_id)
        documents = {
            collection.id: await document_store.list_documents(session=session, collection_id=collection.id)
            for collection in collections
        }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "LISEZMOI.txt",
            "Export de vos données (RGPD, droit d'accès et de portabilité).\n"
            f"Généré le {utcnow():%d/%m/%Y à %H:%M} UTC pour « {user.username} ».\n\n"
            "- profil.json : votre compte\n- conversations/ : chaque conversation en JSON et en Markdown\n"
            "- projets.json : vos projets (nom, consignes permanentes, collections)\n"
            "- prompts.json : vos prompts personnels\n"
            "- comparaisons.json : vos comparaisons côte à côte (question, deux réponses, modèles, vote)\n"
            "- partages.json : les conversations que vous avez partagées et celles partagées avec vous\n"
            "- lots/ : vos lots de requêtes (API /v1/batches) et leurs fichiers d'entrée, de sortie et d'erreurs\n"
            "- transcriptions/ : chaque transcription en JSON et en texte\n"
            "- glossaire.json : votre glossaire personnel (sigles, noms) pour les transcriptions\n"
            "- collections.json : vos collections et documents déposés\n- consommation.json : votre usage\n\n"
            f"Les réponses produites par un modèle portent la mention « {AI_LABEL} ».\n",
        )
        archive.writestr(
            "profil.json",
            _json(
                {
                    "identifiant": user.username,
                    "nom_affiche": user.display_name,
                    "courriel": user.email,
                    "role": user.role.value,
                    "actif": user.is_active,
                    "cree_le": user.created_at,
                    "groupes": list(principal.groups),
                }
            ),
        )
        projects = await project_service.list_projects(runtime, principal=principal)
        archive.writestr("projets.json", _json([project.model_dump(mode="json") for project in projects]))
        prompts = [p for p in await prompt_service.list_prompts(runtime, principal=principal) if p.personal]
        archive.writestr("prompts.json", _json([prompt.model_dump(mode="json") for prompt in prompts]))
        archive.writestr(
            "comparaisons.json", _json(await comparison_service.export_my_comparisons(runtime, principal=principal))
        )
        archive.writestr("partages.json", _json(await sharing_service.export_my_shares(runtime, principal=principal)))
        batch_summary, batch_files = await batch_data.export_batches(runtime, owner_id=principal.user_id)
        archive.writestr("lots/lots.json", _json(batch_summary))
        for name, content in batch_files.items():
            archive.writestr(f"lots/{name}", content)
        archive.writestr(
            "glossaire.json", _json(await glossary_service.export_my_glossary(runtime, principal=principal))
        )
        for conversation_id in await _all_conversations(runtime, principal):
            detail = await conversation_service.get_conversation(
                runtime, principal=principal, conversation_id=conversation_id
            )
            archive.writestr(
                f"conversations/{conversation_id}.json", _json(detail.model_dump(mode="json", by_alias=True))
            )
            if detail.messages:
                markdown = await conversation_service.export_conversation(
                    runtime, principal=principal, client=client, conversation_id=conversation_id, file_format="md"
                )
                archive.writestr(f"conversations/{conversation_id}.md", markdown.data)
        for transcription_id in await _all_transcriptions(runtime, principal):
            view = await transcription_service.get_transcription(
                runtime, owner_id=principal.user_id, transcription_id=transcription_id
            )
            archive.writestr(f"transcriptions/{transcription_id}.json", _json(dataclasses.asdict(view)))
            try:
                text = await transcription_service.export_transcription(
                    runtime, owner_id=principal.user_id, transcription_id=transcription_id, fmt="txt"
                )
            except UserFacingError:
                continue  # not transcribed (yet, or failed): the JSON says why
            archive.writestr(f"transcriptions/{transcription_id}.txt", text.content)
        archive.writestr(
            "collections.json",
            _json(
                [
                    {
                        "nom": collection.name,
                        "description": collection.description,
                        "classification": collection.classification.value,
                        "documents": [
                            {
                                "fichier": doc.filename,
                                "taille": doc.size_bytes,
                                "sha256": doc.content_hash,
                                "etat": doc.status.value,
                            }
                            for doc in documents[collection.id]
                        ],
                    }
                    for collection in collections
                ]
            ),
        )
        summary = await usage_summary(runtime, user_id=principal.user_id)
        archive.writestr("consommation.json", _json(dataclasses.asdict(summary)))
    await runtime.audit.record(
        category="audit",
        action="rgpd.export",
        actor_id=principal.user_id,
        actor_label=principal.username,
        resource_type="user",
        resource_id=str(principal.user_id),
        client=client,
    )
    return buffer.getvalue()


async def rectify_profile(
    runtime: Runtime, *, principal: Principal, client: ClientInfo, display_name: str | None, email: str | None
) -> None:
    """Correct one's display name or e-mail (the login name is the identity provider's or the référent's)."""
    async with runtime.session_factory.begin() as session:
        user = await user_store.get_user(session=session, user_id=principal.user_id)
        if user is None:
            raise NotFoundError("Compte introuvable.")
        changed = []
        if display_name is not None and display_name != user.display_name:
            user.display_name, changed = display_name, [*changed, "nom_affiche"]
        if email is not None and email != user.email:
            user.email, changed = (email or None), [*changed, "courriel"]
    if changed:
        await runtime.audit.record(
            category="audit",
            action="rgpd.rectify",
            actor_id=principal.user_id,
            actor_label=principal.username,
            resource_type="user",
            resource_id=str(principal.user_id),
            client=client,
            details={"fields": changed},
        )


async def erase_my_data(
    runtime: Runtime, *, principal: Principal, client: ClientInfo, confirmation: str
) -> ErasureReceipt:
    """Erase the user's conversations and the shares they gave, comparisons, projects, personal prompts, documents
    (with vectors and files), transcripts and audio; revoke keys."""
    if confirmation.strip() != ERASE_CONFIRMATION:
        raise InvalidRequestError(f"Pour confirmer l'effacement, recopiez exactement : « {ERASE_CONFIRMATION} ».")
    # Before the conversations, whose deletion would take the shares with it: the receipt counts them.
    shares = await sharing_service.delete_my_shares(runtime, principal=principal)
    conversations = await _all_conversations(runtime, principal)
    for conversation_id in conversations:
        await conversation_service.delete_conversation(
            runtime, principal=principal, client=client, conversation_id=conversation_id
        )
    comparisons = await comparison_service.delete_my_comparisons(runtime, principal=principal)
    batches, batch_files = await batch_data.erase_batches(runtime, owner_id=principal.user_id)
    async with runtime.session_factory.begin() as session:
        prompts = await prompt_store.delete_owned_prompts(session=session, owner_id=principal.user_id)
        await prompt_store.anonymise_uses(session=session, user_id=principal.user_id)
    projects = await project_service.list_projects(runtime, principal=principal)
    for project in projects:
        await project_service.delete_project(
            runtime, principal=principal, client=client, project_id=project.id, conversations="delete"
        )
    async with runtime.session_factory() as session:
        owned = await collection_store.list_collections(session=session, owner_id=principal.user_id)
    for collection in owned:
        await delete_collection(runtime, principal, collection.id, client=client)
    transcriptions = await _all_transcriptions(runtime, principal)
    for transcription_id in transcriptions:
        await transcription_service.delete_transcription(
            runtime, principal=principal, client=client, transcription_id=transcription_id
        )
    await live_service.delete_live_sessions(runtime, owner_id=principal.user_id)  # their audio not transcribed yet
    glossary_terms = await glossary_service.delete_my_glossary(runtime, principal=principal)
    keys = [key for key in await list_api_keys(runtime, owner_id=principal.user_id) if key.revoked_at is None]
    for key in keys:
        await revoke_api_key(runtime, key_id=key.id, actor=principal, own_only=True, client=client)
    kept = (
        "le compte (identifiant, rôle) — supprimé sur demande au référent",
        "les journaux de connexion et d'audit (obligation de traçabilité)",
        "les chiffres de consommation, détachés de votre compte",
    )
    event = await runtime.audit.record(
        category="audit",
        action="rgpd.erase",
        actor_id=principal.user_id,
        actor_label=principal.username,
        resource_type="user",
        resource_id=str(principal.user_id),
        client=client,
        details={
            "conversations": len(conversations),
            "comparisons": comparisons,
            "batches": batches,
            "batch_files": batch_files,
            "shares": shares,
            "projects": len(projects),
            "prompts": prompts,
            "collections": len(owned),
            "transcriptions": len(transcriptions),
            "glossary_terms": glossary_terms,
            "api_keys_revoked": len(keys),
        },
    )
    return ErasureReceipt(
        user=principal.username,
        erased_at=event.occurred_at,
        conversations=len(conversations),
        collections=len(owned),
        transcriptions=len(transcriptions),
        api_keys_revoked=len(keys),
        audit_event_hash=event.hash,
        kept=kept,
        projects=len(projects),
        prompts=prompts,
        comparisons=comparisons,
        batches=batches,
        batch_files=batch_files,
        shares=shares,
        glossary_terms=glossary_terms,
    )
