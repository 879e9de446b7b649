"""Knowledge sources: shared drives (WebDAV, SMB) a collection is kept in sync with. Owners and référents only."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Security, status
from pydantic import BaseModel, Field

from assistant.api.deps import ClientDep, RequirePermission, RuntimeDep
from assistant.security import Permission, Principal
from assistant.services.knowledge import sources as service
from assistant.services.knowledge.sources import SourceView

__all__ = ["router"]

router = APIRouter(prefix="/api", tags=["sources de documents"])

DocumentUser = Annotated[Principal, Security(RequirePermission(Permission.DOCUMENTS))]
Pattern = Annotated[str, Field(min_length=1, max_length=300)]

_INCLUDE = "Motifs des fichiers à synchroniser (« **/*.pdf », « Procédures/** ») ; vide : tous."
_EXCLUDE = "Motifs exclus, en plus des fichiers cachés et des verrous Office (« archives/** »)."
_INTERVAL = "Synchroniser toutes les N minutes (5 à 10 080) ; absent ou 0 : seulement à la demande."


class SourceCreate(BaseModel):
    name: str = Field(min_length=1, max_length=150)
    kind: Literal["webdav", "smb"]
    location: str = Field(
        min_length=1, max_length=1000, description="WebDAV : adresse https://… du dossier racine ; SMB : serveur."
    )
    share: str | None = Field(default=None, max_length=200, description="SMB : nom du partage.")
    port: int | None = Field(default=None, ge=1, le=65535, description="SMB : port (445 par défaut).")
    root_path: str = Field(default="", max_length=1000, description="Dossier à synchroniser, dans le partage.")
    username: str = Field(default="", max_length=200)
    password: str = Field(default="", max_length=1000, description="Chiffré avant stockage ; jamais renvoyé.")
    include: list[Pattern] = Field(default_factory=list, max_length=50, description=_INCLUDE)
    exclude: list[Pattern] = Field(default_factory=list, max_length=50, description=_EXCLUDE)
    interval_minutes: int | None = Field(default=None, ge=0, le=10_080, description=_INTERVAL)


class SourceUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=150)
    root_path: str | None = Field(default=None, max_length=1000)
    username: str | None = Field(default=None, max_length=200)
    password: str | None = Field(default=None, max_length=1000, description="Vide ou absent : inchangé.")
    include: list[Pattern] | None = Field(default=None, max_length=50, description=_INCLUDE)
    exclude: list[Pattern] | None = Field(default=None, max_length=50, description=_EXCLUDE)
    interval_minutes: int | None = Field(default=None, ge=0, le=10_080, description=_INTERVAL)


class SourceOut(BaseModel):
    """A source and the state of its synchronisation; the password is never returned."""

    id: uuid.UUID
    collection_id: uuid.UUID
    name: str
    kind: str
    address: str = Field(description="D'où viennent les fichiers (URL ou chemin \\\\serveur\\partage).")
    root_path: str
    username: str
    has_password: bool
    include: list[str]
    exclude: list[str]
    interval_minutes: int | None
    status: str = Field(description="never, queued, running, ok ou failed.")
    status_label: str
    last_sync_at: datetime | None
    last_success_at: datetime | None
    last_result: dict[str, Any] | None = Field(
        description="Fichiers ajoutés, mis à jour, renommés, retirés, inchangés, en échec (avec leur motif)."
    )
    last_error: str | None
    job_id: uuid.UUID | None
    progress: float | None = Field(default=None, description="Synchronisation en cours : avancement (0 à 1).")
    progress_message: str | None = None

    @classmethod
    def of(cls, view: SourceView) -> SourceOut:
        return cls(
            id=view.id,
            collection_id=view.collection_id,
            name=view.name,
            kind=view.kind,
            address=view.address,
            root_path=view.root_path,
            username=view.username,
            has_password=view.has_password,
            include=view.include,
            exclude=view.exclude,
            interval_minutes=view.interval_minutes,
            status=view.status,
            status_label=view.status_label,
            last_sync_at=view.last_sync_at,
            last_success_at=view.last_success_at,
            last_result=view.last_result,
            last_error=view.last_error,
            job_id=view.job_id,
            progress=view.progress,
            progress_message=view.progress_message,
        )


class SourceDeleted(BaseModel):
    documents_removed: int = Field(description="Documents de la source retirés de la collection.")


@router.get("/collections/{collection_id}/sources", response_model=list[SourceOut], summary="Sources d'une collection")
async def list_sources(collection_id: uuid.UUID, principal: DocumentUser, runtime: RuntimeDep) -> list[SourceOut]:
    return [SourceOut.of(view) for view in await service.list_sources(runtime, principal, collection_id)]


@router.post(
    "/collections/{collection_id}/sources",
    response_model=SourceOut,
    status_code=status.HTTP_201_CREATED,
    summary="Rattacher un dossier partagé (WebDAV, SMB) à une collection",
)
async def create_source(
    collection_id: uuid.UUID, body: SourceCreate, principal: DocumentUser, runtime: RuntimeDep, client: ClientDep
) -> SourceOut:
    view = await service.create_source(
        runtime,
        principal,
        collection_id,
        name=body.name,
        kind=body.kind,
        location=body.location,
        share=body.share,
        port=body.port,
        root_path=body.root_path,
        username=body.username,
        password=body.password,
        include=body.include,
        exclude=body.exclude,
        interval_minutes=body.interval_minutes,
        client=client,
    )
    return SourceOut.of(view)


@router.get("/sources/{source_id}", response_model=SourceOut, summary="Une source et sa dernière synchronisation")
async def read_source(source_id: uuid.UUID, principal: DocumentUser, runtime: RuntimeDep) -> SourceOut:
    return SourceOut.of(await service.get_source(runtime, principal, source_id))


@router.patch("/sources/{source_id}", response_model=SourceOut, summary="Modifier une source")
async def update_source(
    source_id: uuid.UUID, body: SourceUpdate, principal: DocumentUser, runtime: RuntimeDep, client: ClientDep
) -> SourceOut:
    view = await service.update_source(
        runtime,
        principal,
        source_id,
        name=body.name,
        root_path=body.root_path,
        username=body.username,
        password=body.password,
        include=body.include,
        exclude=body.exclude,
        interval_minutes=body.interval_minutes,
        clear_interval=body.interval_minutes == 0,
        client=client,
    )
    return SourceOut.of(view)


@router.delete(
    "/sources/{source_id}", response_model=SourceDeleted, summary="Détacher une source (ses documents sont retirés)"
)
async def delete_source(
    source_id: uuid.UUID, principal: DocumentUser, runtime: RuntimeDep, client: ClientDep
) -> SourceDeleted:
    return SourceDeleted(documents_removed=await service.delete_source(runtime, principal, source_id, client=client))


@router.post(
    "/sources/{source_id}/sync",
    response_model=SourceOut,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Synchroniser maintenant (tâche de fond)",
)
async def sync_source(
    source_id: uuid.UUID, principal: DocumentUser, runtime: RuntimeDep, client: ClientDep
) -> SourceOut:
    return SourceOut.of(await service.request_sync(runtime, source_id, principal=principal, client=client))
