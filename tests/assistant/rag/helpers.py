"""Helpers of the RAG service tests: an app on the fake upstream, accounts, uploads that wait for ingestion."""

from __future__ import annotations

import time
from typing import Any

from fastapi.testclient import TestClient

TERMINAL = {"ready", "failed"}


def create_collection(
    client: TestClient, headers: dict[str, str], name: str, *, classification: str = "internal"
) -> str:
    response = client.post("/api/collections", json={"name": name, "classification": classification}, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def upload(
    client: TestClient, headers: dict[str, str], collection_id: str, files: list[tuple[str, bytes, str]]
) -> list[dict[str, Any]]:
    response = client.post(
        f"/api/collections/{collection_id}/documents",
        files=[("files", (name, data, mime)) for name, data, mime in files],
        headers=headers,
    )
    assert response.status_code == 202, response.text
    documents: list[dict[str, Any]] = response.json()["documents"]
    return documents


def wait_ready(client: TestClient, headers: dict[str, str], document_id: str, timeout: float = 90) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        document: dict[str, Any] = client.get(f"/api/documents/{document_id}", headers=headers).json()
        if document["status"] in TERMINAL:
            return document
        time.sleep(0.1)
    raise AssertionError(f"document {document_id} not ingested in {timeout}s: {document}")


def ingest(
    client: TestClient, headers: dict[str, str], collection_id: str, files: list[tuple[str, bytes, str]]
) -> list[dict[str, Any]]:
    """Upload and wait until every document is ready or failed."""
    return [wait_ready(client, headers, d["id"]) for d in upload(client, headers, collection_id, files)]


def search(client: TestClient, headers: dict[str, str], query: str, **options: Any) -> list[dict[str, Any]]:
    response = client.post("/api/search", json={"query": query, **options}, headers=headers)
    assert response.status_code == 200, response.text
    passages: list[dict[str, Any]] = response.json()["passages"]
    return passages
