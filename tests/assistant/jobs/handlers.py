"""Job handlers used by the job tests, loaded by workers through SOUVERAIN_JOB_MODULES like any plugin."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from assistant.errors import InvalidRequestError
from assistant.jobs import JobContext, JobRegistry


def _log(context: JobContext, event: str) -> None:
    log = context.payload.get("log")
    if log:
        with Path(log).open("a", encoding="utf-8") as handle:
            handle.write(f"{event} {context.attempt}\n")


async def count_words(context: JobContext) -> dict[str, Any]:
    """Counts words, in steps, so that progress and crashes mid-way can be observed."""
    _log(context, "start")
    words = str(context.payload["text"]).split()
    if context.attempt == 1 and context.payload.get("stall_first_attempt"):
        await asyncio.sleep(3600)
    for index in range(len(words)):
        await context.report_progress((index + 1) / len(words), f"mot {index + 1}/{len(words)}")
    _log(context, "done")
    return {"words": len(words)}


async def reject(context: JobContext) -> None:
    raise InvalidRequestError("Fichier illisible : format non reconnu.")


async def crash(context: JobContext) -> None:
    raise ZeroDivisionError("internal detail")


def register(registry: JobRegistry, runtime: object) -> None:
    registry.register("test.count_words", count_words)
    registry.register("test.reject", reject)
    registry.register("test.crash", crash)
