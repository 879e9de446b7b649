"""Readiness: can this process serve requests right now?"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from dataclasses import dataclass

from sqlalchemy import text

from assistant.errors import ServiceUnavailableError
from assistant.runtime import Runtime

__all__ = ["CheckResult", "check_readiness"]

logger = logging.getLogger(__name__)

_CHECK_TIMEOUT_SECONDS = 3.0


@dataclass(frozen=True)
class CheckResult:
    """Outcome of one dependency check."""

    name: str
    ok: bool
    detail: str


async def _database(runtime: Runtime) -> None:
    async with runtime.engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


async def _queue(runtime: Runtime) -> None:
    await asyncio.to_thread(runtime.job_queue.pending)


async def _run(name: str, check: Awaitable[str | None]) -> CheckResult:
    try:
        detail = await asyncio.wait_for(check, timeout=_CHECK_TIMEOUT_SECONDS)
    except TimeoutError:
        return CheckResult(name, False, "pas de réponse en 3 s")
    except ServiceUnavailableError as exc:
        return CheckResult(name, False, exc.message)
    except Exception as exc:
        logger.warning("readiness check %s failed: %s", name, exc)
        return CheckResult(name, False, type(exc).__name__)
    return CheckResult(name, True, detail or "ok")


async def check_readiness(runtime: Runtime) -> list[CheckResult]:
    """Check the database, the job queue and every registered dependency concurrently."""
    checks = {"database": _database(runtime), "job_queue": _queue(runtime)}
    checks.update({name: check() for name, check in runtime.readiness_checks.items()})
    return list(await asyncio.gather(*(_run(name, coroutine) for name, coroutine in checks.items())))
