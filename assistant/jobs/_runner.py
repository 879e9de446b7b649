"""Runs one job: claim it, keep its lease alive, call its handler, record the outcome."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from assistant.errors import ServiceUnavailableError, UserFacingError
from assistant.jobs._registry import JobContext, JobRegistry
from assistant.store import jobs as job_store
from assistant.store.models import JobStatus
from assistant.telemetry import note_job

__all__ = ["JobRunner"]

logger = logging.getLogger(__name__)


class JobRunner:
    """Executes jobs handed over by the queue, at most one worker at a time per job."""

    def __init__(
        self,
        *,
        session_factory: async_sessionmaker[AsyncSession],
        registry: JobRegistry,
        worker_id: str,
        lease: timedelta,
    ) -> None:
        self._sessions = session_factory
        self._registry = registry
        self._worker_id = worker_id
        self._lease = lease

    async def run(self, job_id: uuid.UUID) -> JobStatus | None:
        """Run the job if this worker wins it; returns its final status, or None when another worker has it."""
        async with self._sessions.begin() as session:
            if not await job_store.claim_job(
                session=session, job_id=job_id, worker_id=self._worker_id, lease=self._lease
            ):
                logger.debug("job %s not claimable (done, running elsewhere or unknown)", job_id)
                return None
            job = await job_store.get_job(session=session, job_id=job_id)
            assert job is not None
            await session.refresh(job)
            context = JobContext(
                job_id=job.id,
                kind=job.kind,
                payload=dict(job.payload),
                owner_id=job.owner_id,
                attempt=job.attempts,
                _report=lambda fraction, message: self._report(job_id, fraction, message),
            )
            can_retry = job.attempts < job.max_attempts
        logger.info("job %s (%s) started, attempt %d", job_id, context.kind, context.attempt)
        note_job(kind=context.kind, attempt=context.attempt)
        heartbeat = asyncio.create_task(self._heartbeat(job_id))
        try:
            result = await self._registry.get(context.kind)(context)
        except UserFacingError as exc:
            return await self._finish(job_id, JobStatus.FAILED, error=exc.message)
        except ServiceUnavailableError as exc:
            if can_retry:
                return await self._requeue(job_id, exc.message)
            return await self._finish(job_id, JobStatus.FAILED, error=exc.message)
        except Exception:
            logger.exception("job %s (%s) crashed", job_id, context.kind)
            return await self._finish(
                job_id,
                JobStatus.FAILED,
                error="Erreur interne pendant le traitement ; l'incident est journalisé.",
            )
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat
        return await self._finish(job_id, JobStatus.SUCCEEDED, result=result or {})

    async def _finish(
        self,
        job_id: uuid.UUID,
        status: JobStatus,
        *,
        result: dict[str, object] | None = None,
        error: str | None = None,
    ) -> JobStatus:
        async with self._sessions.begin() as session:
            owned = await job_store.finish_job(
                session=session,
                job_id=job_id,
                worker_id=self._worker_id,
                status=status,
                result=result,
                error=error,
            )
        if not owned:
            logger.warning("job %s finished after its lease was lost; outcome discarded", job_id)
        logger.info("job %s %s", job_id, status.value)
        return status

    async def _requeue(self, job_id: uuid.UUID, reason: str) -> JobStatus:
        # Expiring the lease now hands the job to the recovery loop, which re-sends it.
        async with self._sessions.begin() as session:
            await job_store.renew_lease(
                session=session, job_id=job_id, worker_id=self._worker_id, lease=timedelta(seconds=-1)
            )
            await job_store.release_expired_leases(session=session)
        logger.warning("job %s will be retried: %s", job_id, reason)
        return JobStatus.QUEUED

    async def _report(self, job_id: uuid.UUID, fraction: float, message: str | None) -> None:
        async with self._sessions.begin() as session:
            await job_store.set_progress(
                session=session, job_id=job_id, worker_id=self._worker_id, fraction=fraction, message=message
            )

    async def _heartbeat(self, job_id: uuid.UUID) -> None:
        interval = max(self._lease.total_seconds() / 3, 0.05)
        while True:
            await asyncio.sleep(interval)
            try:
                async with self._sessions.begin() as session:
                    await job_store.renew_lease(
                        session=session, job_id=job_id, worker_id=self._worker_id, lease=self._lease
                    )
            except Exception:  # a missed beat is retried; the lease leaves room for two more
                logger.warning("could not renew the lease of job %s", job_id, exc_info=True)
