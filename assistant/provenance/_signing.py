"""Signed provenance manifests (Ed25519 over RFC 8785 canonical JSON)."""

from __future__ import annotations

import base64
import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import BaseModel, ConfigDict, Field

from assistant.errors import ConfigurationError, InvalidRequestError
from assistant.provenance._label import AI_LABEL, Provenance

__all__ = [
    "MANIFEST_SCHEMA",
    "Manifest",
    "ProvenanceSigner",
    "Verification",
    "content_digest",
    "load_or_create_signing_key",
    "normalize_content",
]

MANIFEST_SCHEMA = "souverain.provenance/1"
_TRAILING_SPACE = re.compile(r"[ \t]+$", re.MULTILINE)


def normalize_content(text: str) -> str:
    """The form that is hashed: NFC, LF line ends, no trailing spaces, no leading or trailing blank lines.

    Exports may re-wrap whitespace at the edges (a DOCX paragraph has no trailing spaces); the words cannot change.
    """
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    return _TRAILING_SPACE.sub("", text).strip("\n")


def content_digest(text: str) -> str:
    """sha256 (hex) of the normalized content."""
    return hashlib.sha256(normalize_content(text).encode("utf-8")).hexdigest()


class Manifest(BaseModel):
    """A signed statement: this content (by its hash) was produced as ``provenance`` says."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    schema_: Literal["souverain.provenance/1"] = Field(default=MANIFEST_SCHEMA, alias="schema")
    ai_generated: Literal[True] = True
    label: str = AI_LABEL
    content_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    content_type: str = "text/markdown"
    provenance: Provenance
    key_id: str
    signature: str | None = None

    def signed_bytes(self) -> bytes:
        """The canonical bytes the signature covers (everything but the signature)."""
        body = self.model_dump(mode="json", by_alias=True, exclude={"signature"})
        return rfc8785.dumps(body)


@dataclass(frozen=True)
class Verification:
    """Outcome of checking a manifest (and, when given, the content it claims to describe)."""

    signature_valid: bool
    content_matches: bool | None
    manifest: Manifest | None
    reason: str

    @property
    def valid(self) -> bool:
        """True when the signature holds and the content, if checked, is the one signed."""
        return self.signature_valid and self.content_matches is not False


def _key_id(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


class ProvenanceSigner:
    """Signs and verifies manifests with this deployment's Ed25519 key."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._private_key = private_key
        self.public_key = private_key.public_key()
        self.key_id = _key_id(self.public_key)

    def public_key_pem(self) -> str:
        """The public key, for anyone who wants to verify offline."""
        return self.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode("ascii")

    def sign(self, content: str, provenance: Provenance, *, content_type: str = "text/markdown") -> Manifest:
        """A manifest for ``content`` signed now."""
        unsigned = Manifest(
            content_sha256=content_digest(content),
            content_type=content_type,
            provenance=provenance,
            key_id=self.key_id,
        )
        signature = self._private_key.sign(unsigned.signed_bytes())
        return unsigned.model_copy(update={"signature": base64.b64encode(signature).decode("ascii")})

    def mark_reviewed(self, manifest: Manifest, content: str, *, reviewer: str) -> Manifest:
        """A new manifest saying an agent reviewed the content; the AI label stays."""
        check = self.verify(manifest, content)
        if not check.valid:
            raise InvalidRequestError(f"Impossible de marquer comme relu : {check.reason}")
        reviewed = manifest.provenance.model_copy(
            update={"human_reviewed": True, "reviewed_by": reviewer, "reviewed_at": datetime.now(UTC)}
        )
        return self.sign(content, reviewed, content_type=manifest.content_type)

    def verify(self, manifest: Manifest, content: str | None = None) -> Verification:
        """Check the signature, and that ``content`` (when given) is what was signed."""
        if manifest.key_id != self.key_id:
            return Verification(False, None, manifest, "signé par une autre clé que celle de ce service")
        if not manifest.signature:
            return Verification(False, None, manifest, "manifeste non signé")
        try:
            self.public_key.verify(base64.b64decode(manifest.signature, validate=True), manifest.signed_bytes())
        except (InvalidSignature, ValueError):
            return Verification(False, None, manifest, "signature invalide : le manifeste a été modifié")
        if content is None:
            return Verification(True, None, manifest, "signature valide (contenu non fourni)")
        if content_digest(content) != manifest.content_sha256:
            return Verification(True, False, manifest, "le contenu a été modifié depuis sa génération")
        return Verification(True, True, manifest, "contenu intact et signature valide")


def load_or_create_signing_key(*, configured: str | None, key_file: Path) -> Ed25519PrivateKey:
    """The configured key (PEM or base64 of the 32-byte seed), or one generated once and kept in ``key_file``."""
    if configured:
        return _parse_key(configured)
    if key_file.exists():
        return _parse_key(key_file.read_text(encoding="ascii"))
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key_file.touch(mode=0o600)
    key_file.write_bytes(pem)
    return key


def _parse_key(value: str) -> Ed25519PrivateKey:
    value = value.strip()
    try:
        if value.startswith("-----BEGIN"):
            key = serialization.load_pem_private_key(value.encode("ascii"), password=None)
            if not isinstance(key, Ed25519PrivateKey):
                raise ValueError("not an Ed25519 key")
            return key
        return Ed25519PrivateKey.from_private_bytes(base64.b64decode(value, validate=True))
    except ValueError as exc:
        raise ConfigurationError(
            f"SOUVERAIN_SIGNING_KEY: not an Ed25519 private key (PEM or base64 of 32 bytes): {exc}"
        ) from None
