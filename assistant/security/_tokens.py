"""Secrets handed to clients: API keys and web session cookies. Only their SHA-256 is ever stored.

A SHA-256 (not argon2) is right here because the secrets carry 256 bits of randomness: there is nothing to
brute-force, and every request can be checked in microseconds.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner

__all__ = [
    "API_KEY_PREFIX",
    "NewApiKey",
    "SessionSigner",
    "generate_api_key",
    "hash_secret",
    "looks_like_api_key",
    "new_csrf_token",
    "new_session_token",
    "parse_api_key",
    "same_secret",
]

API_KEY_PREFIX = "sk-souv-"
_LOOKUP_LENGTH = 12  # characters after the marker kept in clear to find the row and show it in lists


@dataclass(frozen=True)
class NewApiKey:
    """A freshly generated key: ``secret`` is shown once to its owner, the rest is stored."""

    secret: str
    prefix: str
    key_hash: str


def hash_secret(secret: str) -> str:
    """Hex SHA-256 of a high-entropy secret."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def same_secret(left: str, right: str) -> bool:
    """Constant-time comparison."""
    return hmac.compare_digest(left.encode("utf-8"), right.encode("utf-8"))


def generate_api_key() -> NewApiKey:
    """``sk-souv-`` followed by 43 URL-safe characters (256 random bits)."""
    secret = API_KEY_PREFIX + secrets.token_urlsafe(32)
    return NewApiKey(secret=secret, prefix=secret[: len(API_KEY_PREFIX) + _LOOKUP_LENGTH], key_hash=hash_secret(secret))


def looks_like_api_key(credential: str) -> bool:
    """True for our keys (as opposed to JWTs) — decides which verifier a bearer credential goes to."""
    return credential.startswith(API_KEY_PREFIX)


def parse_api_key(secret: str) -> tuple[str, str] | None:
    """``(prefix, hash)`` of a presented key, or ``None`` when it cannot be one of ours."""
    if not looks_like_api_key(secret) or len(secret) < len(API_KEY_PREFIX) + _LOOKUP_LENGTH + 16 or len(secret) > 128:
        return None
    return secret[: len(API_KEY_PREFIX) + _LOOKUP_LENGTH], hash_secret(secret)


def new_session_token() -> str:
    """A random session id (256 bits)."""
    return secrets.token_urlsafe(32)


def new_csrf_token() -> str:
    """A random anti-CSRF token bound to one session."""
    return secrets.token_urlsafe(32)


class SessionSigner:
    """Signs the session id put in the cookie, so that forged or stale cookies are dropped before any lookup."""

    def __init__(self, secret_key: str, *, max_age_seconds: int) -> None:
        self._signer = TimestampSigner(secret_key, salt="souverain.session")
        self._max_age = max_age_seconds

    def sign(self, token: str) -> str:
        """The cookie value for ``token``."""
        return self._signer.sign(token).decode("ascii")

    def unsign(self, cookie: str) -> str | None:
        """The session token inside a cookie, or ``None`` when the signature is bad or too old."""
        try:
            return self._signer.unsign(cookie, max_age=self._max_age).decode("ascii")
        except (SignatureExpired, BadSignature):
            return None
