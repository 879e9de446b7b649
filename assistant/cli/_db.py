"""``assistant db``: schema migrations."""

from __future__ import annotations

from typing import Annotated

import typer

from assistant.cli._common import fail, settings_or_exit
from assistant.errors import SouverainError
from assistant.store import upgrade_database

__all__ = ["app"]

app = typer.Typer(help="Base de données.", no_args_is_help=True)


@app.command("upgrade")
def upgrade(
    revision: Annotated[str, typer.Argument(help="Révision cible (par défaut la dernière).")] = "head",
) -> None:
    """Appliquer les migrations de schéma (sans effet si la base est à jour)."""
    settings = settings_or_exit()
    settings.ensure_data_dir()
    try:
        upgrade_database(settings.effective_migration_url, revision, app_role=settings.database_app_role)
    except SouverainError as exc:
        raise fail(exc.message) from None
    typer.echo(f"Base de données à jour ({revision}).")
