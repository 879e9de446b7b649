"""Turning an identity provider's claims into an account profile (Keycloak and ProConnect shapes)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from assistant.errors import AuthenticationError
from assistant.store.models import Role

__all__ = ["ExternalIdentity", "identity_from_claims"]

_USERNAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9._@-]{1,149}$")
# When several IdP roles map here, the broadest wins; auditeur ranks above agent because it is granted on purpose.
_ROLE_PRECEDENCE = (Role.REFERENT, Role.AUDITEUR, Role.AGENT)


@dataclass(frozen=True)
class ExternalIdentity:
    """What we keep from a token: stable subject, profile, mapped role and group names.

    ``role`` is ``None`` when no IdP role maps to one of ours: then a new account gets the configured default and
    an existing one keeps its role, so that a référent's local promotion survives the next sign-in.
    """

    issuer: str
    subject: str
    username: str
    display_name: str
    email: str | None
    role: Role | None
    groups: tuple[str, ...]


def _lookup(claims: Mapping[str, Any], path: str) -> Any:
    # Dotted paths reach nested claims, e.g. Keycloak's realm_access.roles or resource_access.<client>.roles.
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []


def _username(claims: Mapping[str, Any], claim: str, subject: str) -> str:
    for candidate in (_lookup(claims, claim), claims.get("preferred_username"), claims.get("email")):
        if isinstance(candidate, str) and _USERNAME.match(candidate.strip()):
            return candidate.strip().lower()
    # Deterministic and collision-free, for providers that give no usable login name.
    return "oidc-" + hashlib.sha256(subject.encode("utf-8")).hexdigest()[:16]


def _display_name(claims: Mapping[str, Any], fallback: str) -> str:
    name = claims.get("name")
    if isinstance(name, str) and name.strip():
        return name.strip()[:200]
    # ProConnect sends given_name + usual_name; standard OIDC uses family_name.
    family = claims.get("usual_name") or claims.get("family_name")
    parts = [part for part in (claims.get("given_name"), family) if isinstance(part, str) and part.strip()]
    return " ".join(part.strip() for part in parts)[:200] or fallback


def identity_from_claims(
    claims: Mapping[str, Any],
    *,
    username_claim: str = "preferred_username",
    roles_claim: str | None = "realm_access.roles",
    role_mapping: Mapping[str, str] | None = None,
    groups_claim: str | None = "groups",
) -> ExternalIdentity:
    """Map validated claims to an :class:`ExternalIdentity`."""
    subject = claims.get("sub")
    issuer = claims.get("iss")
    if not isinstance(subject, str) or not subject or not isinstance(issuer, str):
        raise AuthenticationError("Jeton d'identité refusé : « sub » ou « iss » absent.", code="invalid_token")
    username = _username(claims, username_claim, subject)
    email = claims.get("email") if isinstance(claims.get("email"), str) else None
    mapping = role_mapping or {}
    idp_roles = set(_strings(_lookup(claims, roles_claim))) if roles_claim else set()
    mapped = {Role(mapping[name]) for name in idp_roles if name in mapping}
    role = next((candidate for candidate in _ROLE_PRECEDENCE if candidate in mapped), None)
    groups: tuple[str, ...] = ()
    if groups_claim:
        # Keycloak sends full paths ("/dinum/etalab") unless configured otherwise; keep the path without the slash.
        names = {name.strip().lstrip("/") for name in _strings(_lookup(claims, groups_claim))}
        groups = tuple(sorted(name[:150] for name in names if name))
    return ExternalIdentity(
        issuer=issuer,
        subject=subject,
        username=username,
        display_name=_display_name(claims, username),
        email=email,
        role=role,
        groups=groups,
    )
