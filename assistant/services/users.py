"""Creating accounts (CLI bootstrap now; the admin API reuses it)."""

from __future__ import annotations

import re

from assistant.errors import ConflictError, InvalidRequestError
from assistant.runtime import Runtime
from assistant.security.passwords import MIN_PASSWORD_LENGTH, hash_password
from assistant.store import users as user_store
from assistant.store.models import Role, User

__all__ = ["create_local_user"]

_USERNAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9._@-]{1,149}$")


async def create_local_user(
    runtime: Runtime, *, username: str, role: Role, password: str | None, display_name: str = ""
) -> User:
    """Create an account that signs in with a password (or only with API keys when ``password`` is None)."""
    if not _USERNAME.match(username):
        raise InvalidRequestError(
            "Identifiant invalide : 2 à 150 caractères parmi lettres, chiffres, « . _ @ - », "
            "commençant par une lettre ou un chiffre."
        )
    if password is not None and len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidRequestError(f"Mot de passe trop court : {MIN_PASSWORD_LENGTH} caractères au minimum.")
    password_hash = hash_password(password) if password is not None else None
    async with runtime.session_factory.begin() as session:
        if await user_store.get_user_by_username(session=session, username=username) is not None:
            raise ConflictError(f"L'identifiant « {username} » est déjà pris.")
        return await user_store.add_user(
            session=session,
            username=username,
            role=role,
            password_hash=password_hash,
            display_name=display_name,
        )
