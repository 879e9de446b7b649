"""Jobs run once, report progress, and survive process restarts and crashes (SQLite+huey file, PostgreSQL+Redis)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from assistant.core.config import Settings
from assistant.errors import UnknownJobKindError
from assistant.runtime import Runtime, open_runtime
from assistant.services.operations.jobs import get_job, submit_job
from assistant.store.models import Job, JobStatus
from tests.factories import REDIS_URL

ROOT = Path(__file__).resolve().parents[3]
HANDLERS = "tests.assistant.jobs.handlers"


async def _wait_for(runtime: Runtime, job_id: uuid.UUID, *, timeout: float = 30) -> Job:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = await get_job(runtime, job_id=job_id, owner_id=None)
        if job.status in (JobStatus.SUCCEEDED, JobStatus.FAILED):
            return job
        await asyncio.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish in {timeout}s (status {job.status})")


@pytest.fixture
def job_settings(settings_factory) -> Settings:  # type: ignore[no-untyped-def]
    return settings_factory(job_modules=[HANDLERS], job_lease_seconds=2, job_recovery_interval_seconds=0.3)


async def test_in_process_worker_runs_a_job_with_progress(job_settings: Settings) -> None:
    async with open_runtime(job_settings, with_worker=True) as runtime:
        job = await submit_job(runtime, kind="test.count_words", payload={"text": "un deux trois quatre"})
        assert job.status == JobStatus.QUEUED
        done = await _wait_for(runtime, job.id)
    assert (done.status, done.result, done.progress, done.attempts) == (JobStatus.SUCCEEDED, {"words": 4}, 1.0, 1)
    assert done.progress_message == "mot 4/4"


async def test_unknown_kind_is_refused_before_anything_is_stored(job_settings: Settings) -> None:
    async with open_runtime(job_settings, with_worker=False) as runtime:
        with pytest.raises(UnknownJobKindError, match=r"test\.count_words"):
            await submit_job(runtime, kind="documents.nope", payload={})


async def test_user_facing_failure_keeps_its_message_and_crash_hides_internals(job_settings: Settings) -> None:
    async with open_runtime(job_settings, with_worker=True) as runtime:
        rejected = await submit_job(runtime, kind="test.reject", payload={})
        crashed = await submit_job(runtime, kind="test.crash", payload={})
        rejected_done = await _wait_for(runtime, rejected.id)
        crashed_done = await _wait_for(runtime, crashed.id)
    assert (rejected_done.status, rejected_done.error) == (JobStatus.FAILED, "Fichier illisible : format non reconnu.")
    assert crashed_done.status == JobStatus.FAILED
    assert crashed_done.error is not None and "internal detail" not in crashed_done.error


async def test_jobs_of_other_owners_are_not_found(job_settings: Settings) -> None:
    from assistant.errors import NotFoundError

    async with open_runtime(job_settings, with_worker=False) as runtime:
        job = await submit_job(runtime, kind="test.count_words", payload={"text": "a"})
        with pytest.raises(NotFoundError):
            await get_job(runtime, job_id=job.id, owner_id=uuid.uuid4())


# --- separate worker processes -------------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql+redis"])
def deployment(request: pytest.FixtureRequest, settings_factory) -> Iterator[Settings]:  # type: ignore[no-untyped-def]
    """The embedded deployment and the production one, each with its own database and queue."""
    common = {"job_modules": [HANDLERS], "job_lease_seconds": 1.0, "job_recovery_interval_seconds": 0.3}
    if request.param == "sqlite":
        yield settings_factory(**common)
        return
    queue_name = f"test-{uuid.uuid4().hex[:10]}"
    client = redis.Redis.from_url(REDIS_URL)
    try:
        yield settings_factory(
            database_url=request.getfixturevalue("postgres_url"),
            jobs_backend="redis",
            redis_url=REDIS_URL,
            jobs_queue_name=queue_name,
            **common,
        )
    finally:
        for key in client.scan_iter(f"huey.*{queue_name}*"):
            client.delete(key)
        client.close()


def _environment(settings: Settings) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("SOUVERAIN_")}
    env.update(
        PYTHONPATH=str(ROOT),
        SOUVERAIN_DATA_DIR=str(settings.data_dir),
        SOUVERAIN_DATABASE_URL=settings.effective_database_url,
        SOUVERAIN_JOBS_BACKEND=settings.jobs_backend,
        SOUVERAIN_REDIS_URL=settings.redis_url,
        SOUVERAIN_JOBS_QUEUE_NAME=settings.jobs_queue_name,
        SOUVERAIN_JOB_MODULES=f'["{HANDLERS}"]',
        SOUVERAIN_JOB_LEASE_SECONDS=str(settings.job_lease_seconds),
        SOUVERAIN_JOB_RECOVERY_INTERVAL_SECONDS=str(settings.job_recovery_interval_seconds),
        SOUVERAIN_LOG_FORMAT="console",
    )
    return env


def _start_worker(settings: Settings, log: Path, heartbeat: Path | None = None) -> subprocess.Popen[bytes]:
    env = _environment(settings)
    if heartbeat is not None:
        env["SOUVERAIN_WORKER_HEARTBEAT_FILE"] = str(heartbeat)
    with log.open("ab") as output:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "assistant.cli", "worker"],
            env=env,
            cwd=ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def _stop(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> int:
    if process.poll() is None:
        process.send_signal(sig)
    return process.wait(timeout=30)


async def _wait_for_line(path: Path, line: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and line in path.read_text().splitlines():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{line!r} never appeared in {path}")


async def test_job_queued_while_no_worker_runs_is_done_by_a_worker_started_later(
    deployment: Settings, tmp_path: Path
) -> None:
    # The API process is stopped with the job still queued: nothing runs it yet.
    async with open_runtime(deployment, with_worker=False) as runtime:
        job = await submit_job(runtime, kind="test.count_words", payload={"text": "réunion du conseil"})
    heartbeat = tmp_path / "worker.heartbeat"
    worker = _start_worker(deployment, tmp_path / "worker.log", heartbeat=heartbeat)
    try:
        async with open_runtime(deployment, with_worker=False, migrate=False) as runtime:
            done = await _wait_for(runtime, job.id)
        assert time.time() - heartbeat.stat().st_mtime < 15, "the worker's liveness file is kept fresh"
    finally:
        exit_code = _stop(worker)
    assert (done.status, done.result, done.attempts) == (JobStatus.SUCCEEDED, {"words": 3}, 1)
    assert exit_code == 0, (tmp_path / "worker.log").read_text()


async def test_job_of_a_killed_worker_is_resumed_by_another_and_completes_once(
    deployment: Settings, tmp_path: Path
) -> None:
    events = tmp_path / "events.log"
    async with open_runtime(deployment, with_worker=False) as runtime:
        job = await submit_job(
            runtime,
            kind="test.count_words",
            payload={"text": "ordre du jour adopté", "stall_first_attempt": True, "log": str(events)},
        )
    first = _start_worker(deployment, tmp_path / "worker1.log")
    try:
        await _wait_for_line(events, "start 1")
    finally:
        _stop(first, signal.SIGKILL)
    second = _start_worker(deployment, tmp_path / "worker2.log")
    try:
        async with open_runtime(deployment, with_worker=False, migrate=False) as runtime:
            done = await _wait_for(runtime, job.id)
            # A stray duplicate message for a finished job must not run it again.
            runtime.job_queue.send(job.id)
            await asyncio.sleep(1.0)
            again = await get_job(runtime, job_id=job.id, owner_id=None)
    finally:
        _stop(second)
    assert (done.status, done.result, done.attempts) == (JobStatus.SUCCEEDED, {"words": 4}, 2)
    assert again.attempts == 2
    assert events.read_text().splitlines() == ["start 1", "start 2", "done 2"]
