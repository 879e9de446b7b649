"""Which coroutine handles which kind of job."""

from __future__ import annotations

import importlib
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from assistant.errors import ConfigurationError, UnknownJobKindError

__all__ = ["JobContext", "JobHandler", "JobRegistry", "load_job_modules"]

ProgressReporter = Callable[[float, str | None], Awaitable[None]]


@dataclass(frozen=True)
class JobContext:
    """What a handler knows about the job it runs.

    Handlers must be idempotent: after a worker crash the same job runs again (``attempt`` > 1). A handler that
    needs more than the payload (database, models, signer) is bound to them when its module registers it.
    """

    job_id: uuid.UUID
    kind: str
    payload: dict[str, Any]
    owner_id: uuid.UUID | None
    attempt: int
    _report: ProgressReporter = field(repr=False)

    async def report_progress(self, fraction: float, message: str | None = None) -> None:
        """Record how far the job is (0..1), with an optional short French message for the user."""
        await self._report(fraction, message)


JobHandler = Callable[[JobContext], Awaitable[dict[str, Any] | None]]


class JobRegistry:
    """Maps job kinds to handlers. Built-in handlers register exactly like extra modules do.

    Example::

        registry = JobRegistry()
        registry.register("documents.ingest", ingest_document)
    """

    def __init__(self) -> None:
        self._handlers: dict[str, JobHandler] = {}

    def register(self, kind: str, handler: JobHandler) -> None:
        """Make ``handler`` run the jobs of ``kind``; a kind can only be registered once."""
        if kind in self._handlers:
            raise ConfigurationError(f"job kind {kind!r} is registered twice")
        self._handlers[kind] = handler

    def get(self, kind: str) -> JobHandler:
        """The handler of ``kind``."""
        try:
            return self._handlers[kind]
        except KeyError:
            known = ", ".join(sorted(self._handlers)) or "aucun"
            raise UnknownJobKindError(f"Type de tâche inconnu : {kind!r} (connus : {known}).") from None

    def __contains__(self, kind: object) -> bool:
        return kind in self._handlers

    def kinds(self) -> list[str]:
        """Registered kinds, sorted."""
        return sorted(self._handlers)


def load_job_modules(registry: JobRegistry, modules: list[str], resources: Any) -> None:
    """Import each module and call its ``register(registry, resources)`` function.

    ``resources`` is what handlers are bound to (the process's runtime): this package never needs its type.
    """
    for name in modules:
        try:
            module = importlib.import_module(name)
        except ImportError as exc:
            raise ConfigurationError(f"SOUVERAIN_JOB_MODULES: cannot import {name!r} ({exc})") from exc
        register = getattr(module, "register", None)
        if not callable(register):
            raise ConfigurationError(f"SOUVERAIN_JOB_MODULES: {name!r} has no register(registry, runtime) function")
        register(registry, resources)
