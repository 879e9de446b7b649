"""Knowledge sources: a folder of a shared drive (WebDAV such as Nextcloud, SMB/Samba) a collection is kept in
sync with (design §7). Owners and référents manage them; the collection's access list — never the drive's —
decides who reads what was synchronised.

The password is sealed (:class:`assistant.security.SecretBox`, key outside the database) before it is stored and
is never returned, logged or exported; the synchronisation itself is a durable job
(:mod:`assistant.services.knowledge.source_sync`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from urllib.parse import urlsplit

from assistant.audit import ClientInfo
from assistant.errors import InvalidRequestError, NotFoundError
from assistant.runtime import Runtime
from assistant.security import Principal, SecretBox
from assistant.services.knowledge.collections import Right, view_collection
from assistant.services.knowledge.documents import remove_document
from assistant.services.operations.jobs import submit_job
from assistant.store import jobs as job_store
from assistant.store import sources as store
from assistant.store.models import Job, JobStatus, KnowledgeSource

__all__ = [
    "SYNC_JOB_KIND",
    "SourceKind",
    "SourceView",
    "create_source",
    "delete_source",
    "get_source",
    "list_sources",
    "request_sync",
    "secret_box",
    "update_source",
]

SYNC_JOB_KIND = "sources.sync"
SourceKind = Literal["webdav", "smb"]
_BUSY = ("queued", "running")
_MAX_PATTERNS = 50
_MIN_INTERVAL_MINUTES = 5

STATUS_LABELS = {
    "never": "Jamais synchronisée",
    "queued": "Synchronisation en attente",
    "running": "Synchronisation en cours",
    "ok": "À jour",
    "failed": "Échec de la dernière synchronisation",
}


def secret_box(runtime: Runtime) -> SecretBox:
    """The box sealing the sources' passwords (key derived from the service's secret key)."""
    return SecretBox(runtime.settings.effective_secret_key(), purpose="souverain knowledge-source credentials")


@dataclass(frozen=True, slots=True)
class SourceView:
    """A source as its managers see it: everything but the password."""

    id: uuid.UUID
    collection_id: uuid.UUID
    name: str
    kind: str
    location: str
    port: int | None
    share: str | None
    root_path: str
    username: str
    has_password: bool
    include: list[str]
    exclude: list[str]
    interval_minutes: int | None
    status: str
    status_label: str
    last_sync_at: datetime | None
    last_success_at: datetime | None
    last_result: dict[str, Any] | None
    last_error: str | None
    job_id: uuid.UUID | None
    created_at: datetime
    # While a synchronisation runs: how far it is (0..1) and what it says (« 40 fichier(s) lu(s) sur 120 »).
    progress: float | None = None
    progress_message: str | None = None

    @property
    def address(self) -> str:
        """Where the files come from, as people write it."""
        if self.kind == "smb":
            root = "\\".join(part for part in self.root_path.split("/") if part)
            return f"\\\\{self.location}\\{self.share}" + (f"\\{root}" if root else "")
        return self.location.rstrip("/") + ("/" + self.root_path.strip("/") if self.root_path.strip("/") else "")

    @classmethod
    def of(cls, source: KnowledgeSource, job: Job | None = None) -> SourceView:
        running = job is not None and source.status in _BUSY
        return cls(
            id=source.id,
            collection_id=source.collection_id,
            name=source.name,
            kind=source.kind,
            location=source.location,
            port=source.port,
            share=source.share,
            root_path=source.root_path,
            username=source.username,
            has_password=source.secret is not None,
            include=list(source.include),
            exclude=list(source.exclude),
            interval_minutes=source.interval_minutes,
            status=source.status,
            status_label=STATUS_LABELS.get(source.status, source.status),
            last_sync_at=source.last_sync_at,
            last_success_at=source.last_success_at,
            last_result=source.last_result,
            last_error=source.last_error,
            job_id=source.job_id,
            created_at=source.created_at,
            progress=job.progress if running and job is not None else None,
            progress_message=job.progress_message if running and job is not None else None,
        )


def _patterns(values: Sequence[str] | None, what: str) -> list[str]:
    cleaned = [value.strip() for value in values or () if value.strip()]
    if len(cleaned) > _MAX_PATTERNS:
        raise InvalidRequestError(f"Trop de motifs {what} ({len(cleaned)}) : {_MAX_PATTERNS} au plus.")
    if any(len(value) > 300 for value in cleaned):
        raise InvalidRequestError(f"Motif {what} trop long (300 caractères au plus).")
    return cleaned


def _interval(minutes: int | None) -> int | None:
    if minutes is None or minutes == 0:
        return None
    if minutes < _MIN_INTERVAL_MINUTES or minutes > 7 * 24 * 60:
        raise InvalidRequestError(
            f"Fréquence de synchronisation invalide : entre {_MIN_INTERVAL_MINUTES} minutes et 7 jours."
        )
    return minutes


def _where(kind: str, location: str, port: int | None, share: str | None) -> tuple[str, int | None, str | None]:
    location = location.strip()
    if kind == "webdav":
        parts = urlsplit(location)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidRequestError("Adresse WebDAV invalide : attendu https://serveur/chemin/ (ex. Nextcloud).")
        if parts.username or parts.password:
            raise InvalidRequestError(
                "L'adresse ne doit pas contenir d'identifiants : saisissez-les dans les champs prévus."
            )
        return location, None, None
    if kind == "smb":
        share = (share or "").strip().strip("\\/")
        if not location or any(c in location for c in "\\/ ") or not share or any(c in share for c in "\\/"):
            raise InvalidRequestError("Serveur ou partage SMB invalide : indiquez le serveur et le nom du partage.")
        if port is not None and not 1 <= port <= 65535:
            raise InvalidRequestError("Port SMB invalide (1 à 65 535).")
        return location, port, share
    raise InvalidRequestError("Type de source inconnu : webdav ou smb.")


async def _managed(runtime: Runtime, principal: Principal, source_id: uuid.UUID) -> KnowledgeSource:
    async with runtime.session_factory() as session:
        source = await store.get_source(session=session, source_id=source_id)
    if source is None:
        raise NotFoundError("Source introuvable.")
    try:
        await view_collection(runtime, principal, source.collection_id, needed=Right.MANAGE)
    except NotFoundError:
        raise NotFoundError("Source introuvable.") from None
    return source


async def _audit(
    runtime: Runtime, action: str, principal: Principal, client: ClientInfo | None, source: KnowledgeSource, **more: Any
) -> None:
    await runtime.audit.record(
        category="audit",
        action=action,
        actor_id=principal.user_id,
        actor_label=principal.username,
        resource_type="knowledge_source",
        resource_id=str(source.id),
        client=client,
        details={"collection_id": str(source.collection_id), "kind": source.kind, **more},
    )


async def create_source(
    runtime: Runtime,
    principal: Principal,
    collection_id: uuid.UUID,
    *,
    name: str,
    kind: str,
    location: str,
    username: str,
    password: str,
    root_path: str = "",
    port: int | None = None,
    share: str | None = None,
    include: Sequence[str] | None = None,
    exclude: Sequence[str] | None = None,
    interval_minutes: int | None = None,
    client: ClientInfo | None = None,
) -> SourceView:
    """Attach a share's folder to a collection (its owner or a référent); nothing is read until a sync."""
    await view_collection(runtime, principal, collection_id, needed=Right.MANAGE)
    name = " ".join(name.split())
    if not name or len(name) > 150:
        raise InvalidRequestError("Donnez un nom à la source (150 caractères au plus).")
    location, port, share = _where(kind, location, port, share)
    source = KnowledgeSource(
        collection_id=collection_id,
        created_by=principal.user_id,
        name=name,
        kind=kind,
        location=location,
        port=port,
        share=share,
        root_path=root_path.strip().strip("/\\"),
        username=username.strip(),
        secret=secret_box(runtime).seal(password) if password else None,
        include=_patterns(include, "d'inclusion"),
        exclude=_patterns(exclude, "d'exclusion"),
        interval_minutes=_interval(interval_minutes),
    )
    async with runtime.session_factory.begin() as session:
        await store.add_source(session=session, source=source)
    await _audit(runtime, "source.create", principal, client, source, location=SourceView.of(source).address)
    return SourceView.of(source)


async def list_sources(runtime: Runtime, principal: Principal, collection_id: uuid.UUID) -> list[SourceView]:
    """A collection's sources, for its managers."""
    await view_collection(runtime, principal, collection_id, needed=Right.MANAGE)
    async with runtime.session_factory() as session:
        return [
            SourceView.of(source) for source in await store.list_sources(session=session, collection_id=collection_id)
        ]


async def get_source(runtime: Runtime, principal: Principal, source_id: uuid.UUID) -> SourceView:
    source = await _managed(runtime, principal, source_id)
    job = None
    if source.job_id is not None and source.status in _BUSY:
        async with runtime.session_factory() as session:
            job = await job_store.get_job(session=session, job_id=source.job_id)
    return SourceView.of(source, job)


async def update_source(
    runtime: Runtime,
    principal: Principal,
    source_id: uuid.UUID,
    *,
    name: str | None = None,
    username: str | None = None,
    password: str | None = None,
    root_path: str | None = None,
    include: Sequence[str] | None = None,
    exclude: Sequence[str] | None = None,
    interval_minutes: int | None = None,
    clear_interval: bool = False,
    client: ClientInfo | None = None,
) -> SourceView:
    """Change a source's settings; a new password replaces the sealed one (an empty one keeps it)."""
    source = await _managed(runtime, principal, source_id)
    values: dict[str, Any] = {}
    if name is not None:
        cleaned = " ".join(name.split())
        if not cleaned or len(cleaned) > 150:
            raise InvalidRequestError("Donnez un nom à la source (150 caractères au plus).")
        values["name"] = cleaned
    if username is not None:
        values["username"] = username.strip()
    if password:
        values["secret"] = secret_box(runtime).seal(password)
    if root_path is not None:
        values["root_path"] = root_path.strip().strip("/\\")
    if include is not None:
        values["include"] = _patterns(include, "d'inclusion")
    if exclude is not None:
        values["exclude"] = _patterns(exclude, "d'exclusion")
    if clear_interval:
        values["interval_minutes"] = None
    elif interval_minutes is not None:
        values["interval_minutes"] = _interval(interval_minutes)
    if values:
        async with runtime.session_factory.begin() as session:
            await store.set_source(session=session, source_id=source.id, **values)
    await _audit(
        runtime,
        "source.update",
        principal,
        client,
        source,
        fields=sorted(k if k != "secret" else "password" for k in values),
    )
    return await get_source(runtime, principal, source_id)


async def delete_source(
    runtime: Runtime, principal: Principal, source_id: uuid.UUID, *, client: ClientInfo | None = None
) -> int:
    """Detach a source and remove the documents it brought (they would go stale); returns how many."""
    source = await _managed(runtime, principal, source_id)
    async with runtime.session_factory() as session:
        documents = await store.source_documents(session=session, source_id=source.id)
    for document_id in documents:
        await remove_document(runtime, document_id)
    async with runtime.session_factory.begin() as session:
        await store.delete_source(session=session, source_id=source.id)
    await _audit(runtime, "source.delete", principal, client, source, documents_removed=len(documents))
    return len(documents)


async def request_sync(
    runtime: Runtime, source_id: uuid.UUID, *, principal: Principal | None = None, client: ClientInfo | None = None
) -> SourceView:
    """Queue a synchronisation (« Synchroniser maintenant », or the schedule with no principal); a source already
    queued or running is left as it is."""
    if principal is not None:
        await _managed(runtime, principal, source_id)
    async with runtime.session_factory() as session:
        source = await store.get_source(session=session, source_id=source_id)
        job = await job_store.get_job(session=session, job_id=source.job_id) if source and source.job_id else None
    if source is None:
        raise NotFoundError("Source introuvable.")
    # Busy while its job lives; a job that ended without saying so (worker killed at its last try) frees it.
    if source.status in _BUSY and job is not None and job.status in (JobStatus.QUEUED, JobStatus.RUNNING):
        return SourceView.of(source)
    job = await submit_job(runtime, kind=SYNC_JOB_KIND, payload={"source_id": str(source.id)}, owner_id=None)
    async with runtime.session_factory.begin() as session:
        await store.set_source(session=session, source_id=source.id, status="queued", job_id=job.id)
        source = await store.get_source(session=session, source_id=source_id)
        assert source is not None
    if principal is not None:
        await _audit(runtime, "source.sync_requested", principal, client, source)
    return SourceView.of(source)
