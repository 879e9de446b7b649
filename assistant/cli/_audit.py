"""``assistant audit``: integrity of the connection and audit logs."""

from __future__ import annotations

import typer

from assistant.audit import ChainReport
from assistant.cli._common import fail, run_async, settings_or_exit
from assistant.core.config import Settings
from assistant.runtime import open_runtime

__all__ = ["app"]

app = typer.Typer(help="Journaux de connexion et d'audit.", no_args_is_help=True)


async def _verify(settings: Settings) -> ChainReport:
    async with open_runtime(settings, with_worker=False) as runtime:
        return await runtime.audit.verify()


@app.command("verify")
def verify() -> None:
    """Vérifier que le journal n'a été ni modifié, ni tronqué, ni coupé, ni réordonné (points d'ancrage signés)."""
    report = run_async(_verify(settings_or_exit()))
    if not report.ok:
        where = f" à l'événement n° {report.first_bad_id}" if report.first_bad_id is not None else ""
        raise fail(f"journal altéré{where} : {report.problem}.", code=3)
    typer.echo(
        f"Journal intègre : {report.events} événements, empreinte de tête {report.head_hash}, "
        f"{report.checkpoints} points d'ancrage signés vérifiés."
    )
