"""Queries on background jobs, including the atomic claim that makes a job run once at a time."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from assistant.store._base import utcnow
from assistant.store.models import Job, JobStatus

__all__ = [
    "add_job",
    "claim_job",
    "finish_job",
    "get_job",
    "jobs_to_recover",
    "release_expired_leases",
    "renew_lease",
    "set_progress",
]


async def add_job(
    *,
    session: AsyncSession,
    kind: str,
    payload: dict[str, Any],
    owner_id: uuid.UUID | None = None,
    max_attempts: int = 3,
) -> Job:
    """Stage a queued job and flush it so that its id is known."""
    job = Job(kind=kind, payload=payload, owner_id=owner_id, max_attempts=max_attempts, enqueued_at=utcnow())
    session.add(job)
    await session.flush()
    return job


async def get_job(*, session: AsyncSession, job_id: uuid.UUID) -> Job | None:
    """The job with this id, if any."""
    return await session.get(Job, job_id)


async def claim_job(*, session: AsyncSession, job_id: uuid.UUID, worker_id: str, lease: timedelta) -> bool:
    """Take the job for ``worker_id`` if it is queued; True when this call won it.

    A single conditional UPDATE, so two workers receiving the same message cannot both win.
    """
    now = utcnow()
    result = await session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == JobStatus.QUEUED)
        .values(
            status=JobStatus.RUNNING,
            worker_id=worker_id,
            lease_until=now + lease,
            started_at=now,
            attempts=Job.attempts + 1,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def renew_lease(*, session: AsyncSession, job_id: uuid.UUID, worker_id: str, lease: timedelta) -> bool:
    """Extend the lease of a running job still owned by ``worker_id``; False when it was taken away."""
    result = await session.execute(
        update(Job)
        .where(Job.id == job_id, Job.worker_id == worker_id, Job.status == JobStatus.RUNNING)
        .values(lease_until=utcnow() + lease)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def set_progress(
    *, session: AsyncSession, job_id: uuid.UUID, worker_id: str, fraction: float, message: str | None
) -> None:
    """Record progress (0..1) of a running job owned by ``worker_id``."""
    await session.execute(
        update(Job)
        .where(Job.id == job_id, Job.worker_id == worker_id, Job.status == JobStatus.RUNNING)
        .values(progress=min(max(fraction, 0.0), 1.0), progress_message=message, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )


async def finish_job(
    *,
    session: AsyncSession,
    job_id: uuid.UUID,
    worker_id: str,
    status: JobStatus,
    result: dict[str, Any] | None = None,
    error: str | None = None,
) -> bool:
    """Close a running job owned by ``worker_id``; False when the lease was lost meanwhile."""
    now = utcnow()
    values: dict[str, Any] = {"status": status, "result": result, "error": error, "finished_at": now}
    values.update(lease_until=None, updated_at=now)
    if status == JobStatus.SUCCEEDED:
        values["progress"] = 1.0
    outcome = await session.execute(
        update(Job)
        .where(Job.id == job_id, Job.worker_id == worker_id, Job.status == JobStatus.RUNNING)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(outcome.rowcount == 1)  # type: ignore[attr-defined]


async def release_expired_leases(*, session: AsyncSession, now: datetime | None = None) -> int:
    """Put running jobs whose worker vanished back in the queue, or fail them after their last attempt."""
    now = now or utcnow()
    expired = and_(Job.status == JobStatus.RUNNING, Job.lease_until < now)
    failed = await session.execute(
        update(Job)
        .where(expired, Job.attempts >= Job.max_attempts)
        .values(
            status=JobStatus.FAILED,
            error="Le traitement a été interrompu à chaque tentative ; abandon.",
            finished_at=now,
            lease_until=None,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    requeued = await session.execute(
        update(Job)
        .where(expired, Job.attempts < Job.max_attempts)
        .values(status=JobStatus.QUEUED, worker_id=None, lease_until=None, enqueued_at=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(failed.rowcount) + int(requeued.rowcount)  # type: ignore[attr-defined]


async def jobs_to_recover(*, session: AsyncSession, older_than: timedelta, limit: int = 100) -> list[uuid.UUID]:
    """Queued jobs whose queue message may be lost (never sent, or sent long ago); marks them re-sent now."""
    now = utcnow()
    stale = or_(Job.enqueued_at.is_(None), Job.enqueued_at < now - older_than)
    rows = await session.execute(
        select(Job.id).where(Job.status == JobStatus.QUEUED, stale).order_by(Job.created_at).limit(limit)
    )
    ids = list(rows.scalars())
    if ids:
        await session.execute(
            update(Job).where(Job.id.in_(ids)).values(enqueued_at=now).execution_options(synchronize_session=False)
        )
    return ids
