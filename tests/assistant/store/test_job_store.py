"""The job table's concurrency rules, on both databases."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from assistant.store import create_engine, create_session_factory, upgrade_database
from assistant.store import jobs as job_store
from assistant.store.models import JobStatus

LEASE = timedelta(seconds=30)


async def _scenario(url: str) -> None:
    engine = create_engine(url)
    sessions = create_session_factory(engine)
    try:
        async with sessions.begin() as session:
            job = await job_store.add_job(session=session, kind="k", payload={"n": 1}, max_attempts=2)

        async def claim(worker: str) -> bool:
            async with sessions.begin() as session:
                return await job_store.claim_job(session=session, job_id=job.id, worker_id=worker, lease=LEASE)

        wins = await asyncio.gather(claim("w1"), claim("w2"), claim("w3"))
        assert sorted(wins) == [False, False, True], "exactly one worker may claim a queued job"
        winner = f"w{wins.index(True) + 1}"

        async with sessions.begin() as session:
            assert not await job_store.renew_lease(session=session, job_id=job.id, worker_id="other", lease=LEASE)
            # Nothing expired yet: recovery leaves the running job alone.
            assert await job_store.release_expired_leases(session=session) == 0
            # The worker vanishes: its lease ends.
            future = job_store.utcnow() + timedelta(minutes=5)
            assert await job_store.release_expired_leases(session=session, now=future) == 1
        async with sessions.begin() as session:
            reloaded = await job_store.get_job(session=session, job_id=job.id)
            assert reloaded is not None
            await session.refresh(reloaded)
            assert (reloaded.status, reloaded.worker_id, reloaded.attempts) == (JobStatus.QUEUED, None, 1)
            # The dead worker cannot finish a job it no longer owns.
            assert not await job_store.finish_job(
                session=session, job_id=job.id, worker_id=winner, status=JobStatus.SUCCEEDED
            )
            assert await job_store.jobs_to_recover(session=session, older_than=LEASE) == [job.id]
            assert await job_store.jobs_to_recover(session=session, older_than=LEASE) == []

        assert await claim("w4")
        async with sessions.begin() as session:
            future = job_store.utcnow() + timedelta(minutes=5)
            # Second attempt was the last one allowed: expiry now fails the job instead of looping forever.
            assert await job_store.release_expired_leases(session=session, now=future) == 1
        async with sessions.begin() as session:
            failed = await job_store.get_job(session=session, job_id=job.id)
            assert failed is not None
            await session.refresh(failed)
            assert failed.status == JobStatus.FAILED
            assert failed.attempts == 2
            assert failed.error and "interrompu" in failed.error
    finally:
        await engine.dispose()


def test_claims_leases_and_attempts(database_url: str) -> None:
    upgrade_database(database_url)
    asyncio.run(_scenario(database_url))


async def _finish(url: str) -> None:
    engine = create_engine(url)
    sessions = create_session_factory(engine)
    try:
        async with sessions.begin() as session:
            job = await job_store.add_job(session=session, kind="k", payload={})
            assert await job_store.claim_job(session=session, job_id=job.id, worker_id="w", lease=LEASE)
            await job_store.set_progress(session=session, job_id=job.id, worker_id="w", fraction=1.7, message="x")
            assert await job_store.finish_job(
                session=session, job_id=job.id, worker_id="w", status=JobStatus.SUCCEEDED, result={"ok": True}
            )
            # A finished job is never claimed again, whatever duplicate message arrives.
            assert not await job_store.claim_job(session=session, job_id=job.id, worker_id="w2", lease=LEASE)
        async with sessions() as session:
            done = await job_store.get_job(session=session, job_id=job.id)
            assert done is not None
            assert (done.status, done.result, done.progress) == (JobStatus.SUCCEEDED, {"ok": True}, 1.0)
            assert done.finished_at is not None and done.finished_at.tzinfo is not None
    finally:
        await engine.dispose()


def test_finished_job_keeps_its_result_and_is_never_reclaimed(database_url: str) -> None:
    upgrade_database(database_url)
    asyncio.run(_finish(database_url))
