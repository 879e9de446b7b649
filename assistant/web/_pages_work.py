"""The work pages: « Documents » (collections, their documents and sharing) and « Tâches » (document tasks).

Collections are created, edited, shared and deleted through plain forms: they work without scripts, post the
session's anti-CSRF token, come back with a redirection and, like the API, need the usage charter accepted.
Uploads, ingestion progress, document deletion, search and the tasks go through the JSON API from
``documents.js`` and ``tasks.js``, which the pages' users already may call.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from babel.numbers import format_decimal
from fastapi import APIRouter, Form, Request, Security
from fastapi.responses import RedirectResponse, Response

from assistant.api.deps import ClientDep, RuntimeDep
from assistant.errors import InvalidRequestError, NotFoundError, PermissionDeniedError, UserFacingError
from assistant.security import Permission
from assistant.services.chat.document_tasks import LANGUAGES, list_presets
from assistant.services.governance import admin
from assistant.services.knowledge.collection_summaries import summarise_collection, summarise_collections
from assistant.services.knowledge.collections import (
    create_collection,
    delete_collection,
    get_access_list,
    set_access_list,
    update_collection,
)
from assistant.services.knowledge.documents import list_documents
from assistant.services.knowledge.sources import create_source, delete_source, list_sources, request_sync
from assistant.store.models import AccessLevel, Classification
from assistant.web._auth import RequirePage, WebCaller
from assistant.web._templates import PageRenderer

__all__ = ["CLASSIFICATIONS", "DOCUMENT_STATUSES", "format_size_fr", "work_router"]

# Module-level: FastAPI resolves the routes' (postponed) annotations in this module's globals.
DocumentsUser = Annotated[WebCaller, Security(RequirePage(Permission.DOCUMENTS))]
TasksUser = Annotated[WebCaller, Security(RequirePage(Permission.CHAT))]

CLASSIFICATIONS = {
    Classification.INTERNAL.value: "Interne à l'administration",
    Classification.PUBLIC.value: "Publique",
}
RIGHTS = {
    "OWNER": "Propriétaire",
    "WRITE": "Lecture et écriture",
    "READ": "Lecture seule",
    "MANAGE": "Administration (référent)",
}
DOCUMENT_STATUSES = {"queued": "En attente", "processing": "En cours", "ready": "Prêt", "failed": "Échec"}
# What the redirection after a form says (``?fait=…``): fixed texts, so nothing from the URL reaches the page.
_DONE = {
    "creee": "La collection a été créée. Ajoutez-y des documents.",
    "modifiee": "La collection a été modifiée.",
    "supprimee": "La collection a été supprimée, avec ses documents et leurs index.",
    "partagee": "Le partage de la collection a été enregistré.",
    "source-rattachee": "Le dossier partagé est rattaché : « Synchroniser maintenant » importe ses fichiers.",
    "source-en-cours": "La synchronisation est lancée : rechargez la page pour suivre son résultat.",
    "source-detachee": "Le dossier partagé est détaché ; ses documents ont été retirés de la collection.",
}
_ACCESS_CHOICES = {"": "Aucun accès", AccessLevel.READ.value: "Lecture", AccessLevel.WRITE.value: "Lecture et écriture"}
_DESCRIPTION_MAX = 1000


def format_size_fr(size: int | None) -> str:
    """« 12,3 Ko », « 4,5 Mo »: a size in bytes the way French software says it."""
    if size is None:
        return "—"
    value = float(size)
    for unit in ("octets", "Ko", "Mo", "Go"):
        if value < 1024 or unit == "Go":
            digits = "#,##0" if unit == "octets" else "#,##0.#"
            return f"{format_decimal(value, format=digits, locale='fr_FR')}\u00a0{unit}"
        value /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def _classification(value: str) -> Classification:
    try:
        return Classification(value)
    except ValueError:
        raise InvalidRequestError("Choisissez la sensibilité de la collection : interne ou publique.") from None


def _description(value: str) -> str:
    if len(value) > _DESCRIPTION_MAX:
        raise InvalidRequestError(f"La description compte {len(value)} caractères : {_DESCRIPTION_MAX} au plus.")
    return value


def work_router(renderer: PageRenderer) -> APIRouter:
    """The « Documents » and « Tâches » pages, rendered by ``renderer``."""
    router = APIRouter(include_in_schema=False)
    renderer.templates.env.filters.setdefault("taille_fr", format_size_fr)

    def refusal(request: Request, caller: WebCaller, exc: UserFacingError) -> Response:
        not_found = isinstance(exc, NotFoundError)
        return renderer.render(
            request,
            "error.html",
            title="Collection introuvable" if not_found else "Action refusée",
            caller=caller,
            active="documents",
            heading="Collection introuvable" if not_found else "Action refusée",
            message=exc.message,
            status_code=404 if not_found else 403,
        )

    async def list_page(
        request: Request,
        runtime: RuntimeDep,
        caller: WebCaller,
        *,
        error: str | None = None,
        values: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Response:
        summaries = await summarise_collections(runtime, caller.principal)
        return renderer.render(
            request,
            "documents.html",
            title="Documents",
            caller=caller,
            active="documents",
            owned=[s for s in summaries if s.view.right.name == "OWNER"],
            others=[s for s in summaries if s.view.right.name != "OWNER"],
            # A référent sees every collection's metadata, not only those shared with them.
            sees_all=caller.principal.has(Permission.MANAGE_COLLECTIONS),
            done=_DONE.get(request.query_params.get("fait", "")),
            error=error,
            values=values or {},
            classifications=CLASSIFICATIONS,
            rights=RIGHTS,
            status_code=status_code,
        )

    async def collection_page(
        request: Request,
        runtime: RuntimeDep,
        caller: WebCaller,
        collection_id: uuid.UUID,
        *,
        error: str | None = None,
        source_error: str | None = None,
        status_code: int = 200,
    ) -> Response:
        try:
            summary = await summarise_collection(runtime, caller.principal, collection_id)
            documents = await list_documents(runtime, caller.principal, collection_id)
            manages = summary.view.right.manages
            access = await get_access_list(runtime, caller.principal, collection_id) if manages else None
            sources = await list_sources(runtime, caller.principal, collection_id) if manages else []
        except (NotFoundError, PermissionDeniedError) as exc:
            return refusal(request, caller, exc)
        groups = await admin.list_groups(runtime) if manages else []
        granted = {e.name: e.access.value for e in access.entries if e.kind == "group"} if access else {}
        return renderer.render(
            request,
            "documents_collection.html",
            title=summary.view.collection.name,
            caller=caller,
            active="documents",
            summary=summary,
            collection=summary.view.collection,
            right=summary.view.right,
            documents=documents,
            groups=groups,
            granted_groups=granted,
            granted_users=[e for e in access.entries if e.kind == "user"] if access else [],
            access_choices=_ACCESS_CHOICES,
            statuses=DOCUMENT_STATUSES,
            classifications=CLASSIFICATIONS,
            rights=RIGHTS,
            max_document_bytes=runtime.settings.rag.max_document_bytes,
            max_files=runtime.settings.rag.max_files_per_upload,
            done=_DONE.get(request.query_params.get("fait", "")),
            error=error,
            sources=sources,
            source_error=source_error,
            status_code=status_code,
        )

    @router.get("/documents")
    async def documents_page(request: Request, runtime: RuntimeDep, caller: DocumentsUser) -> Response:
        return await list_page(request, runtime, caller)

    @router.post("/documents")
    async def create(
        request: Request,
        runtime: RuntimeDep,
        client: ClientDep,
        caller: DocumentsUser,
        nom: Annotated[str, Form()] = "",
        description: Annotated[str, Form()] = "",
        sensibilite: Annotated[str, Form()] = Classification.INTERNAL.value,
    ) -> Response:
        try:
            view = await create_collection(
                runtime,
                caller.principal,
                name=nom,
                description=_description(description),
                classification=_classification(sensibilite),
                client=client,
            )
        except InvalidRequestError as exc:
            values = {"nom": nom, "description": description, "sensibilite": sensibilite}
            return await list_page(request, runtime, caller, error=exc.message, values=values, status_code=400)
        except PermissionDeniedError as exc:
            return refusal(request, caller, exc)
        return RedirectResponse(f"/documents/{view.collection.id}?fait=creee", status_code=303)

    @router.get("/documents/{collection_id}")
    async def collection(
        collection_id: uuid.UUID, request: Request, runtime: RuntimeDep, caller: DocumentsUser
    ) -> Response:
        return await collection_page(request, runtime, caller, collection_id)

    @router.post("/documents/{collection_id}/modifier")
    async def edit(
        collection_id: uuid.UUID,
        request: Request,
        runtime: RuntimeDep,
        client: ClientDep,
        caller: DocumentsUser,
        nom: Annotated[str, Form()] = "",
        description: Annotated[str, Form()] = "",
        sensibilite: Annotated[str, Form()] = Classification.INTERNAL.value,
    ) -> Response:
        try:
            await update_collection(
                runtime,
                caller.principal,
                collection_id,
                name=nom,
                description=_description(description),
                classification=_classification(sensibilite),
                client=client,
            )
        except InvalidRequestError as exc:
            return await collection_page(request, runtime, caller, collection_id, error=exc.message, status_code=400)
        except (NotFoundError, PermissionDeniedError) as exc:
            return refusal(request, caller, exc)
        return RedirectResponse(f"/documents/{collection_id}?fait=modifiee", status_code=303)

    @router.post("/documents/{collection_id}/partage")
    async def share(
        collection_id: uuid.UUID,
        request: Request,
        runtime: RuntimeDep,
        client: ClientDep,
        caller: DocumentsUser,
        groupe: Annotated[list[str] | None, Form()] = None,
        acces: Annotated[list[str] | None, Form()] = None,
    ) -> Response:
        names, levels = groupe or [], acces or []
        try:
            if len(names) != len(levels) or any(level not in _ACCESS_CHOICES for level in levels):
                raise InvalidRequestError("Le formulaire de partage est incomplet : rechargez la page et réessayez.")
            current = await get_access_list(runtime, caller.principal, collection_id)
            await set_access_list(
                runtime,
                caller.principal,
                collection_id,
                # The page shares with groups; people named by the API keep their access.
                users={e.name: e.access for e in current.entries if e.kind == "user"},
                groups={name: AccessLevel(level) for name, level in zip(names, levels, strict=True) if level},
                client=client,
            )
        except InvalidRequestError as exc:
            return await collection_page(request, runtime, caller, collection_id, error=exc.message, status_code=400)
        except (NotFoundError, PermissionDeniedError) as exc:
            return refusal(request, caller, exc)
        return RedirectResponse(f"/documents/{collection_id}?fait=partagee#partage", status_code=303)

    @router.post("/documents/{collection_id}/sources")
    async def attach_source(
        collection_id: uuid.UUID,
        request: Request,
        runtime: RuntimeDep,
        client: ClientDep,
        caller: DocumentsUser,
        nom: Annotated[str, Form(max_length=1000)] = "",
        kind: Annotated[str, Form(alias="type", max_length=10)] = "webdav",
        adresse: Annotated[str, Form(max_length=2000)] = "",
        partage: Annotated[str, Form(max_length=500)] = "",
        dossier: Annotated[str, Form(max_length=2000)] = "",
        compte: Annotated[str, Form(max_length=500)] = "",
        mot_de_passe: Annotated[str, Form(max_length=2000)] = "",
        inclure: Annotated[str, Form(max_length=20_000)] = "",
        exclure: Annotated[str, Form(max_length=20_000)] = "",
        frequence: Annotated[str, Form(max_length=10)] = "",
    ) -> Response:
        try:
            if frequence.strip() and not frequence.strip().isdigit():
                raise InvalidRequestError("La fréquence est un nombre de minutes (de 5 à 10 080).")
            server, _, port = adresse.strip().partition(":") if kind == "smb" else (adresse, "", "")
            if port and not port.isdigit():
                raise InvalidRequestError("Port SMB invalide : écrivez serveur ou serveur:port.")
            await create_source(
                runtime,
                caller.principal,
                collection_id,
                name=nom,
                kind=kind,
                location=server,
                port=int(port) if port else None,
                share=partage or None,
                root_path=dossier,
                username=compte,
                password=mot_de_passe,
                include=inclure.splitlines(),
                exclude=exclure.splitlines(),
                interval_minutes=int(frequence) if frequence.strip() else None,
                client=client,
            )
        except InvalidRequestError as exc:
            return await collection_page(
                request, runtime, caller, collection_id, source_error=exc.message, status_code=400
            )
        except (NotFoundError, PermissionDeniedError) as exc:
            return refusal(request, caller, exc)
        return RedirectResponse(f"/documents/{collection_id}?fait=source-rattachee#sources", status_code=303)

    @router.post("/documents/{collection_id}/sources/{source_id}/synchroniser")
    async def sync_now(
        collection_id: uuid.UUID,
        source_id: uuid.UUID,
        request: Request,
        runtime: RuntimeDep,
        client: ClientDep,
        caller: DocumentsUser,
    ) -> Response:
        try:
            await request_sync(runtime, source_id, principal=caller.principal, client=client)
        except (NotFoundError, PermissionDeniedError) as exc:
            return refusal(request, caller, exc)
        return RedirectResponse(f"/documents/{collection_id}?fait=source-en-cours#sources", status_code=303)

    @router.post("/documents/{collection_id}/sources/{source_id}/supprimer")
    async def detach_source(
        collection_id: uuid.UUID,
        source_id: uuid.UUID,
        request: Request,
        runtime: RuntimeDep,
        client: ClientDep,
        caller: DocumentsUser,
    ) -> Response:
        try:
            await delete_source(runtime, caller.principal, source_id, client=client)
        except (NotFoundError, PermissionDeniedError) as exc:
            return refusal(request, caller, exc)
        return RedirectResponse(f"/documents/{collection_id}?fait=source-detachee#sources", status_code=303)

    @router.post("/documents/{collection_id}/supprimer")
    async def delete(
        collection_id: uuid.UUID, request: Request, runtime: RuntimeDep, client: ClientDep, caller: DocumentsUser
    ) -> Response:
        try:
            await delete_collection(runtime, caller.principal, collection_id, client=client)
        except (NotFoundError, PermissionDeniedError) as exc:
            return refusal(request, caller, exc)
        return RedirectResponse("/documents?fait=supprimee", status_code=303)

    @router.get("/taches")
    async def tasks_page(request: Request, runtime: RuntimeDep, caller: TasksUser) -> Response:
        return renderer.render(
            request,
            "tasks.html",
            title="Tâches",
            caller=caller,
            active="taches",
            presets=list_presets(runtime),
            languages=LANGUAGES,
            max_upload_bytes=runtime.settings.task_max_upload_bytes,
        )

    return router
