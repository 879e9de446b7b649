"""Verifying generated content: a text with its manifest, or a whole export file."""

from __future__ import annotations

import json
from dataclasses import dataclass

from pydantic import ValidationError

from assistant.errors import InvalidRequestError
from assistant.exports import verify_export
from assistant.provenance import Manifest, ProvenanceSigner, Verification

__all__ = ["VerificationReport", "verify_file", "verify_text"]


@dataclass(frozen=True)
class VerificationReport:
    """What a verification found, for the API and the CLI alike."""

    valid: bool
    file_format: str
    results: tuple[Verification, ...]


def verify_text(signer: ProvenanceSigner, *, content: str | None, manifest: dict[str, object]) -> VerificationReport:
    """Check a manifest (and the text it describes, when given)."""
    try:
        parsed = Manifest.model_validate(manifest)
    except ValidationError as exc:
        raise InvalidRequestError("Manifeste de provenance invalide : champs manquants ou mal formés.") from exc
    result = signer.verify(parsed, content)
    return VerificationReport(result.valid, "manifest", (result,))


def verify_file(signer: ProvenanceSigner, data: bytes, *, filename: str | None = None) -> VerificationReport:
    """Check an export (Markdown, DOCX, ODT) or a JSON document ``{"content": …, "manifest": {…}}``."""
    if not data.strip():
        raise InvalidRequestError("Fichier vide : rien à vérifier.")
    if data.lstrip()[:1] == b"{":
        try:
            document = json.loads(data)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InvalidRequestError("JSON illisible.") from exc
        if not isinstance(document, dict) or not isinstance(document.get("manifest"), dict):
            raise InvalidRequestError('JSON attendu : {"content": "…", "manifest": {…}}.')
        content = document.get("content")
        return verify_text(signer, content=content if isinstance(content, str) else None, manifest=document["manifest"])
    verification = verify_export(data, signer, filename=filename)
    return VerificationReport(verification.valid, verification.file_format, verification.items)
