"""``assistant registry``: export the AI-system registry (the same document as the governance API)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, cast, get_args

import typer

from assistant.cli._common import fail, run_async, settings_or_exit
from assistant.core.config import Settings
from assistant.runtime import open_runtime
from assistant.services.governance.ai_registry import ExportFormat, export_registry

__all__ = ["app"]

app = typer.Typer(help="Registre des systèmes d'IA.", no_args_is_help=True)


async def _export(settings: Settings, fmt: ExportFormat) -> str:
    async with open_runtime(settings, with_worker=False) as runtime:
        return await export_registry(runtime, fmt)


@app.command("export")
def export(
    fmt: Annotated[str, typer.Option("--format", "-f", help="json, csv ou markdown.")] = "markdown",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Fichier de sortie ; sortie standard par défaut.")
    ] = None,
) -> None:
    """Exporter le registre : chaque modèle (avec sa fiche) et chaque usage, bases légales et dates de revue."""
    if fmt not in get_args(ExportFormat):
        raise fail(f"format inconnu : {fmt} (json, csv ou markdown).", code=2)
    document = run_async(_export(settings_or_exit(), cast(ExportFormat, fmt)))
    if output is None:
        typer.echo(document, nl=False)
        return
    output.write_text(document, encoding="utf-8")
    typer.echo(f"Registre écrit dans {output}.")
