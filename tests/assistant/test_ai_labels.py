"""Every route that returns generated content labels it — and a new such route cannot escape this test.

The generative routes are found in the app's own OpenAPI schema (any response model with an ``ai_generated``
field) plus every export; each must have a probe below, and each probe checks the label where that route carries
it: ``X-AI-Generated`` / ``X-AI-Model`` headers, ``ai_generated: true`` + ``provenance`` in JSON, the first and last
events of a stream, the label text in the body and metadata of exported documents.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import docx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from assistant.llm import ModelConfig
from assistant.provenance import AI_LABEL
from assistant.store.models import Role
from tests.assistant.transcription.helpers import upload, wait_until_finished
from tests.factories import Account, make_account, runtime_of
from tests.fakes import FakeUpstream, NoteTaker

Route = tuple[str, str]

# Routes whose answers mention provenance without generating anything themselves.
# The RGPD archive bundles stored answers already labelled (tests/assistant/governance/test_rgpd.py checks it).
NOT_GENERATIVE: set[Route] = {
    ("POST", "/api/provenance/verify"),
    ("GET", "/api/audit/events/export"),
    ("GET", "/api/me/export"),
}


def _mentions_label(schema: Any, components: dict[str, Any], seen: set[str]) -> bool:
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str):
            name = ref.rsplit("/", 1)[-1]
            if name in seen:
                return False
            seen.add(name)
            return _mentions_label(components.get(name, {}), components, seen)
        if "ai_generated" in schema.get("properties", {}):
            return True
        return any(_mentions_label(value, components, seen) for value in schema.values())
    if isinstance(schema, list):
        return any(_mentions_label(item, components, seen) for item in schema)
    return False


def generative_routes(app: FastAPI) -> set[Route]:
    """Routes whose documented answer carries the AI label, and every export of generated content."""
    spec = app.openapi()
    components = spec.get("components", {}).get("schemas", {})
    found: set[Route] = set()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            responses = operation.get("responses", {})
            ok = [body for status, body in responses.items() if status.startswith("2")]
            if any(_mentions_label(body, components, set()) for body in ok) or path.endswith("/export"):
                found.add((method.upper(), path))
    return found


def _labelled_json(body: dict[str, Any]) -> None:
    assert body.get("ai_generated") is True, body
    provenance = body.get("provenance")
    assert isinstance(provenance, dict) and provenance.get("model_id"), body


def _labelled_headers(response: Any) -> None:
    assert response.headers.get("x-ai-generated") == "true", dict(response.headers)
    assert response.headers.get("x-ai-model")


def _labelled_file(response: Any, file_format: str) -> None:
    assert response.status_code == 200, response.text
    if file_format == "docx":
        document = docx.Document(io.BytesIO(response.content))
        assert any(AI_LABEL in paragraph.text for paragraph in document.paragraphs), "label in the body"
        metadata = " ".join(filter(None, (document.core_properties.subject, document.core_properties.comments)))
        assert "IA" in metadata or "intelligence artificielle" in metadata, "label in the metadata"
    elif file_format == "odt":
        with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
            assert AI_LABEL in archive.read("content.xml").decode()
            assert AI_LABEL in archive.read("meta.xml").decode()
    else:
        assert _has_label(response.text), response.text[:300]


def _has_label(text: str) -> bool:
    return AI_LABEL in text or "généré par IA" in text


def _sse_payloads(text: str) -> list[Any]:
    payloads = []
    for block in text.split("\n\n"):
        for line in block.splitlines():
            if line.startswith("data: ") and line != "data: [DONE]":
                payloads.append(json.loads(line.removeprefix("data: ")))
    return payloads


@pytest.fixture
def world(
    transcription_app, french_wav: Path, openai_upstream: FakeUpstream
) -> Iterator[tuple[TestClient, Account, dict[str, str]]]:  # type: ignore[no-untyped-def]
    app: FastAPI = transcription_app()
    with TestClient(app, raise_server_exceptions=False) as client:
        runtime_of(app).models.add_backend(
            "redaction", NoteTaker(NoteTaker.Options()), models=[ModelConfig(id="redacteur")], sovereign=True
        )
        agent = make_account(client, app, "agent.labels", Role.AGENT)
        job = upload(client, agent, french_wav, language="fr", title="Conseil").json()
        assert wait_until_finished(client, agent, job["id"])["status"] == "succeeded"
        conversation = client.post("/api/conversations", json={"title": "Étiquettes"}, headers=agent.bearer).json()
        reply = client.post(
            f"/api/conversations/{conversation['id']}/messages",
            json={"content": "Quelles sont les règles du télétravail ?"},
            headers=agent.bearer,
        )
        assert reply.status_code in (200, 201), reply.text
        ids = {
            "conversation_id": conversation["id"],
            "message_id": reply.json()["message"]["id"],
            "transcription_id": job["id"],
            "preset": "synthese",
        }
        yield client, agent, ids


def _probes(client: TestClient, agent: Account, ids: dict[str, str], wav: Path) -> dict[Route, Callable[[], None]]:
    auth = agent.bearer
    conversation = f"/api/conversations/{ids['conversation_id']}"
    transcription = f"/api/transcriptions/{ids['transcription_id']}"
    ask = {"messages": [{"role": "user", "content": "Résume la note sur les congés."}], "model": "vllm-model"}
    two = ["vllm-model", "redacteur"]

    def chat_completion() -> None:
        response = client.post("/v1/chat/completions", json=ask, headers=auth)
        _labelled_headers(response)
        _labelled_json(response.json())
        stream = client.post("/v1/chat/completions", json={**ask, "stream": True}, headers=auth)
        _labelled_headers(stream)
        events = _sse_payloads(stream.text)
        _labelled_json(events[0])
        _labelled_json(events[-1])

    def conversation_message() -> None:
        response = client.post(f"{conversation}/messages", json={"content": "Et les congés ?"}, headers=auth)
        _labelled_headers(response)
        _labelled_json(response.json()["message"])
        stream = client.post(f"{conversation}/messages", json={"content": "Merci.", "stream": True}, headers=auth)
        events = _sse_payloads(stream.text)
        assert events[0].get("ai_generated") is True and events[-1].get("ai_generated") is True, events

    def conversation_detail() -> None:
        messages = client.get(conversation, headers=auth).json()["messages"]
        answers = [message for message in messages if message["role"] == "assistant"]
        assert answers
        for answer in answers:
            _labelled_json(answer)

    def conversation_export() -> None:
        for file_format in ("md", "docx", "odt"):
            _labelled_file(
                client.get(f"{conversation}/export", params={"format": file_format}, headers=auth), file_format
            )

    def message_export() -> None:
        path = f"{conversation}/messages/{ids['message_id']}/export"
        for file_format in ("md", "docx", "odt"):
            _labelled_file(client.get(path, params={"format": file_format}, headers=auth), file_format)

    def review() -> None:
        response = client.post(f"{conversation}/messages/{ids['message_id']}/review", headers=auth)
        assert response.status_code == 200, response.text
        body = response.json()
        _labelled_json(body)
        assert body["provenance"]["human_reviewed"] is True

    def task() -> None:
        response = client.post(f"/api/tasks/{ids['preset']}", json={"text": "Le télétravail est ouvert."}, headers=auth)
        assert response.status_code == 200, response.text
        _labelled_headers(response)
        _labelled_json(response.json())

    def rag_answer() -> None:
        collection = client.post("/api/collections", json={"name": "Notes"}, headers=auth).json()
        response = client.post(
            "/api/rag/answer", json={"query": "télétravail", "collection_ids": [collection["id"]]}, headers=auth
        )
        assert response.status_code == 200, response.text
        _labelled_json(response.json())

    def audio_transcription() -> None:
        for response_format in ("json", "verbose_json", "srt", "vtt", "text"):
            with wav.open("rb") as handle:
                response = client.post(
                    "/v1/audio/transcriptions",
                    files={"file": (wav.name, handle, "audio/wav")},
                    data={"model": "whisper-1", "response_format": response_format, "language": "fr"},
                    headers=auth,
                )
            assert response.status_code == 200, response.text
            _labelled_headers(response)
            if response_format.endswith("json"):
                _labelled_json(response.json())
            elif response_format != "text":
                assert _has_label(response.text), response.text[:200]

    def transcription_result() -> None:
        response = client.get(f"{transcription}/result", headers=auth)
        assert response.status_code == 200, response.text
        _labelled_json(response.json())

    def transcription_export() -> None:
        for file_format in ("txt", "srt", "vtt", "json", "md", "docx"):
            response = client.get(f"{transcription}/export", params={"format": file_format}, headers=auth)
            if file_format in ("docx", "md"):
                _labelled_file(response, file_format)
            else:
                assert response.status_code == 200 and _has_label(response.text), (file_format, response.text[:200])

    def minutes() -> None:
        created = client.post(f"{transcription}/minutes", json={"model": "redacteur"}, headers=auth)
        assert created.status_code == 201, created.text
        _labelled_headers(created)
        _labelled_json(created.json())
        _labelled_json(client.get(f"{transcription}/minutes", headers=auth).json())

    def minutes_export() -> None:
        for file_format in ("md", "docx", "odt"):
            _labelled_file(
                client.get(f"{transcription}/minutes/export", params={"format": file_format}, headers=auth), file_format
            )
        assert (
            client.get(f"{transcription}/minutes/export", params={"format": "json"}, headers=auth).json()["label"]
            == AI_LABEL
        )

    compared: dict[str, str] = {}

    def _labelled_comparison(response: Any, *, revealed: bool) -> dict[str, Any]:
        assert response.status_code in (200, 201), response.text
        assert response.headers.get("x-ai-generated") == "true" and response.headers.get("x-ai-model")
        body = response.json()
        assert body["ai_generated"] is True and len(body["answers"]) == 2, body
        for answer in body["answers"]:
            _labelled_json(answer)
            assert (answer["provenance_manifest"] is not None) is revealed, answer
        return body

    def comparison() -> None:
        blind = client.post("/api/comparisons", json={"question": "Et les congés ?", "models": two}, headers=auth)
        compared["blind"] = _labelled_comparison(blind, revealed=False)["id"]
        named = client.post(
            "/api/comparisons", json={"question": "Et les congés ?", "models": two, "blind": False}, headers=auth
        )
        _labelled_comparison(named, revealed=True)

    def comparison_detail() -> None:
        _labelled_comparison(client.get(f"/api/comparisons/{compared['blind']}", headers=auth), revealed=False)

    def comparison_vote() -> None:
        voted = client.post(f"/api/comparisons/{compared['blind']}/vote", json={"vote": "equivalent"}, headers=auth)
        body = _labelled_comparison(voted, revealed=True)
        assert {answer["provenance"]["model_id"] for answer in body["answers"]} == set(two)

    shared: dict[str, Any] = {}

    def shared_read() -> None:
        recipient = make_account(client, client.app, "agent.destinataire", Role.AGENT)  # type: ignore[arg-type]
        share = client.post(
            f"{conversation}/shares", json={"users": [recipient.username], "mode": "copy"}, headers=auth
        )
        assert share.status_code == 201, share.text
        shared.update(id=share.json()["id"], recipient=recipient)
        read = client.get(f"/api/shares/{shared['id']}", headers=recipient.bearer)
        assert read.status_code == 200, read.text
        answers = [message for message in read.json()["messages"] if message["role"] == "assistant"]
        assert answers
        for answer in answers:
            _labelled_json(answer)
            assert answer["provenance_manifest"], answer

    def shared_copy() -> None:
        copied = client.post(f"/api/shares/{shared['id']}/copy", headers=shared["recipient"].bearer)
        assert copied.status_code == 201, copied.text
        answers = [message for message in copied.json()["messages"] if message["role"] == "assistant"]
        assert answers
        for answer in answers:
            _labelled_json(answer)

    return {
        # A share is made and read first, then copied (dict order is the run order).
        ("GET", "/api/shares/{share_id}"): shared_read,
        ("POST", "/api/shares/{share_id}/copy"): shared_copy,
        # A comparison is made first, then read and voted on (dict order is the run order).
        ("POST", "/api/comparisons"): comparison,
        ("GET", "/api/comparisons/{comparison_id}"): comparison_detail,
        ("POST", "/api/comparisons/{comparison_id}/vote"): comparison_vote,
        ("POST", "/v1/chat/completions"): chat_completion,
        ("POST", "/api/conversations/{conversation_id}/messages"): conversation_message,
        ("GET", "/api/conversations/{conversation_id}"): conversation_detail,
        ("GET", "/api/conversations/{conversation_id}/export"): conversation_export,
        ("GET", "/api/conversations/{conversation_id}/messages/{message_id}/export"): message_export,
        ("POST", "/api/conversations/{conversation_id}/messages/{message_id}/review"): review,
        ("POST", "/api/tasks/{preset}"): task,
        ("POST", "/api/rag/answer"): rag_answer,
        ("POST", "/v1/audio/transcriptions"): audio_transcription,
        ("GET", "/api/transcriptions/{transcription_id}/result"): transcription_result,
        ("GET", "/api/transcriptions/{transcription_id}/export"): transcription_export,
        # Minutes are created first, then read and exported (dict order is the run order).
        ("POST", "/api/transcriptions/{transcription_id}/minutes"): minutes,
        ("GET", "/api/transcriptions/{transcription_id}/minutes"): lambda: None,  # checked by ``minutes``
        ("GET", "/api/transcriptions/{transcription_id}/minutes/export"): minutes_export,
    }


def test_every_generative_route_is_labelled(world, french_wav: Path) -> None:  # type: ignore[no-untyped-def]
    client, agent, ids = world
    probes = _probes(client, agent, ids, french_wav)
    missing = generative_routes(client.app) - set(probes) - NOT_GENERATIVE  # type: ignore[arg-type]
    assert not missing, f"routes returning generated content without a label probe: {sorted(missing)}"
    failures = []
    for route, probe in probes.items():
        try:
            probe()
        except AssertionError as exc:
            failures.append(f"{route}: {exc}")
    assert not failures, "\n".join(failures)
