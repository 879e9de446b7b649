"""``assistant compliance report``: each charter requirement with the evidence from this deployment."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer

from assistant.cli._common import run_async, settings_or_exit
from assistant.core.config import Settings
from assistant.runtime import open_runtime
from assistant.services.charter.compliance import ComplianceReport, build_report, render_report

__all__ = ["app"]

app = typer.Typer(help="Conformité aux chartes de l'IA dans l'administration.", no_args_is_help=True)


async def _report(settings: Settings) -> ComplianceReport:
    async with open_runtime(settings, with_worker=False) as runtime:
        return await build_report(runtime)


@app.command("report")
def report(
    fmt: Annotated[Literal["md", "json"], typer.Option("--format", "-f", help="md ou json.")] = "md",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Fichier ; sortie standard sinon.")] = None,
) -> None:
    """Produire le rapport de conformité ; code de sortie 3 si une exigence n'est pas remplie."""
    result = run_async(_report(settings_or_exit()))
    document = render_report(result, fmt)
    if output is None:
        typer.echo(document)
    else:
        output.write_text(document, encoding="utf-8")
        typer.echo(f"Rapport écrit dans {output}.")
    if result.failures:
        raise typer.Exit(3)
