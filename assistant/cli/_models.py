"""``assistant models``: list, withdraw and reinstate models (the same services as the governance API)."""

from __future__ import annotations

from typing import Annotated

import typer

from assistant.cli._common import run_async, settings_or_exit
from assistant.core.config import Settings
from assistant.llm import ModelStatus, RegisteredModel
from assistant.runtime import open_runtime
from assistant.services.governance.supervision import reinstate_model, withdraw_model

__all__ = ["app"]

app = typer.Typer(help="Modèles : liste, retrait et remise en service.", no_args_is_help=True)


async def _list(settings: Settings) -> list[RegisteredModel]:
    async with open_runtime(settings, with_worker=False) as runtime:
        return runtime.models.models(include_withdrawn=True)


async def _withdraw(settings: Settings, model_id: str, reason: str) -> RegisteredModel:
    async with open_runtime(settings, with_worker=False) as runtime:
        return await withdraw_model(runtime, model_id=model_id, reason=reason, actor=None)


async def _reinstate(settings: Settings, model_id: str) -> RegisteredModel:
    async with open_runtime(settings, with_worker=False) as runtime:
        return await reinstate_model(runtime, model_id=model_id, actor=None)


@app.command("list")
def list_models() -> None:
    """Lister les modèles configurés, retirés compris, avec leur état."""
    for model in run_async(_list(settings_or_exit())):
        state = "en service" if model.status is ModelStatus.ACTIVE else f"retiré — {model.withdrawn_reason or ''}"
        sovereign = "souverain" if model.sovereign else "non souverain"
        typer.echo(f"{model.id}\t{model.backend_name} ({model.backend.kind})\t{sovereign}\t{state}")


@app.command("withdraw")
def withdraw(
    model_id: Annotated[str, typer.Argument(help="Identifiant public du modèle (voir « assistant models list »).")],
    reason: Annotated[str, typer.Option("--reason", help="Motif affiché aux utilisateurs du modèle.")],
) -> None:
    """Retirer un modèle : toute requête le nommant est refusée avec le motif. Décision consignée et durable."""
    model = run_async(_withdraw(settings_or_exit(), model_id, reason))
    typer.echo(f"Modèle {model.id} retiré du service. Motif : {model.withdrawn_reason}")


@app.command("reinstate")
def reinstate(model_id: Annotated[str, typer.Argument(help="Identifiant public du modèle.")]) -> None:
    """Remettre en service un modèle retiré."""
    model = run_async(_reinstate(settings_or_exit(), model_id))
    typer.echo(f"Modèle {model.id} remis en service.")
