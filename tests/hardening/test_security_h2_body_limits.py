"""H2 — request bodies are bounded before anything parses them, per route class, with a 413 in the envelope.

Before: no limit anywhere; a 1 GB JSON to the login route was read whole into memory, a 1 GB multipart to a
collection was spooled to disk before the permission check ran.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from assistant.api.body_limits import BodyLimits
from assistant.app import create_app
from assistant.store.models import Role
from tests.assistant.rag.helpers import create_collection
from tests.factories import Account, make_account

MB = 1_000_000


def _refused(response, limit_words: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 413, response.text
    error = response.json()["error"]
    assert error["code"] == "payload_too_large" and error["request_id"]
    assert limit_words in error["message"] and "trop volumineuse" in error["message"]


def _chunks(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        yield b" " * min(size, total - sent)
        sent += size


def test_an_oversized_sign_in_is_refused_before_it_is_read(client: TestClient) -> None:
    big = b'{"username": "x", "password": "' + b"a" * (2 * MB) + b'"}'
    _refused(client.post("/api/auth/login", content=big, headers={"Content-Type": "application/json"}), "64 Ko")
    # A body whose length is not announced (chunked) is cut as soon as it passes the limit.
    chunked = client.post("/api/auth/login", content=_chunks(2 * MB), headers={"Content-Type": "application/json"})
    _refused(chunked, "64 Ko")
    # An ordinary sign-in still reaches the route (here: unknown user).
    assert client.post("/api/auth/login", json={"username": "x", "password": "y"}).status_code == 401


def test_json_routes_have_the_general_limit_and_v1_messages_too(client: TestClient, alice: Account) -> None:
    huge = {"model": "vllm-model", "messages": [{"role": "user", "content": "a" * (9 * MB)}]}
    _refused(client.post("/v1/chat/completions", json=huge, headers=alice.bearer), "8 Mo")
    # Unauthenticated too: the limit comes before the credentials are even looked at.
    _refused(client.post("/v1/chat/completions", json=huge), "8 Mo")
    small = {"model": "vllm-model", "messages": [{"role": "user", "content": "Bonjour"}]}
    assert client.post("/v1/chat/completions", json=small, headers=alice.bearer).status_code == 200


def test_document_uploads_are_bound_to_the_settings_and_nothing_is_spooled(
    hardened_settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    spool = tmp_path / "spool"
    spool.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool))  # where multipart parsing would spool the file
    app: FastAPI = create_app(hardened_settings(rag_max_upload_bytes=2 * MB))
    with TestClient(app, raise_server_exceptions=False) as client:
        owner = make_account(client, app, "alice.agent", Role.AGENT)
        collection = create_collection(client, owner.bearer, "Notes")
        files = [("files", ("gros.txt", b"x" * (4 * MB), "text/plain"))]
        _refused(client.post(f"/api/collections/{collection}/documents", files=files, headers=owner.bearer), "3 Mo")
        _refused(client.post(f"/api/collections/{collection}/documents", files=files), "3 Mo")
        assert list(spool.iterdir()) == [], "the refused upload left nothing on disk"
        listed = client.get(f"/api/collections/{collection}/documents", headers=owner.bearer).json()
        assert listed == []
        fits = [("files", ("note.txt", b"Une note de service.", "text/plain"))]
        accepted = client.post(f"/api/collections/{collection}/documents", files=fits, headers=owner.bearer)
        assert accepted.status_code == 202, accepted.text


def test_each_route_class_has_its_own_limit(hardened_settings) -> None:  # type: ignore[no-untyped-def]
    limits = BodyLimits(
        hardened_settings(
            request_max_body_bytes=1 * MB,
            task_max_upload_bytes=5 * MB,
            transcription_max_upload_bytes=100 * MB,
            rag_max_upload_bytes=20 * MB,
        )
    )
    overhead = 1024 * 1024
    assert limits.for_path("/api/auth/login") == limits.for_path("/connexion") == 64_000
    assert limits.for_path("/api/conversations/1/messages") == limits.for_path("/v1/chat/completions") == 1 * MB
    assert limits.for_path("/api/collections/abc/documents") == 20 * MB + overhead
    assert limits.for_path("/api/tasks/synthese") == 5 * MB + overhead
    assert limits.for_path("/api/transcriptions") == limits.for_path("/v1/audio/transcriptions") == 100 * MB + overhead
    assert limits.for_path("/api/transcriptions/abc/minutes") == 1 * MB
