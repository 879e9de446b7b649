"""``assistant user``: account bootstrap for operators."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from assistant.cli._common import fail, run_async, settings_or_exit
from assistant.cli._keys import default_scopes
from assistant.core.config import Settings
from assistant.runtime import open_runtime
from assistant.services.identity.api_keys import create_api_key
from assistant.services.identity.users import create_local_user, disable_user_by_name
from assistant.store.models import Role, User

__all__ = ["app"]

app = typer.Typer(help="Comptes utilisateurs.", no_args_is_help=True)


async def _create(
    settings: Settings, username: str, role: Role, password: str | None, with_key: bool
) -> tuple[User, str | None]:
    async with open_runtime(settings, with_worker=False) as runtime:
        user = await create_local_user(runtime, username=username, role=role, password=password)
        if not with_key:
            return user, None
        created = await create_api_key(runtime, owner_id=user.id, name="cli", scopes=default_scopes(role))
        return user, created.secret


async def _disable(settings: Settings, username: str) -> User:
    async with open_runtime(settings, with_worker=False) as runtime:
        return await disable_user_by_name(runtime, username=username)


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
    api_key: Annotated[
        bool, typer.Option("--api-key", help="Créer aussi une clé d'API, affichée une seule fois.")
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
    user, secret = run_async(_create(settings, username, role, password, api_key))
    typer.echo(f"Compte « {user.username} » créé (rôle {user.role.value}, id {user.id}).")
    if secret is not None:
        typer.echo(f"Clé d'API (affichée une seule fois, conservez-la) : {secret}")


@app.command("disable")
def disable(username: Annotated[str, typer.Option("--username", help="Identifiant du compte.")]) -> None:
    """Désactiver un compte : ses sessions prennent fin, ses clés et jetons sont refusés."""
    user = run_async(_disable(settings_or_exit(), username))
    typer.echo(f"Compte « {user.username} » désactivé.")
