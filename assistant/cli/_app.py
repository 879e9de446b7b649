"""Top-level command group."""

from __future__ import annotations

import typer

from assistant import __version__
from assistant.cli import (
    _audit,
    _compliance,
    _db,
    _keys,
    _model_server,
    _models,
    _provenance,
    _registry,
    _serve,
    _transcribe,
    _users,
)

__all__ = ["app", "main"]

app = typer.Typer(
    name="assistant",
    help="Souverain — assistant IA souverain : service web, worker, base de données, comptes.",
    no_args_is_help=True,
    add_completion=False,
)
app.command("serve")(_serve.serve)
app.command("worker")(_serve.worker)
app.command("model-server")(_model_server.model_server)
app.command("transcribe")(_transcribe.transcribe)
app.add_typer(_db.app, name="db")
app.add_typer(_users.app, name="user")
app.add_typer(_keys.app, name="key")
app.add_typer(_audit.app, name="audit")
app.add_typer(_provenance.app, name="provenance")
app.add_typer(_models.app, name="models")
app.add_typer(_registry.app, name="registry")
app.add_typer(_compliance.app, name="compliance")


@app.command("version")
def version() -> None:
    """Afficher la version."""
    typer.echo(__version__)


def main() -> None:
    """Entry point of the ``assistant`` console script."""
    app()
