"""Who is calling: the authenticated user, how they proved it, and what they may do."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Literal

from assistant.errors import NotFoundError, PermissionDeniedError
from assistant.security._permissions import Permission
from assistant.store.models import Role

__all__ = ["AuthMethod", "Principal", "require_owner"]

AuthMethod = Literal["oidc", "session", "api_key"]


@dataclass(frozen=True)
class Principal:
    """An authenticated, active caller. Built per request by the authentication service, never stored."""

    user_id: uuid.UUID
    username: str
    role: Role
    method: AuthMethod
    permissions: frozenset[Permission]
    api_key_id: uuid.UUID | None = None
    api_key_requests_per_minute: int | None = None
    session_id: uuid.UUID | None = None
    groups: tuple[str, ...] = field(default=())

    def has(self, permission: Permission) -> bool:
        """True when this caller holds ``permission``."""
        return permission in self.permissions

    def require(self, permission: Permission) -> None:
        """Raise :class:`PermissionDeniedError` unless this caller holds ``permission``."""
        if permission not in self.permissions:
            reason = " avec cette clé d'API (portée insuffisante)" if self.method == "api_key" else ""
            raise PermissionDeniedError(
                f"Action non autorisée{reason} : la permission « {permission.value} » est requise "
                f"(rôle actuel : {self.role.value}).",
            )

    @property
    def label(self) -> str:
        """How the caller appears in the logs."""
        return self.username


def require_owner(owner_id: uuid.UUID | None, principal: Principal, *, what: str = "Ressource") -> None:
    """Refuse access to another user's object with a 404, so that its existence is not revealed."""
    if owner_id is None or owner_id != principal.user_id:
        raise NotFoundError(f"{what} introuvable.")
