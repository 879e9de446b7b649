"""Submitting background jobs and reading their state."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from assistant.errors import NotFoundError, ServiceUnavailableError
from assistant.runtime import Runtime
from assistant.store import jobs as job_store
from assistant.store.models import Job

__all__ = ["get_job", "submit_job"]

logger = logging.getLogger(__name__)


async def submit_job(runtime: Runtime, *, kind: str, payload: dict[str, Any], owner_id: uuid.UUID | None = None) -> Job:
    """Record a job, then queue it. The record is committed first, so a queue outage delays it, never loses it."""
    runtime.job_registry.get(kind)  # refuse unknown kinds before anything is stored
    async with runtime.session_factory.begin() as session:
        job = await job_store.add_job(
            session=session,
            kind=kind,
            payload=payload,
            owner_id=owner_id,
            max_attempts=runtime.settings.job_max_attempts,
        )
    try:
        runtime.job_queue.send(job.id)
    except ServiceUnavailableError:
        logger.warning("queue unreachable; job %s stays recorded and will be re-sent", job.id)
    return job


async def get_job(runtime: Runtime, *, job_id: uuid.UUID, owner_id: uuid.UUID | None) -> Job:
    """The job, if it exists and belongs to ``owner_id`` (None: system job visible to administrators)."""
    async with runtime.session_factory() as session:
        job = await job_store.get_job(session=session, job_id=job_id)
    if job is None or job.owner_id != owner_id:
        raise NotFoundError("Tâche introuvable.")
    return job
