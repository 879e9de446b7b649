from __future__ import annotations

import base64
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import ValidationError

from assistant.errors import ConfigurationError, InvalidRequestError
from assistant.provenance import (
    AI_LABEL,
    Provenance,
    ProvenanceSigner,
    load_or_create_signing_key,
    normalize_content,
)
from tests.factories import make_provenance

ANSWER = "La demande de congé doit être déposée **un mois** avant.\nSource : règlement intérieur, art. 12."


def test_signed_manifest_verifies_with_its_content(signer: ProvenanceSigner) -> None:
    manifest = signer.sign(ANSWER, make_provenance())
    assert manifest.ai_generated is True and manifest.label == AI_LABEL
    check = signer.verify(manifest, ANSWER)
    assert check.valid and check.content_matches is True


def test_whitespace_at_the_edges_does_not_matter_but_words_do(signer: ProvenanceSigner) -> None:
    manifest = signer.sign(ANSWER, make_provenance())
    assert signer.verify(manifest, "\r\n" + ANSWER.replace("\n", "  \r\n") + "\n\n").valid
    tampered = signer.verify(manifest, ANSWER.replace("un mois", "une semaine"))
    assert not tampered.valid and tampered.signature_valid and tampered.content_matches is False
    assert "modifié" in tampered.reason


@pytest.mark.parametrize(
    "change",
    [
        {"content_sha256": "0" * 64},
        {"provenance": make_provenance(model_id="gpt-4o", sovereign=False)},
        {"provenance": make_provenance(human_reviewed=True, reviewed_by="moi")},
    ],
)
def test_any_change_to_the_manifest_breaks_the_signature(signer: ProvenanceSigner, change: dict[str, object]) -> None:
    forged = signer.sign(ANSWER, make_provenance()).model_copy(update=change)
    check = signer.verify(forged)
    assert not check.valid and not check.signature_valid


def test_label_cannot_be_switched_off() -> None:
    with pytest.raises(ValidationError):
        Provenance.model_validate({**make_provenance().model_dump(), "ai_generated": False})


def test_manifest_from_another_key_is_refused(signer: ProvenanceSigner) -> None:
    other = ProvenanceSigner(Ed25519PrivateKey.generate()).sign(ANSWER, make_provenance())
    assert "autre clé" in signer.verify(other, ANSWER).reason


def test_review_makes_a_new_signed_manifest_and_keeps_the_label(signer: ProvenanceSigner) -> None:
    original = signer.sign(ANSWER, make_provenance())
    reviewed = signer.mark_reviewed(original, ANSWER, reviewer="jeanne.agent")
    assert reviewed.provenance.human_reviewed and reviewed.provenance.reviewed_by == "jeanne.agent"
    assert reviewed.ai_generated is True and reviewed.label == AI_LABEL
    assert signer.verify(reviewed, ANSWER).valid
    with pytest.raises(InvalidRequestError, match="modifié"):
        signer.mark_reviewed(original, ANSWER + " (corrigé)", reviewer="x")


def test_key_is_generated_once_private_and_reloaded(tmp_path: Path) -> None:
    key_file = tmp_path / "k" / "signing_key.pem"
    first = load_or_create_signing_key(configured=None, key_file=key_file)
    again = load_or_create_signing_key(configured=None, key_file=key_file)
    assert ProvenanceSigner(first).key_id == ProvenanceSigner(again).key_id
    assert key_file.stat().st_mode & 0o077 == 0


def test_configured_key_in_base64_or_pem_and_bad_key_error() -> None:
    seed = bytes(range(32))
    from_seed = load_or_create_signing_key(configured=base64.b64encode(seed).decode(), key_file=Path("/nonexistent"))
    assert ProvenanceSigner(from_seed).key_id == ProvenanceSigner(Ed25519PrivateKey.from_private_bytes(seed)).key_id
    with pytest.raises(ConfigurationError, match="SOUVERAIN_SIGNING_KEY"):
        load_or_create_signing_key(configured="pas une clé", key_file=Path("/nonexistent"))


def test_normalization_is_nfc() -> None:
    assert normalize_content("e\u0301te\u0301") == "été"
