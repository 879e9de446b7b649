"""``/v1/batches``: create a batch from an uploaded file, follow it, list one's batches, cancel one.

The input is checked in full before anything is queued (every line, every model against what the caller may use),
so a bad batch is a 400 naming the line at fault. The batch then runs in the ``batches.run`` job
(:mod:`assistant.services.batch.jobs`). Batches are private to their owner: anyone else gets "not found".
"""

from __future__ import annotations

import contextlib
import uuid
from datetime import datetime, timedelta

from assistant.audit import ClientInfo
from assistant.errors import ConflictError, InvalidRequestError, NotFoundError, SouverainError
from assistant.protocol.batches import (
    BatchCreateRequest,
    BatchError,
    BatchErrors,
    BatchList,
    BatchObject,
    BatchRequestCounts,
)
from assistant.runtime import Runtime
from assistant.security import Principal
from assistant.services.batch._ids import batch_id, file_id, parse_batch_id, parse_file_id
from assistant.services.batch._input import CHAT_ENDPOINT, BatchLineError, parse_input
from assistant.services.batch._results import finalize
from assistant.services.gateway.model_access import resolve_model
from assistant.services.gateway.quotas import ensure_job_slot
from assistant.store import batches as store
from assistant.store import jobs as job_store
from assistant.store import utcnow
from assistant.store.models import Batch, BatchStatus, JobStatus

__all__ = ["RUN_JOB", "batch_object", "cancel_batch", "create_batch", "get_batch", "list_batches"]

RUN_JOB = "batches.run"
_WINDOW = "24h"
_METADATA_PAIRS = 16


def _ts(value: datetime | None) -> int | None:
    return int(value.timestamp()) if value is not None else None


def batch_object(row: Batch, *, job_status: JobStatus | None = None, job_error: str | None = None) -> BatchObject:
    """The OpenAI view of a batch. A job the runner gave up on (every attempt interrupted) shows as failed."""
    status, errors = row.status, list(row.errors or [])
    if (
        not status.terminal
        and job_status in (JobStatus.FAILED, JobStatus.CANCELLED)
        and status != BatchStatus.CANCELLING
    ):
        status = BatchStatus.FAILED
        errors.append({"code": "batch_failed", "message": job_error or "Le traitement du lot a échoué."})
    return BatchObject(
        id=batch_id(row.id),
        endpoint=row.endpoint,
        errors=BatchErrors(data=[BatchError.model_validate(item) for item in errors]) if errors else None,
        input_file_id=file_id(row.input_file_id),
        completion_window=row.completion_window,
        status=status.value,
        output_file_id=file_id(row.output_file_id) if row.output_file_id else None,
        error_file_id=file_id(row.error_file_id) if row.error_file_id else None,
        created_at=int(row.created_at.timestamp()),
        in_progress_at=_ts(row.in_progress_at),
        expires_at=_ts(row.expires_at),
        finalizing_at=_ts(row.finalizing_at),
        completed_at=_ts(row.completed_at),
        failed_at=_ts(row.failed_at),
        expired_at=_ts(row.expired_at),
        cancelling_at=_ts(row.cancelling_at),
        cancelled_at=_ts(row.cancelled_at),
        request_counts=BatchRequestCounts(total=row.total, completed=row.completed, failed=row.failed),
        metadata=row.user_metadata,
    )


def _check_request(body: BatchCreateRequest) -> None:
    if body.endpoint != CHAT_ENDPOINT:
        raise InvalidRequestError(
            f"Point d'accès « {body.endpoint} » non pris en charge : un lot ne sert que {CHAT_ENDPOINT}.",
            code="invalid_endpoint",
        )
    if body.completion_window != _WINDOW:
        raise InvalidRequestError(
            f"Délai « {body.completion_window} » non pris en charge : seul « {_WINDOW} » l'est.",
            code="invalid_completion_window",
        )
    if body.metadata is not None and (
        len(body.metadata) > _METADATA_PAIRS or any(len(k) > 64 or len(v) > 512 for k, v in body.metadata.items())
    ):
        raise InvalidRequestError(
            f"metadata : au plus {_METADATA_PAIRS} paires, clés de 64 et valeurs de 512 caractères au plus.",
            code="invalid_metadata",
        )


async def _check_models(runtime: Runtime, principal: Principal, content: bytes) -> int:
    """Every line parsed and every model it names usable by ``principal``; returns how many requests."""
    lines = parse_input(content, max_lines=runtime.settings.batch_max_lines)
    checked: set[str] = set()
    for line in lines:
        model = line.request.model
        if model in checked:
            continue
        try:
            await resolve_model(runtime, model, principal=principal)
        except SouverainError as exc:
            raise BatchLineError(
                line.number, f"modèle « {model[:80]} » non utilisable : {exc.message}", code="model_not_allowed"
            ) from None
        checked.add(model)
    return len(lines)


async def create_batch(
    runtime: Runtime, *, principal: Principal, client: ClientInfo, body: BatchCreateRequest
) -> BatchObject:
    """Check the batch and its input file, record it and queue its job (``validating`` until a worker starts it)."""
    _check_request(body)
    input_id = parse_file_id(body.input_file_id)
    async with runtime.session_factory() as session:
        row = await store.file_content(session=session, file_id=input_id)
    if row is None or row.owner_id != principal.user_id:
        raise NotFoundError(f"Fichier introuvable : « {body.input_file_id[:80]} ».")
    if row.purpose != "batch":
        raise InvalidRequestError("Ce fichier n'est pas une entrée de lot (purpose=batch).", code="invalid_input_file")
    total = await _check_models(runtime, principal, row.content)
    await ensure_job_slot(runtime, principal.user_id)
    runtime.job_registry.get(RUN_JOB)  # refuse before storing anything if no handler is registered
    now = utcnow()
    async with runtime.session_factory.begin() as session:
        batch = await store.add_batch(
            session=session,
            owner_id=principal.user_id,
            api_key_id=principal.api_key_id,
            endpoint=body.endpoint,
            completion_window=body.completion_window,
            input_file_id=input_id,
            total=total,
            user_metadata=body.metadata,
            request_id=client.request_id,
            created_at=now,
            expires_at=now + timedelta(hours=24),
        )
        job = await job_store.add_job(
            session=session,
            kind=RUN_JOB,
            payload={"batch_id": str(batch.id)},
            owner_id=principal.user_id,
            max_attempts=runtime.settings.job_max_attempts,
        )
        batch.job_id = job.id
    with contextlib.suppress(SouverainError):  # recorded already: the recovery loop re-sends it
        runtime.job_queue.send(job.id)
    await runtime.audit.record(
        category="audit",
        action="batch.create",
        actor_id=principal.user_id,
        actor_label=principal.username,
        resource_type="batch",
        resource_id=batch_id(batch.id),
        client=client,
        details={"requests": total, "input_file_id": body.input_file_id},
    )
    return await get_batch(runtime, principal=principal, public_id=batch_id(batch.id))


async def _owned(runtime: Runtime, principal: Principal, public_id: str) -> uuid.UUID:
    key = parse_batch_id(public_id)
    async with runtime.session_factory() as session:
        row = await store.get_batch(session=session, batch_id=key)
    if row is None or row.owner_id != principal.user_id:
        raise NotFoundError(f"Lot introuvable : « {public_id[:80]} ».")
    return key


async def _view(runtime: Runtime, row: Batch) -> BatchObject:
    job = None
    if row.job_id is not None and not row.status.terminal:
        async with runtime.session_factory() as session:
            job = await job_store.get_job(session=session, job_id=row.job_id)
    return batch_object(row, job_status=job.status if job else None, job_error=job.error if job else None)


async def get_batch(runtime: Runtime, *, principal: Principal, public_id: str) -> BatchObject:
    """One of the caller's batches, as it stands."""
    key = await _owned(runtime, principal, public_id)
    async with runtime.session_factory() as session:
        row = await store.get_batch(session=session, batch_id=key)
    assert row is not None
    return await _view(runtime, row)


async def list_batches(runtime: Runtime, *, principal: Principal, after: str | None, limit: int) -> BatchList:
    """A page of the caller's batches, newest first."""
    cursor = parse_batch_id(after) if after else None
    async with runtime.session_factory() as session:
        rows = await store.list_batches(session=session, owner_id=principal.user_id, after=cursor, limit=limit + 1)
    data = [await _view(runtime, row) for row in rows[:limit]]
    return BatchList(
        data=data,
        first_id=data[0].id if data else None,
        last_id=data[-1].id if data else None,
        has_more=len(rows) > limit,
    )


async def cancel_batch(runtime: Runtime, *, principal: Principal, client: ClientInfo, public_id: str) -> BatchObject:
    """Stop a batch: at once when no worker took it yet, else between two lines (``cancelling`` meanwhile).

    The lines already answered stay available in the output file, as at OpenAI; 409 once the batch is over.
    """
    key = await _owned(runtime, principal, public_id)
    now = utcnow()
    async with runtime.session_factory.begin() as session:
        moved = await store.set_status(
            session=session,
            batch_id=key,
            status=BatchStatus.CANCELLING,
            when=(BatchStatus.VALIDATING, BatchStatus.IN_PROGRESS),
            cancelling_at=now,
        )
        row = await store.get_batch(session=session, batch_id=key)
        assert row is not None
        if not moved and row.status != BatchStatus.CANCELLING:
            raise ConflictError(
                f"Ce lot est à l’état « {row.status.value} » : il ne peut plus être annulé.", code="batch_over"
            )
        queued = row.job_id is not None and await store.cancel_queued_job(session=session, job_id=row.job_id)
    if queued:  # no worker will ever see it: close it here
        await finalize(runtime, key, BatchStatus.CANCELLED)
    await runtime.audit.record(
        category="audit",
        action="batch.cancel",
        actor_id=principal.user_id,
        actor_label=principal.username,
        resource_type="batch",
        resource_id=public_id,
        client=client,
    )
    return await get_batch(runtime, principal=principal, public_id=public_id)
