"""A worker: huey consumer threads that run jobs on an asyncio loop, plus the recovery loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from datetime import timedelta
from typing import TYPE_CHECKING

from huey.consumer import Consumer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from assistant.errors import ServiceUnavailableError
from assistant.jobs._queue import JobQueue
from assistant.jobs._registry import JobRegistry
from assistant.jobs._runner import JobRunner
from assistant.store import jobs as job_store
from assistant.store.models import JobStatus
from assistant.telemetry import job_span

if TYPE_CHECKING:
    from assistant.telemetry import Tracing

__all__ = ["Worker"]

logger = logging.getLogger(__name__)


class _EmbeddedConsumer(Consumer):  # type: ignore[misc]
    """A huey consumer that leaves signal handling to its host (uvicorn or our CLI)."""

    def _set_signal_handlers(self) -> None:
        return None


class Worker:
    """Consumes the job queue in this process until stopped.

    Jobs run as coroutines on the loop that called :meth:`start`, so they share the process's database engine.
    """

    def __init__(
        self,
        *,
        queue: JobQueue,
        registry: JobRegistry,
        session_factory: async_sessionmaker[AsyncSession],
        concurrency: int,
        lease: timedelta,
        recovery_interval: float,
        tracing: Tracing | None = None,
    ) -> None:
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._queue = queue
        self._sessions = session_factory
        self._runner = JobRunner(
            session_factory=session_factory, registry=registry, worker_id=self.worker_id, lease=lease
        )
        self._lease = lease
        self._concurrency = concurrency
        self._recovery_interval = recovery_interval
        self._consumer: _EmbeddedConsumer | None = None
        self._recovery: asyncio.Task[None] | None = None
        self._tracing = tracing

    async def start(self) -> None:
        """Start consuming; returns at once."""
        loop = asyncio.get_running_loop()

        def execute(job_id: uuid.UUID, trace: dict[str, str]) -> None:
            asyncio.run_coroutine_threadsafe(self._run(job_id, trace), loop).result()

        self._queue.bind_executor(execute)
        await self.recover_once()
        self._consumer = _EmbeddedConsumer(
            self._queue.huey,
            workers=self._concurrency,
            periodic=False,
            initial_delay=0.05,
            max_delay=1.0,
            check_worker_health=False,
        )
        self._consumer.start()
        self._recovery = asyncio.create_task(self._recovery_loop())
        logger.info("worker %s started with %d slots", self.worker_id, self._concurrency)

    async def _run(self, job_id: uuid.UUID, trace: dict[str, str]) -> JobStatus | None:
        """One delivery of a job, in a span of its own that continues the enqueuing request's trace."""
        async with job_span(self._tracing, job_id=job_id, parent=trace) as span:
            status = await self._runner.run(job_id)
            span.outcome(status.value if status is not None else "skipped")
        return status

    async def stop(self, *, grace_seconds: float = 30.0) -> None:
        """Stop taking jobs and wait (up to ``grace_seconds``) for running ones; unfinished ones are recovered later."""
        if self._recovery is not None:
            self._recovery.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._recovery
        if self._consumer is not None:
            consumer = self._consumer
            consumer.shutdown_timeout = grace_seconds
            # Jobs running on this loop must keep progressing while the consumer threads drain.
            await asyncio.to_thread(consumer.stop, graceful=True)
        logger.info("worker %s stopped", self.worker_id)

    async def recover_once(self) -> int:
        """Requeue jobs whose worker died and re-send jobs whose message may be lost; returns how many."""
        async with self._sessions.begin() as session:
            await job_store.release_expired_leases(session=session)
            ids = await job_store.jobs_to_recover(session=session, older_than=self._lease)
        for job_id in ids:
            try:
                self._queue.send(job_id)
            except ServiceUnavailableError:
                logger.warning("queue unreachable; job %s will be re-sent later", job_id)
        if ids:
            logger.info("re-sent %d job(s)", len(ids))
        return len(ids)

    async def _recovery_loop(self) -> None:
        while True:
            await asyncio.sleep(self._recovery_interval)
            try:
                await self.recover_once()
            except Exception:
                logger.exception("job recovery pass failed")
