"""Delivery of job ids to workers through huey (SQLite file embedded, Redis in production).

Only the job id travels through the queue; the job itself lives in the database (``assistant.store``), which is
what makes a lost or duplicated message harmless: the recovery loop re-sends, the claim lets one worker win. With
telemetry on, the message also carries the sender's W3C trace context, so the job's span joins the request's trace
(a job re-sent by the recovery loop starts a trace of its own).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from huey import Huey, RedisHuey, SqliteHuey
from huey.exceptions import HueyException
from redis.exceptions import RedisError

from assistant.errors import ServiceUnavailableError
from assistant.telemetry import job_trace_context

__all__ = ["JobQueue"]

logger = logging.getLogger(__name__)

_TASK_NAME = "souverain.execute_job"
# The job id, and the trace context of whoever queued it (empty when nothing is traced).
Executor = Callable[[uuid.UUID, dict[str, str]], None]


class JobQueue:
    """Sends job ids to whichever worker process consumes the same huey storage."""

    def __init__(self, huey: Huey) -> None:
        self.huey = huey
        self._executor: Executor | None = None
        self._task = huey.task(name=_TASK_NAME)(self._execute)

    @classmethod
    def create(
        cls,
        *,
        backend: Literal["sqlite", "redis"],
        sqlite_path: Path | None = None,
        redis_url: str | None = None,
    ) -> JobQueue:
        """A queue on the embedded SQLite file or on Redis."""
        if backend == "redis":
            return cls(RedisHuey("souverain", url=redis_url, results=False, utc=True))
        if sqlite_path is None:
            raise ValueError("sqlite_path is required for the sqlite backend")
        sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        return cls(SqliteHuey("souverain", filename=str(sqlite_path), results=False, utc=True))

    def bind_executor(self, executor: Executor) -> None:
        """Let this process run the jobs it receives (worker side)."""
        self._executor = executor

    def send(self, job_id: uuid.UUID) -> None:
        """Queue ``job_id`` for a worker."""
        try:
            self._task(str(job_id), job_trace_context())
        except (RedisError, HueyException, OSError) as exc:
            raise ServiceUnavailableError("La file des tâches est injoignable ; réessayez plus tard.") from exc

    def pending(self) -> int:
        """Messages waiting in the queue (for readiness and metrics)."""
        try:
            return int(self.huey.pending_count())
        except (RedisError, HueyException, OSError) as exc:
            raise ServiceUnavailableError("La file des tâches est injoignable.") from exc

    def _execute(self, job_id: str, trace: dict[str, str] | None = None) -> None:
        if self._executor is None:
            # A process without a worker never consumes; this only happens if misconfigured.
            logger.error("received job %s but no executor is bound in this process", job_id)
            return
        # Messages queued before an upgrade carry no trace context.
        self._executor(uuid.UUID(job_id), trace or {})
