"""``assistant provenance``: is this answer or export unmodified, and what produced it?"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from assistant.cli._common import fail, run_async, settings_or_exit
from assistant.core.config import Settings
from assistant.errors import SouverainError
from assistant.runtime import open_runtime
from assistant.services.gateway.verification import VerificationReport, verify_file

__all__ = ["app"]

app = typer.Typer(help="Provenance et étiquetage des contenus générés.", no_args_is_help=True)


async def _verify(settings: Settings, data: bytes, name: str) -> VerificationReport:
    async with open_runtime(settings, with_worker=False) as runtime:
        return verify_file(runtime.signer, data, filename=name)


@app.command("verify")
def verify(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="Export ou JSON.")],
) -> None:
    """Vérifier un export (Markdown, DOCX, ODT) ou un JSON {content, manifest}."""
    settings = settings_or_exit()
    try:
        report = run_async(_verify(settings, file.read_bytes(), file.name))
    except SouverainError as exc:
        raise fail(exc.message) from None
    for index, result in enumerate(report.results, start=1):
        provenance = result.manifest.provenance if result.manifest else None
        produced = (
            f"{provenance.model_id} ({provenance.backend}, {'souverain' if provenance.sovereign else 'NON souverain'}),"
            f" {provenance.created_at:%d/%m/%Y %H:%M} UTC"
            + (f", relu par {provenance.reviewed_by}" if provenance.human_reviewed else ", non relu")
            if provenance
            else "inconnu"
        )
        mark = "✔" if result.valid else "✘"
        typer.echo(f"{mark} passage {index} : {result.reason} — produit par {produced}")
    if not report.valid:
        raise fail("vérification échouée : le contenu ou sa provenance a été altéré.", code=3)
    typer.echo(f"Vérification réussie ({report.file_format}).")
