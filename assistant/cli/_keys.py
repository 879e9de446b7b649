"""``assistant key``: API keys for operators (scripts, service accounts)."""

from __future__ import annotations

import uuid
from typing import Annotated

import typer

from assistant.cli._common import fail, run_async, settings_or_exit
from assistant.core.config import Settings
from assistant.errors import NotFoundError
from assistant.runtime import open_runtime
from assistant.security import ROLE_PERMISSIONS, SCOPE_PERMISSIONS, Scope
from assistant.services.identity.api_keys import CreatedApiKey, create_api_key, revoke_api_key
from assistant.store import users as user_store
from assistant.store.models import ApiKey, Role

__all__ = ["app", "default_scopes"]

app = typer.Typer(help="Clés d'API.", no_args_is_help=True)


def default_scopes(role: Role) -> list[Scope]:
    """Every scope that grants something to ``role`` (a key made for a role is useful for that role)."""
    return [scope for scope, permissions in SCOPE_PERMISSIONS.items() if permissions & ROLE_PERMISSIONS[role]]


async def _create(
    settings: Settings, username: str, name: str, scopes: list[Scope] | None, days: int | None
) -> CreatedApiKey:
    async with open_runtime(settings, with_worker=False) as runtime:
        async with runtime.session_factory() as session:
            user = await user_store.get_user_by_username(session=session, username=username)
        if user is None:
            raise NotFoundError(f"Aucun compte « {username} ».")
        return await create_api_key(
            runtime, owner_id=user.id, name=name, scopes=scopes or default_scopes(user.role), expires_in_days=days
        )


async def _revoke(settings: Settings, key_id: uuid.UUID) -> ApiKey:
    async with open_runtime(settings, with_worker=False) as runtime:
        return await revoke_api_key(runtime, key_id=key_id, actor=None, own_only=False)


@app.command("create")
def create(
    username: Annotated[str, typer.Option("--username", help="Compte propriétaire de la clé.")],
    name: Annotated[str, typer.Option("--name", help="Nom de la clé (usage).")] = "cli",
    scope: Annotated[
        list[Scope] | None, typer.Option("--scope", help="Portée (répétable) ; défaut : toutes celles du rôle.")
    ] = None,
    days: Annotated[int | None, typer.Option("--days", min=1, max=3650, help="Durée de validité.")] = None,
) -> None:
    """Créer une clé d'API et l'afficher une seule fois."""
    created = run_async(_create(settings_or_exit(), username, name, scope, days))
    typer.echo(f"Clé {created.key.id} ({', '.join(created.key.scopes)}) — affichée une seule fois :")
    typer.echo(created.secret)


@app.command("revoke")
def revoke(key_id: Annotated[str, typer.Argument(help="Identifiant de la clé (voir /api/admin/keys).")]) -> None:
    """Révoquer une clé d'API."""
    try:
        parsed = uuid.UUID(key_id)
    except ValueError:
        raise fail(f"identifiant de clé invalide : {key_id}") from None
    key = run_async(_revoke(settings_or_exit(), parsed))
    typer.echo(f"Clé {key.id} ({key.prefix}…) révoquée.")
