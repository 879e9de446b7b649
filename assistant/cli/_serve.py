"""``assistant serve`` and ``assistant worker``: the two long-running processes."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from assistant.cli._common import run_async, settings_or_exit
from assistant.core.config import Settings
from assistant.core.logging import configure_logging
from assistant.runtime import open_runtime
from assistant.services.governance.retention import retention_schedule
from assistant.services.knowledge.source_sync import sync_schedule
from assistant.telemetry import open_tracing

__all__ = ["serve", "worker"]


def serve(
    host: Annotated[str | None, typer.Option(help="Adresse d'écoute (défaut : SOUVERAIN_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (défaut : SOUVERAIN_PORT).")] = None,
    workers: Annotated[int, typer.Option(min=1, help="Nombre de processus API.")] = 1,
) -> None:
    """Lancer le service web."""
    settings = settings_or_exit()
    configure_logging(level=settings.log_level, fmt=settings.log_format)
    if workers > 1 and (not settings.llm_backends or any(b.kind == "embedded" for b in settings.llm_backends)):
        # Each API process would start its own copy of the embedded model (1 GB of memory and all the cores).
        typer.echo(
            "Erreur : plusieurs processus API avec le modèle embarqué chargeraient chacun leur copie du modèle. "
            "Lancez « assistant model-server » à part et déclarez-le comme backend « openai » "
            "dans SOUVERAIN_LLM_BACKENDS, ou gardez --workers 1.",
            err=True,
        )
        raise typer.Exit(code=2)
    uvicorn.run(
        "assistant.app:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        log_config=None,
        # The app reads X-Forwarded-* itself, from SOUVERAIN_TRUSTED_PROXIES only (whatever server runs it).
        proxy_headers=False,
        # No "server: uvicorn" banner: it tells an attacker which CVEs to try. Date stays (HTTP requires it).
        server_header=False,
        date_header=True,
        timeout_graceful_shutdown=30,
    )


_HEARTBEAT_SECONDS = 10.0


async def _beat(path: Path, stop: asyncio.Event) -> None:
    # Touched from the event loop itself: a loop blocked by a runaway job stops the beat and the probe restarts us.
    while not stop.is_set():
        path.touch()  # noqa: ASYNC240  (a microsecond; being on the loop is the point)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=_HEARTBEAT_SECONDS)


async def _run_worker(settings: Settings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with (
        open_tracing(settings) as tracing,
        open_runtime(settings, with_worker=True, tracing=tracing) as runtime,
        retention_schedule(runtime),
        sync_schedule(runtime),
    ):
        if settings.worker_heartbeat_file is not None:
            await _beat(settings.worker_heartbeat_file, stop)
        else:
            await stop.wait()


def worker() -> None:
    """Lancer un worker de tâches de fond (ingestion, transcription…)."""
    settings = settings_or_exit()
    configure_logging(level=settings.log_level, fmt=settings.log_format)
    run_async(_run_worker(settings))
