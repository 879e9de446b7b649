"""The worker side of batches: the ``batches.run`` job handler.

Lines run one at a time, at the lowest priority, as the batch's owner (with the scopes of the key that created
it). Each line's result is committed on its own with the batch's counts, so a worker killed mid-batch loses at
most the line in flight: the resumed job skips every line that has a result, and the (batch, line) key refuses a
second result for the same line. A cancellation is seen between two lines; the 24 h window is checked there too.

Per-line failures (quota used up → 429, guard, sovereignty, a model error) go to the error file and the batch goes
on, as OpenAI's does: a daily token quota that runs out mid-batch fails the remaining lines quickly (no model
call) rather than holding the batch. Model servers down or saturated are waited for (a few retries, then the job
is handed back to the queue and resumes later) instead of failing lines that would succeed a minute later.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import uuid
from typing import Any

from sqlalchemy.exc import IntegrityError

from assistant.errors import AuthenticationError, ServiceUnavailableError, UserFacingError
from assistant.jobs import JobContext, JobRegistry
from assistant.llm import errors as llm_errors
from assistant.runtime import Runtime
from assistant.security import Permission, Principal, Scope, permissions_for
from assistant.services.batch._input import ParsedLine, parse_input
from assistant.services.batch._lines import LineOutcome, not_run, refused, run_line
from assistant.services.batch._results import finalize
from assistant.services.batch.batches import RUN_JOB
from assistant.store import api_keys as key_store
from assistant.store import batches as store
from assistant.store import groups as group_store
from assistant.store import users as user_store
from assistant.store import utcnow
from assistant.store.models import Batch, BatchStatus

__all__ = ["register", "run_batch"]

logger = logging.getLogger(__name__)

# Waits for a model server that is down or saturated, before handing the job back to the queue.
UNAVAILABLE_DELAYS = (1.0, 2.0, 5.0, 10.0)


async def _principal(runtime: Runtime, batch: Batch) -> Principal:
    """The owner as they were when creating the batch: refused if the account or the key no longer may."""
    now = utcnow()
    async with runtime.session_factory() as session:
        user = await user_store.get_user(session=session, user_id=batch.owner_id)
        if user is None or not user.is_active:
            raise AuthenticationError("Compte désactivé : le lot ne peut plus s'exécuter.", code="account_disabled")
        key = await key_store.get_api_key(session=session, key_id=batch.api_key_id) if batch.api_key_id else None
        if key is not None and (key.revoked_at is not None or (key.expires_at is not None and key.expires_at <= now)):
            raise AuthenticationError(
                "La clé d'API qui a créé le lot est révoquée ou expirée : le lot s'arrête.", code="api_key_revoked"
            )
        groups = tuple(await group_store.group_names_of(session=session, user_id=user.id))
    scopes = [Scope(value) for value in key.scopes if value in Scope.__members__.values()] if key else None
    principal = Principal(
        user_id=user.id,
        username=user.username,
        role=user.role,
        method="api_key" if key is not None else "session",
        permissions=permissions_for(user.role, scopes),
        api_key_id=key.id if key is not None else None,
        api_key_requests_per_minute=key.requests_per_minute if key is not None else None,
        groups=groups,
    )
    principal.require(Permission.CHAT)
    return principal


async def _answer(runtime: Runtime, principal: Principal, line: ParsedLine, *, last_attempt: bool) -> LineOutcome:
    for delay in (*UNAVAILABLE_DELAYS, None):
        try:
            return await run_line(runtime, principal, line)
        except llm_errors.UpstreamUnavailableError as exc:
            if delay is None:
                if last_attempt:
                    return refused(line, f"req_{uuid.uuid4().hex}", exc)
                raise ServiceUnavailableError(f"Serveur de modèle indisponible : {exc.message}") from exc
            await asyncio.sleep(delay)
    raise AssertionError("unreachable")


async def _record(runtime: Runtime, key: uuid.UUID, line: ParsedLine, outcome: LineOutcome) -> None:
    ok, output = outcome
    try:
        async with runtime.session_factory.begin() as session:
            await store.add_result(
                session=session, batch_id=key, line_index=line.index, custom_id=line.custom_id, ok=ok, line=output
            )
    except IntegrityError:  # a worker that lost its lease finished the same line: the first result stands
        logger.warning("batch %s line %d already has a result; this one is dropped", key, line.index)


async def _state(runtime: Runtime, key: uuid.UUID) -> Batch | None:
    async with runtime.session_factory() as session:
        return await store.get_batch(session=session, batch_id=key)


async def run_batch(runtime: Runtime, context: JobContext) -> dict[str, Any]:
    """Run (or resume) the batch named in the payload, then write its output and error files."""
    key = uuid.UUID(str(context.payload["batch_id"]))
    batch = await _state(runtime, key)
    if batch is None or batch.status.terminal:
        return {"batch_id": str(key), "skipped": "supprimé ou terminé"}
    if batch.status == BatchStatus.CANCELLING:
        await finalize(runtime, key, BatchStatus.CANCELLED)
        return {"batch_id": str(key), "status": "cancelled"}
    async with runtime.session_factory() as session:
        source = await store.file_content(session=session, file_id=batch.input_file_id)
        done = await store.done_lines(session=session, batch_id=key)
    try:
        if source is None:
            raise UserFacingError("Le fichier d'entrée a été supprimé.", code="input_file_deleted")
        lines = parse_input(source.content, max_lines=runtime.settings.batch_max_lines)
        principal = await _principal(runtime, batch)
    except UserFacingError as exc:
        await finalize(runtime, key, BatchStatus.FAILED, errors=[{"code": exc.code, "message": exc.message}])
        return {"batch_id": str(key), "status": "failed"}
    async with runtime.session_factory.begin() as session:
        await store.set_status(
            session=session,
            batch_id=key,
            status=BatchStatus.IN_PROGRESS,
            when=(BatchStatus.VALIDATING,),
            in_progress_at=utcnow(),
        )
    last_attempt = context.attempt >= runtime.settings.job_max_attempts
    if done:
        logger.info("batch %s resumed: %d of %d lines already done", key, len(done), len(lines))
    for line in lines:
        if line.index in done:
            continue
        batch = await _state(runtime, key)
        if batch is None:
            return {"batch_id": str(key), "skipped": "supprimé"}
        if batch.status == BatchStatus.CANCELLING:
            await finalize(runtime, key, BatchStatus.CANCELLED)
            return {"batch_id": str(key), "status": "cancelled"}
        if utcnow() >= batch.expires_at:
            for late in (item for item in lines if item.index not in done and item.index >= line.index):
                message = "Requête non traitée dans le délai de 24 h du lot."
                await _record(runtime, key, late, not_run(late, "batch_expired", message))
            await finalize(runtime, key, BatchStatus.EXPIRED)
            return {"batch_id": str(key), "status": "expired"}
        await _record(runtime, key, line, await _answer(runtime, principal, line, last_attempt=last_attempt))
        done.add(line.index)
        await context.report_progress(len(done) / len(lines), f"Lot : {len(done)}/{len(lines)} requêtes traitées")
    await finalize(runtime, key, BatchStatus.COMPLETED)
    return {"batch_id": str(key), "status": "completed", "requests": len(lines)}


def register(registry: JobRegistry, runtime: Runtime) -> None:
    """Add the batch handler to a worker's registry, bound to that worker's runtime."""
    registry.register(RUN_JOB, functools.partial(run_batch, runtime))
