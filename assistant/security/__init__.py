"""Authentication and authorization primitives: permissions, principals, tokens, OIDC, counters, passwords.

Services (``assistant.services.identity.authentication`` and friends) combine these with the store; the API declares
``Security(RequirePermission(Permission.X))`` on each route (``assistant.api.deps``).
"""

from assistant.security._claims import ExternalIdentity, identity_from_claims
from assistant.security._counters import CounterBackend, DatabaseCounters, RedisCounters, Window
from assistant.security._oidc import ALLOWED_ALGORITHMS, OidcVerifier
from assistant.security._oidc_login import (
    AuthorizationRequest,
    IdentityProviderError,
    LoginFlow,
    LoginFlowSigner,
    OidcLoginClient,
    ProviderMetadata,
    TokenResponse,
    pkce_challenge,
)
from assistant.security._permissions import ROLE_PERMISSIONS, SCOPE_PERMISSIONS, Permission, Scope, permissions_for
from assistant.security._principal import AuthMethod, Principal, require_owner
from assistant.security._principal_cache import CachedKey, PrincipalCache
from assistant.security._secret_box import SecretBox, UnreadableSecretError
from assistant.security._tokens import (
    API_KEY_PREFIX,
    NewApiKey,
    SessionSigner,
    generate_api_key,
    hash_secret,
    looks_like_api_key,
    new_csrf_token,
    new_session_token,
    parse_api_key,
    same_secret,
)

__all__ = [
    "ALLOWED_ALGORITHMS",
    "API_KEY_PREFIX",
    "ROLE_PERMISSIONS",
    "SCOPE_PERMISSIONS",
    "AuthMethod",
    "AuthorizationRequest",
    "CachedKey",
    "CounterBackend",
    "DatabaseCounters",
    "ExternalIdentity",
    "IdentityProviderError",
    "LoginFlow",
    "LoginFlowSigner",
    "NewApiKey",
    "OidcLoginClient",
    "OidcVerifier",
    "Permission",
    "Principal",
    "PrincipalCache",
    "ProviderMetadata",
    "RedisCounters",
    "Scope",
    "SecretBox",
    "SessionSigner",
    "TokenResponse",
    "UnreadableSecretError",
    "Window",
    "generate_api_key",
    "hash_secret",
    "identity_from_claims",
    "looks_like_api_key",
    "new_csrf_token",
    "new_session_token",
    "parse_api_key",
    "permissions_for",
    "pkce_challenge",
    "require_owner",
    "same_secret",
]
