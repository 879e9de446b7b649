"""``assistant user``: account bootstrap for operators."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from assistant.cli._common import fail, run_async, settings_or_exit
from assistant.core.config import Settings
from assistant.runtime import open_runtime
from assistant.services.users import create_local_user
from assistant.store.models import Role, User

__all__ = ["app"]

app = typer.Typer(help="Comptes utilisateurs.", no_args_is_help=True)


async def _create(settings: Settings, username: str, role: Role, password: str | None) -> User:
    async with open_runtime(settings, with_worker=False) as runtime:
        return await create_local_user(runtime, username=username, role=role, password=password)


@app.command("create")
def create(
    username: Annotated[str, typer.Option("--username", help="Identifiant de connexion.")],
    role: Annotated[Role, typer.Option("--role", help="Rôle : agent, referent ou auditeur.")] = Role.REFERENT,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Lire le mot de passe sur l'entrée standard.")
    ] = False,
    no_password: Annotated[
        bool, typer.Option("--no-password", help="Compte sans mot de passe (accès par clés d'API).")
    ] = False,
) -> None:
    """Créer un compte local (par exemple le premier référent)."""
    settings = settings_or_exit()
    password: str | None
    if no_password:
        password = None
    elif password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise fail("aucun mot de passe reçu sur l'entrée standard.")
    else:
        password = typer.prompt("Mot de passe", hide_input=True, confirmation_prompt=True)
    user = run_async(_create(settings, username, role, password))
    typer.echo(f"Compte « {user.username} » créé (rôle {user.role.value}, id {user.id}).")
