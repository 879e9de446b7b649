"""Exports carry the label in body and metadata, and tampering with them is detected."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path
from zipfile import ZipFile

import pytest
from docx import Document
from typer.testing import CliRunner

from assistant.cli import app as cli
from assistant.errors import InvalidRequestError
from assistant.exports import ExportDocument, ExportItem, render_export, verify_export
from assistant.provenance import AI_LABEL, ProvenanceSigner, load_or_create_signing_key
from tests.factories import make_provenance

QUESTION = "Quel est le délai pour poser un congé ?"
FIRST = "Le délai est d'un mois.\n\nVoir l'article 12 du règlement intérieur."
SECOND = "Oui : le télétravail est limité à trois jours par semaine."


def conversation(signer: ProvenanceSigner) -> ExportDocument:
    return ExportDocument(
        title="Congés et télétravail",
        created_at=datetime(2026, 11, 23, tzinfo=UTC),
        items=(
            ExportItem("user", QUESTION, author="jeanne"),
            ExportItem("assistant", FIRST, signer.sign(FIRST, make_provenance())),
            ExportItem("user", "Et le télétravail ?"),
            ExportItem("assistant", SECOND, signer.sign(SECOND, make_provenance(model_id="smollm2-135m"))),
        ),
    )


def test_assistant_message_without_manifest_cannot_be_exported() -> None:
    with pytest.raises(ValueError, match="provenance"):
        ExportItem("assistant", "texte")


@pytest.mark.parametrize("file_format", ["md", "docx", "odt"])
def test_export_round_trips_and_verifies(signer: ProvenanceSigner, file_format: str) -> None:
    data = render_export(conversation(signer), file_format)  # type: ignore[arg-type]
    report = verify_export(data, signer)
    assert report.file_format == file_format
    assert report.valid, [item.reason for item in report.items]
    assert len(report.items) == 2


def test_markdown_has_label_in_front_matter_and_body(signer: ProvenanceSigner) -> None:
    text = render_export(conversation(signer), "md").decode()
    front_matter = text.split("---")[1]
    assert "ai_generated: true" in front_matter and AI_LABEL in front_matter
    assert text.count(AI_LABEL) >= 3  # banner + one per answer


def test_docx_has_label_in_body_and_core_properties(signer: ProvenanceSigner) -> None:
    document = Document(io.BytesIO(render_export(conversation(signer), "docx")))
    assert document.core_properties.subject == AI_LABEL
    assert "généré par IA" in document.core_properties.keywords
    body = "\n".join(paragraph.text for paragraph in document.paragraphs)
    assert body.count(AI_LABEL) >= 3


def test_odt_has_label_in_body_and_meta(signer: ProvenanceSigner) -> None:
    with ZipFile(io.BytesIO(render_export(conversation(signer), "odt"))) as archive:
        meta = archive.read("meta.xml").decode()
        content = archive.read("content.xml").decode()
    assert AI_LABEL in meta and 'meta:name="ai_generated"' in meta
    assert content.count(AI_LABEL) >= 3


def _edit_docx(data: bytes, old: str, new: str) -> bytes:
    document = Document(io.BytesIO(data))
    for paragraph in document.paragraphs:
        if old in paragraph.text:
            paragraph.text = paragraph.text.replace(old, new)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _edit_zip_member(data: bytes, member: str, old: str, new: str) -> bytes:
    source, target = ZipFile(io.BytesIO(data)), io.BytesIO()
    with ZipFile(target, "w") as out:
        for info in source.infolist():
            payload = source.read(info)
            if info.filename == member:
                payload = payload.decode().replace(old, new).encode()
            out.writestr(info, payload)
    return target.getvalue()


def test_edited_answer_is_detected_in_each_format(signer: ProvenanceSigner) -> None:
    document = conversation(signer)
    edited = {
        "md": render_export(document, "md").replace(b"trois jours", b"cinq jours"),
        "docx": _edit_docx(render_export(document, "docx"), "trois jours", "cinq jours"),
        "odt": _edit_zip_member(render_export(document, "odt"), "content.xml", "trois jours", "cinq jours"),
    }
    for file_format, data in edited.items():
        report = verify_export(data, signer)
        assert not report.valid, file_format
        assert [item.valid for item in report.items] == [True, False], file_format


def test_removed_answer_is_detected(signer: ProvenanceSigner) -> None:
    text = render_export(conversation(signer), "md").decode()
    start = text.index("<!-- souverain:ai-content 1 -->")
    end = text.index("<!-- /souverain:ai-content -->", start) + len("<!-- /souverain:ai-content -->")
    report = verify_export((text[:start] + text[end:]).encode(), signer)
    assert not report.valid and "supprimé" in report.items[1].reason


def test_files_that_are_not_exports_are_clear_errors(signer: ProvenanceSigner) -> None:
    with pytest.raises(InvalidRequestError, match="Aucun manifeste"):
        verify_export(b"# Un document ordinaire", signer)
    with pytest.raises(InvalidRequestError, match="Archive non reconnue"):
        verify_export(b"PK\x03\x04 not really a zip", signer)
    with pytest.raises(InvalidRequestError, match="Format non reconnu"):
        verify_export(b"\x89PNG....", signer, filename="photo.png")


def test_cli_verify(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    signer = ProvenanceSigner(load_or_create_signing_key(configured=None, key_file=data_dir / "signing_key.pem"))
    good = tmp_path / "echange.docx"
    good.write_bytes(render_export(conversation(signer), "docx"))
    bad = tmp_path / "echange-modifie.md"
    bad.write_bytes(render_export(conversation(signer), "md").replace(b"un mois", b"une semaine"))
    answer = tmp_path / "reponse.json"
    answer.write_text(
        json.dumps(
            {
                "content": SECOND,
                "manifest": signer.sign(SECOND, make_provenance()).model_dump(mode="json", by_alias=True),
            }
        )
    )
    env = {"SOUVERAIN_DATA_DIR": str(data_dir), "SOUVERAIN_LOG_LEVEL": "WARNING"}
    runner = CliRunner()
    ok = runner.invoke(cli, ["provenance", "verify", str(good)], env=env)
    assert ok.exit_code == 0, ok.output
    assert "mistral-small" in ok.stdout and "souverain" in ok.stdout
    assert runner.invoke(cli, ["provenance", "verify", str(answer)], env=env).exit_code == 0
    tampered = runner.invoke(cli, ["provenance", "verify", str(bad)], env=env)
    assert tampered.exit_code == 3
    assert "✘ passage 1" in tampered.stdout
