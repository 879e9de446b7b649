"""Permissions, claim mapping, token helpers and the package's public surface."""

from __future__ import annotations

import uuid

import pytest

import assistant.security as security
from assistant.errors import NotFoundError, PermissionDeniedError
from assistant.security import (
    Permission,
    Principal,
    Scope,
    SessionSigner,
    generate_api_key,
    identity_from_claims,
    parse_api_key,
    permissions_for,
    require_owner,
)
from assistant.store.models import Role


def test_exported_names() -> None:
    assert set(security.__all__) == {
        "ALLOWED_ALGORITHMS", "API_KEY_PREFIX", "ROLE_PERMISSIONS", "SCOPE_PERMISSIONS", "AuthMethod", "CachedKey",
        "CounterBackend", "DatabaseCounters", "ExternalIdentity", "NewApiKey", "OidcVerifier", "Permission",
        "Principal", "PrincipalCache", "RedisCounters", "Scope", "SessionSigner", "Window", "generate_api_key",
        "hash_secret", "identity_from_claims", "looks_like_api_key", "new_csrf_token", "new_session_token",
        "parse_api_key", "permissions_for", "require_owner", "same_secret",
        # Web sign-in (authorization code flow).
        "AuthorizationRequest", "IdentityProviderError", "LoginFlow", "LoginFlowSigner", "OidcLoginClient",
        "ProviderMetadata", "TokenResponse", "pkce_challenge",
        # Secrets the service gives back (a shared drive's password), sealed before they reach the database.
        "SecretBox", "UnreadableSecretError",
    }  # fmt: skip
    for name in security.__all__:
        assert hasattr(security, name), name


def test_roles_deny_by_default_and_separate_duties() -> None:
    assert Permission.MANAGE_USERS not in permissions_for(Role.AGENT)
    assert Permission.READ_AUDIT not in permissions_for(Role.REFERENT)
    # Auditors also read the governance records and, like anyone, may report a problem they were shown.
    assert permissions_for(Role.AUDITEUR) == {
        Permission.PROFILE,
        Permission.OWN_KEYS,
        Permission.READ_AUDIT,
        Permission.READ_GOVERNANCE,
        Permission.REPORT_INCIDENT,
    }
    assert Permission.TRIAGE_INCIDENTS not in permissions_for(Role.AUDITEUR)
    assert Permission.MANAGE_MODELS not in permissions_for(Role.AGENT)
    assert Permission.CHAT in permissions_for(Role.AGENT)


def test_key_scopes_intersect_the_role_and_never_grant_key_management() -> None:
    assert permissions_for(Role.AGENT, [Scope.CHAT]) == {
        Permission.PROFILE,
        Permission.CHAT,
        Permission.REPORT_INCIDENT,
    }
    assert permissions_for(Role.AGENT, [Scope.ADMIN]) == {Permission.PROFILE}, "a scope never exceeds the role"
    assert Permission.OWN_KEYS not in permissions_for(Role.REFERENT, list(Scope))


def test_principal_require_and_ownership() -> None:
    me = Principal(uuid.uuid4(), "a", Role.AGENT, "api_key", permissions_for(Role.AGENT, [Scope.CHAT]))
    me.require(Permission.CHAT)
    with pytest.raises(PermissionDeniedError, match="portée insuffisante"):
        me.require(Permission.DOCUMENTS)
    require_owner(me.user_id, me)
    with pytest.raises(NotFoundError):
        require_owner(uuid.uuid4(), me, what="Clé d'API")


def test_keycloak_claims_map_role_groups_and_profile() -> None:
    identity = identity_from_claims(
        {
            "iss": "https://sso/realms/a",
            "sub": "123",
            "preferred_username": "Jean.Moulin",
            "name": "Jean Moulin",
            "realm_access": {"roles": ["offline_access", "souverain-agent", "souverain-referent"]},
            "groups": ["/dinum/etalab", "/dinum"],
        },
        role_mapping={"souverain-referent": "referent", "souverain-agent": "agent"},
    )
    assert (identity.username, identity.role, identity.display_name) == ("jean.moulin", Role.REFERENT, "Jean Moulin")
    assert identity.groups == ("dinum", "dinum/etalab")


def test_proconnect_claims_without_username_or_role() -> None:
    identity = identity_from_claims(
        {"iss": "https://pc", "sub": "abc", "given_name": "Ada", "usual_name": "Lovelace", "email": "ada@gouv.fr"},
        username_claim="uid",
        roles_claim=None,
        groups_claim=None,
    )
    assert (identity.username, identity.display_name, identity.role) == ("ada@gouv.fr", "Ada Lovelace", None)


def test_api_keys_are_prefixed_random_and_hashed() -> None:
    first, second = generate_api_key(), generate_api_key()
    assert first.secret.startswith("sk-souv-") and first.secret != second.secret
    assert parse_api_key(first.secret) == (first.prefix, first.key_hash)
    assert first.secret not in first.key_hash and len(first.key_hash) == 64
    assert parse_api_key("sk-souv-short") is None


def test_session_cookies_are_signed() -> None:
    signer = SessionSigner("k" * 40, max_age_seconds=60)
    cookie = signer.sign("token")
    assert signer.unsign(cookie) == "token"
    # Tamper with the first signature character: the last one may only carry base64 padding bits.
    start = cookie.rindex(".") + 1
    tampered = cookie[:start] + ("A" if cookie[start] != "A" else "B") + cookie[start + 1 :]
    assert signer.unsign(tampered) is None
    assert SessionSigner("other" * 10, max_age_seconds=60).unsign(cookie) is None
