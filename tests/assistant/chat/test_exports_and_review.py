"""Exports of conversations and answers verify; a review keeps the AI label; tampering is detected."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from assistant.provenance import AI_LABEL
from tests.factories import Account
from tests.fakes import fake_reply

QUESTION = "Rédige une note sur le télétravail des agents"


def _conversation_with_answers(client: TestClient, who: Account, count: int = 2) -> tuple[str, list[dict[str, Any]]]:
    conversation = client.post("/api/conversations", json={"title": "Télétravail"}, headers=who.bearer).json()
    answers = []
    for index in range(count):
        response = client.post(
            f"/api/conversations/{conversation['id']}/messages",
            json={"content": f"{QUESTION} numéro {index}"},
            headers=who.bearer,
        )
        answers.append(response.json()["message"])
    return conversation["id"], answers


def _verify(client: TestClient, who: Account, data: bytes, filename: str) -> dict[str, Any]:
    response = client.post("/api/provenance/verify", files={"file": (filename, data)}, headers=who.bearer)
    assert response.status_code == 200, response.text
    return dict(response.json())


@pytest.mark.parametrize("file_format", ["md", "docx", "odt"])
def test_conversation_export_carries_the_label_and_verifies(
    client: TestClient, alice: Account, file_format: str
) -> None:
    conversation_id, answers = _conversation_with_answers(client, alice)
    response = client.get(f"/api/conversations/{conversation_id}/export?format={file_format}", headers=alice.bearer)
    assert response.status_code == 200
    assert response.headers["content-disposition"] == f'attachment; filename="teletravail.{file_format}"'
    verdict = _verify(client, alice, response.content, f"export.{file_format}")
    assert verdict["valid"] is True and verdict["file_format"] == file_format
    assert len(verdict["items"]) == len(answers)
    if file_format == "md":
        text = response.content.decode()
        assert AI_LABEL in text and fake_reply(f"{QUESTION} numéro 1") in text


def test_tampered_export_fails_verification(client: TestClient, alice: Account) -> None:
    conversation_id, answers = _conversation_with_answers(client, alice, count=1)
    exported = client.get(f"/api/conversations/{conversation_id}/export?format=md", headers=alice.bearer).content
    original = answers[0]["content"]
    tampered = exported.replace(original.encode(), original.replace("numéro", "chiffre").encode())
    assert tampered != exported
    verdict = _verify(client, alice, tampered, "export.md")
    assert verdict["valid"] is False and verdict["items"][0]["content_matches"] is False


def test_tampered_docx_fails_verification(client: TestClient, alice: Account) -> None:
    conversation_id, _ = _conversation_with_answers(client, alice, count=1)
    exported = client.get(f"/api/conversations/{conversation_id}/export?format=docx", headers=alice.bearer).content
    source, target = io.BytesIO(exported), io.BytesIO()
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as copy:
        for item in original.infolist():
            data = original.read(item.filename)
            if item.filename == "word/document.xml":
                data = data.replace("numéro".encode(), b"chiffre")
            copy.writestr(item, data)
    assert _verify(client, alice, target.getvalue(), "export.docx")["valid"] is False


def test_single_answer_export_holds_its_question_only(client: TestClient, alice: Account) -> None:
    conversation_id, answers = _conversation_with_answers(client, alice)
    response = client.get(
        f"/api/conversations/{conversation_id}/messages/{answers[0]['id']}/export?format=md", headers=alice.bearer
    )
    text = response.content.decode()
    assert f"{QUESTION} numéro 0" in text and f"{QUESTION} numéro 1" not in text
    assert _verify(client, alice, response.content, "reponse.md")["valid"] is True


def test_review_keeps_the_label_and_is_audited(client: TestClient, app: FastAPI, alice: Account) -> None:
    conversation_id, answers = _conversation_with_answers(client, alice, count=1)
    answer = answers[0]
    response = client.post(f"/api/conversations/{conversation_id}/messages/{answer['id']}/review", headers=alice.bearer)
    assert response.status_code == 200, response.text
    reviewed = response.json()
    assert reviewed["ai_generated"] is True and reviewed["human_reviewed"] is True
    manifest = reviewed["provenance_manifest"]
    assert manifest["ai_generated"] is True and manifest["label"] == AI_LABEL
    assert manifest["provenance"]["human_reviewed"] is True and manifest["provenance"]["reviewed_by"] == "alice.agent"
    assert manifest["signature"] != answer["provenance_manifest"]["signature"]
    check = client.post(
        "/api/provenance/verify", json={"content": reviewed["content"], "manifest": manifest}, headers=alice.bearer
    ).json()
    assert check["valid"] is True
    exported = client.get(f"/api/conversations/{conversation_id}/export?format=md", headers=alice.bearer)
    assert "human_reviewed: true" in exported.content.decode() and AI_LABEL in exported.content.decode()
    assert _verify(client, alice, exported.content, "relu.md")["valid"] is True

    user_message_id = client.get(f"/api/conversations/{conversation_id}", headers=alice.bearer).json()["messages"][0]
    refused = client.post(
        f"/api/conversations/{conversation_id}/messages/{user_message_id['id']}/review", headers=alice.bearer
    )
    assert refused.status_code == 400


def test_export_of_an_empty_conversation_is_refused(client: TestClient, alice: Account) -> None:
    conversation = client.post("/api/conversations", json={}, headers=alice.bearer).json()
    response = client.get(f"/api/conversations/{conversation['id']}/export", headers=alice.bearer)
    assert response.status_code == 400 and response.json()["error"]["message"].startswith("Rien à exporter")
    bad = client.get(f"/api/conversations/{conversation['id']}/export?format=pdf", headers=alice.bearer)
    assert bad.status_code == 422


def test_verify_text_manifest_and_public_key(client: TestClient, app: FastAPI, alice: Account) -> None:
    _, answers = _conversation_with_answers(client, alice, count=1)
    answer = answers[0]
    manifest = answer["provenance_manifest"]
    ok = client.post(
        "/api/provenance/verify", json={"content": answer["content"], "manifest": manifest}, headers=alice.bearer
    )
    assert ok.json()["valid"] is True
    bad = client.post(
        "/api/provenance/verify", json={"content": answer["content"] + " !", "manifest": manifest}, headers=alice.bearer
    )
    assert bad.json()["valid"] is False and "modifié" in bad.json()["items"][0]["reason"]
    assert client.post("/api/provenance/verify", json={}, headers=alice.bearer).status_code == 400
    assert client.post("/api/provenance/verify", json={"content": "x", "manifest": manifest}).status_code == 401
    key = client.get("/api/provenance/public-key")
    assert key.status_code == 200 and key.text == app.state.runtime.signer.public_key_pem()
    assert key.headers["x-key-id"] == manifest["key_id"]
