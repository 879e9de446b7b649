"""Secrets the service must give back (a shared drive's password), sealed before they reach the database.

Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``) with a key derived by HKDF from the service's secret
key, which lives outside the database (``SOUVERAIN_SECRET_KEY`` or the key file of the data directory): a dump of
the database alone reveals no password.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = ["SecretBox", "UnreadableSecretError"]


class UnreadableSecretError(Exception):
    """Raised when a sealed secret cannot be opened: the service's secret key changed since it was sealed."""


class SecretBox:
    """Seals and opens secrets with a key derived from ``key_material`` for one ``purpose``."""

    def __init__(self, key_material: str, *, purpose: str) -> None:
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode()).derive(
            key_material.encode()
        )
        self._fernet = Fernet(base64.urlsafe_b64encode(derived))

    def seal(self, secret: str) -> str:
        """The secret, encrypted and authenticated (a text token)."""
        return self._fernet.encrypt(secret.encode()).decode("ascii")

    def open(self, token: str) -> str:
        """The secret a :meth:`seal` token holds; :class:`UnreadableSecretError` when it cannot be read."""
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode()
        except (InvalidToken, ValueError) as exc:
            raise UnreadableSecretError("sealed with another key") from exc

    def __repr__(self) -> str:
        return "SecretBox(…)"
