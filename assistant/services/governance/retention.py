"""Retention limits (RGPD): delete conversations (and projects left empty), side-by-side comparisons, transcriptions,
batches with their files, and usage records past their configured age.

Run by every worker process on a schedule (idempotent: two workers purging together delete each row once), and
audited with the counts, never the content.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select

from assistant.runtime import Runtime
from assistant.services.batch.data import purge_batches
from assistant.services.meetings.live import purge_live_sessions
from assistant.services.meetings.transcriptions import delete_audio
from assistant.store import comparisons as comparison_store
from assistant.store import conversations as conversation_store
from assistant.store import projects as project_store
from assistant.store import prompts as prompt_store
from assistant.store import transcriptions as transcription_store
from assistant.store import utcnow
from assistant.store.models import Conversation, Transcription, UsageRecord

__all__ = ["RetentionOutcome", "apply_retention", "retention_loop", "retention_schedule"]

logger = logging.getLogger(__name__)
_STOP_GRACE_SECONDS = 30
_BATCH = 500


@dataclass(frozen=True)
class RetentionOutcome:
    """How many rows each rule deleted in one pass."""

    conversations: int
    transcriptions: int
    usage_records: int
    projects: int = 0
    prompt_uses: int = 0
    comparisons: int = 0
    batches: int = 0  # finished batches and old files, counted together


async def _purge_conversations(runtime: Runtime, days: int) -> int:
    cutoff = utcnow() - timedelta(days=days)
    async with runtime.session_factory.begin() as session:
        ids = list(
            (
                await session.execute(select(Conversation.id).where(Conversation.updated_at < cutoff).limit(_BATCH))
            ).scalars()
        )
        for conversation_id in ids:
            await conversation_store.delete_conversation(session=session, conversation_id=conversation_id)
    return len(ids)


async def _purge_projects(runtime: Runtime, days: int) -> int:
    """Projects left empty and unchanged past the conversations' limit: their instructions go with them."""
    cutoff = utcnow() - timedelta(days=days)
    async with runtime.session_factory.begin() as session:
        ids = await project_store.stale_empty_projects(session=session, before=cutoff, limit=_BATCH)
        for project_id in ids:
            await project_store.delete_project(session=session, project_id=project_id)
    return len(ids)


async def _purge_transcriptions(runtime: Runtime, days: int) -> int:
    await purge_live_sessions(runtime, days=days)  # live sessions: their audio, or a pointer to a transcription
    cutoff = utcnow() - timedelta(days=days)
    async with runtime.session_factory() as session:
        rows = list(
            (
                await session.execute(select(Transcription).where(Transcription.created_at < cutoff).limit(_BATCH))
            ).scalars()
        )
    for row in rows:
        await asyncio.to_thread(delete_audio, runtime, row)
        async with runtime.session_factory.begin() as session:
            fresh = await transcription_store.get_transcription(session=session, transcription_id=row.id)
            if fresh is not None:
                await transcription_store.delete_transcription(session=session, transcription=fresh)
    return len(rows)


async def _purge_usage(runtime: Runtime, days: int) -> int:
    cutoff = utcnow() - timedelta(days=days)
    async with runtime.session_factory.begin() as session:
        result = await session.execute(
            delete(UsageRecord).where(UsageRecord.created_at < cutoff).execution_options(synchronize_session=False)
        )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def _purge_comparisons(runtime: Runtime, days: int) -> int:
    """Comparisons hold questions and answers like conversations do: they are kept as long."""
    async with runtime.session_factory.begin() as session:
        return await comparison_store.purge_comparisons(session=session, before=utcnow() - timedelta(days=days))


async def _purge_prompt_uses(runtime: Runtime, days: int) -> int:
    """The prompt library's use records: indicators like the usage records, kept as long."""
    async with runtime.session_factory.begin() as session:
        return await prompt_store.purge_uses(session=session, before=utcnow() - timedelta(days=days))


async def apply_retention(runtime: Runtime) -> RetentionOutcome:
    """One pass of every retention rule in force."""
    settings = runtime.settings
    outcome = RetentionOutcome(
        conversations=await _purge_conversations(runtime, settings.retention_conversations_days)
        if settings.retention_conversations_days
        else 0,
        transcriptions=await _purge_transcriptions(runtime, settings.retention_transcriptions_days)
        if settings.retention_transcriptions_days
        else 0,
        usage_records=await _purge_usage(runtime, settings.retention_usage_days)
        if settings.retention_usage_days
        else 0,
        # After the conversations: a project their purge emptied goes in the same pass.
        projects=await _purge_projects(runtime, settings.retention_conversations_days)
        if settings.retention_conversations_days
        else 0,
        prompt_uses=await _purge_prompt_uses(runtime, settings.retention_usage_days)
        if settings.retention_usage_days
        else 0,
        comparisons=await _purge_comparisons(runtime, settings.retention_conversations_days)
        if settings.retention_conversations_days
        else 0,
        batches=await purge_batches(runtime, settings.retention_batches_days) if settings.retention_batches_days else 0,
    )
    if any(dataclasses.astuple(outcome)):
        await runtime.audit.record(
            category="audit",
            action="retention.purge",
            actor_label="système",
            details={
                "conversations": outcome.conversations,
                "transcriptions": outcome.transcriptions,
                "usage_records": outcome.usage_records,
                "projects": outcome.projects,
                "prompt_uses": outcome.prompt_uses,
                "comparisons": outcome.comparisons,
                "batches": outcome.batches,
            },
        )
        logger.info("retention purge: %s", outcome)
    return outcome


async def retention_loop(runtime: Runtime, stop: asyncio.Event | None = None) -> None:
    """Apply the retention rules now and then every ``retention_interval_hours``, until ``stop`` is set."""
    stop = stop or asyncio.Event()
    while not stop.is_set():
        try:
            await apply_retention(runtime)
        except Exception:  # a failed pass is retried at the next interval; the worker keeps working
            logger.exception("retention pass failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=runtime.settings.retention_interval_hours * 3600)


@asynccontextmanager
async def retention_schedule(runtime: Runtime) -> AsyncIterator[None]:
    """Run :func:`retention_loop` in the background for the duration of the block (worker processes).

    At the end the pass under way finishes before the database closes: a pass cancelled in the middle of a query
    would leave its connection to be collected unclosed.
    """
    stop = asyncio.Event()
    task = asyncio.create_task(retention_loop(runtime, stop), name="retention")
    try:
        yield
    finally:
        stop.set()
        try:
            await asyncio.wait_for(task, timeout=_STOP_GRACE_SECONDS)
        except TimeoutError:
            logger.warning("retention pass still running at shutdown: cancelled")
