"""Uploading a recording through the API and waiting for its transcription to end."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient

from tests.factories import Account


def upload(client: TestClient, account: Account, path: Path, **fields: Any) -> httpx.Response:
    """POST ``path`` to /api/transcriptions with ``fields`` as form values (booleans as ``true``/``false``)."""
    with path.open("rb") as handle:
        return client.post(
            "/api/transcriptions",
            files={"file": (path.name, handle, "application/octet-stream")},
            data={key: str(value).lower() if isinstance(value, bool) else str(value) for key, value in fields.items()},
            headers=account.bearer,
        )


def wait_until_finished(
    client: TestClient, account: Account, transcription_id: str, timeout: float = 120
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body: dict[str, Any] = client.get(f"/api/transcriptions/{transcription_id}", headers=account.bearer).json()
        if body["status"] in ("succeeded", "failed", "cancelled"):
            return body
        time.sleep(0.2)
    raise AssertionError(f"transcription {transcription_id} did not finish in {timeout}s")
