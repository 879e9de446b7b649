"""What each role and each API-key scope may do. Deny by default: a permission not listed here is refused.

Features add a member to :class:`Permission`, grant it below, and declare it on their routes with
``Security(RequirePermission(Permission.X))``; nothing else changes.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

from assistant.store.models import Role

__all__ = ["ROLE_PERMISSIONS", "SCOPE_PERMISSIONS", "Permission", "Scope", "permissions_for"]


class Permission(enum.StrEnum):
    """One thing a caller may do; routes require exactly one."""

    PROFILE = "profile"  # read one's own profile, sign out
    OWN_KEYS = "keys:own"  # create, list and revoke one's own API keys (never through an API key)
    CHAT = "chat"
    DOCUMENTS = "documents"
    TRANSCRIPTIONS = "transcriptions"
    JOBS = "jobs"  # one's own background jobs
    MANAGE_USERS = "admin:users"
    MANAGE_GROUPS = "admin:groups"
    MANAGE_KEYS = "admin:keys"
    MANAGE_QUOTAS = "admin:quotas"
    MANAGE_CHARTER = "admin:charter"  # publish the usage charter, edit the forbidden-use guard rules
    MANAGE_COLLECTIONS = "admin:collections"  # edit, share or delete any collection (never read its content)
    PUBLISH_PROMPTS = "admin:prompts"  # publish prompts of the library to groups, edit and withdraw them
    READ_AUDIT = "audit:read"
    REPORT_INCIDENT = "incidents:report"  # report a problem in an answer; see and follow one's own reports
    READ_GOVERNANCE = "governance:read"  # every report, model supervision, the AI-system registry (read-only)
    TRIAGE_INCIDENTS = "governance:incidents"  # assign, comment, move reports through open/in progress/closed
    MANAGE_MODELS = "governance:models"  # withdraw and reinstate models
    MANAGE_REGISTRY = "governance:registry"  # fill the legal basis of registry entries, mark them reviewed


class Scope(enum.StrEnum):
    """What an API key was issued for; the key can do the intersection of its scopes and its owner's role."""

    CHAT = "chat"
    DOCUMENTS = "documents"
    TRANSCRIPTIONS = "transcriptions"
    ADMIN = "admin"
    AUDIT = "audit"


_USE_THE_ASSISTANT = {
    Permission.PROFILE,
    Permission.OWN_KEYS,
    Permission.CHAT,
    Permission.DOCUMENTS,
    Permission.TRANSCRIPTIONS,
    Permission.JOBS,
    Permission.REPORT_INCIDENT,
}
_ADMINISTER = {
    Permission.MANAGE_USERS,
    Permission.MANAGE_GROUPS,
    Permission.MANAGE_KEYS,
    Permission.MANAGE_QUOTAS,
    Permission.MANAGE_COLLECTIONS,
    Permission.MANAGE_CHARTER,
    Permission.PUBLISH_PROMPTS,
}
_GOVERN = {
    Permission.READ_GOVERNANCE,
    Permission.TRIAGE_INCIDENTS,
    Permission.MANAGE_MODELS,
    Permission.MANAGE_REGISTRY,
}

# Separation of duties: référents administer but do not read the log that audits them; auditors read it and
# nothing else (they neither chat nor see documents). Auditors also read the governance records (reports,
# supervision, registry) without changing them; anyone may report a problem they were shown.
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.AGENT: frozenset(_USE_THE_ASSISTANT),
    Role.REFERENT: frozenset(_USE_THE_ASSISTANT | _ADMINISTER | _GOVERN),
    Role.AUDITEUR: frozenset(
        {
            Permission.PROFILE,
            Permission.OWN_KEYS,
            Permission.READ_AUDIT,
            Permission.READ_GOVERNANCE,
            Permission.REPORT_INCIDENT,
        }
    ),
}

# PROFILE comes with every key so that a client can ask who it is; OWN_KEYS never does, so that a leaked key
# cannot mint new ones.
SCOPE_PERMISSIONS: dict[Scope, frozenset[Permission]] = {
    Scope.CHAT: frozenset({Permission.CHAT, Permission.REPORT_INCIDENT}),
    Scope.DOCUMENTS: frozenset({Permission.DOCUMENTS, Permission.JOBS}),
    Scope.TRANSCRIPTIONS: frozenset({Permission.TRANSCRIPTIONS, Permission.JOBS}),
    Scope.ADMIN: frozenset(_ADMINISTER | _GOVERN),
    Scope.AUDIT: frozenset({Permission.READ_AUDIT, Permission.READ_GOVERNANCE}),
}


def permissions_for(role: Role, scopes: Iterable[Scope] | None = None) -> frozenset[Permission]:
    """The permissions of a user with ``role``; restricted to ``scopes`` for an API key (``None``: interactive)."""
    granted = ROLE_PERMISSIONS.get(role, frozenset())
    if scopes is None:
        return granted
    allowed: set[Permission] = {Permission.PROFILE}
    for scope in scopes:
        allowed |= SCOPE_PERMISSIONS.get(scope, frozenset())
    return granted & frozenset(allowed)
