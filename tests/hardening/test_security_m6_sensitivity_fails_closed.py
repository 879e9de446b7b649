"""M6 — sensitivity fails closed: only what the user declared public leaves for a non-sovereign model, and
everything that is sent is scanned.

Before: an undeclared request counted as public; images, tool arguments, tool definitions and
``response_format`` were not scanned; meeting audio went to a non-sovereign transcription server unasked.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from assistant.app import create_app
from assistant.store.models import Role
from tests.factories import Account, make_account, upstream_backend
from tests.fakes import FakeUpstream
from tests.transcription.factories import silence, write_wav

IBAN = "FR76 3000 6000 0112 3456 7890 189"
QUESTION = "Quelle est la capitale de la France ?"


@pytest.fixture
def app(hardened_settings, openai_upstream: FakeUpstream) -> FastAPI:  # type: ignore[no-untyped-def]
    backends = [
        upstream_backend(openai_upstream.url),
        upstream_backend(openai_upstream.url, name="externe", sovereign=False),
    ]
    return create_app(
        hardened_settings(
            llm_backends=backends,
            transcription_remote_url="http://127.0.0.1:9/v1",
            transcription_remote_sovereign=False,
        )
    )


def _ask(client: TestClient, who: Account, **body: Any):  # type: ignore[no-untyped-def]
    request = {"model": "externe-model", "messages": [{"role": "user", "content": QUESTION}], **body}
    return client.post("/v1/chat/completions", json=request, headers=who.bearer)


def _refused(response) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 403, response.text
    assert response.json()["error"]["code"] == "sovereignty_violation"


def test_an_undeclared_request_does_not_leave(
    client: TestClient, alice: Account, openai_upstream: FakeUpstream
) -> None:
    undeclared = _ask(client, alice)
    _refused(undeclared)
    assert "non déclaré" in undeclared.json()["error"]["message"]
    _refused(_ask(client, alice, sensitivity="internal"))
    assert openai_upstream.chat_requests() == []
    assert _ask(client, alice, sensitivity="public").status_code == 200


TOOL = {"type": "function", "function": {"name": "virement", "parameters": {"type": "object", "properties": {}}}}


@pytest.mark.parametrize(
    "hidden",
    [
        pytest.param(
            {
                "messages": [
                    {"role": "user", "content": QUESTION},
                    {
                        "role": "assistant",
                        "tool_calls": [
                            {
                                "id": "call_1",
                                "type": "function",
                                "function": {"name": "virement", "arguments": json.dumps({"iban": IBAN})},
                            },
                        ],
                    },
                    {"role": "tool", "tool_call_id": "call_1", "content": "fait"},
                ]
            },
            id="tool-arguments",
        ),
        pytest.param(
            {
                "messages": [
                    {"role": "user", "content": QUESTION},
                    {
                        "role": "assistant",
                        "tool_calls": [
                            {"id": "call_1", "type": "function", "function": {"name": "compte", "arguments": "{}"}},
                        ],
                    },
                    {"role": "tool", "tool_call_id": "call_1", "content": f"Compte de l'agent : {IBAN}"},
                ]
            },
            id="tool-result",
        ),
        pytest.param(
            {"tools": [{**TOOL, "function": {**TOOL["function"], "description": f"Payer sur {IBAN}"}}]},
            id="tool-definition",
        ),
        pytest.param(
            {
                "response_format": {
                    "type": "json_schema",
                    "json_schema": {
                        "name": "r",
                        "schema": {"type": "object", "description": "Écrire à jeanne.dupont@interieur.gouv.fr"},
                    },
                }
            },
            id="response-format",
        ),
        pytest.param(
            {
                "messages": [
                    {"role": "system", "content": f"Le compte du service est {IBAN}."},
                    {"role": "user", "content": QUESTION},
                ]
            },
            id="system-message",
        ),
    ],
)
def test_personal_data_anywhere_in_the_request_is_found(
    client: TestClient, alice: Account, openai_upstream: FakeUpstream, hidden: dict[str, Any]
) -> None:
    response = _ask(client, alice, sensitivity="public", **hidden)
    _refused(response)
    assert "données personnelles détectées" in response.json()["error"]["message"]
    assert openai_upstream.chat_requests() == []


def test_an_image_leaves_only_declared_public(client: TestClient, alice: Account) -> None:
    picture = (
        "data:image/png;base64,"
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAwS2OUAAAAABJRU5ErkJggg=="
    )
    content = [{"type": "text", "text": "Que montre ce scan ?"}, {"type": "image_url", "image_url": {"url": picture}}]
    message = [{"role": "user", "content": content}]
    _refused(_ask(client, alice, messages=message))
    _refused(_ask(client, alice, messages=message, sensitivity="internal"))
    # A picture cannot be read for personal data before it goes: the user's declaration is what lets it out.
    assert _ask(client, alice, messages=message, sensitivity="public").status_code == 200


def test_audio_goes_to_a_non_sovereign_transcription_server_only_declared_public(
    client: TestClient, app: FastAPI, tmp_path: Path
) -> None:
    agent = make_account(client, app, "agent.reunion", Role.AGENT)
    wav = write_wav(silence(1.0), tmp_path / "reunion.wav").read_bytes()
    for path, extra in (("/api/transcriptions", {}), ("/v1/audio/transcriptions", {"model": "whisper-1"})):
        for declared in ({}, {"sensitivity": "internal"}):
            refused = client.post(
                path,
                files={"file": ("reunion.wav", wav, "audio/wav")},
                data={**extra, **declared},
                headers=agent.bearer,
            )
            _refused(refused)
            assert (
                "non souverain" in refused.json()["error"]["message"]
                or "souveraine" in refused.json()["error"]["message"]
            )
    assert client.get("/api/transcriptions", headers=agent.bearer).json() == [], "nothing stored, nothing queued"
    accepted = client.post(
        "/api/transcriptions",
        files={"file": ("reunion.wav", wav, "audio/wav")},
        data={"sensitivity": "public"},
        headers=agent.bearer,
    )
    assert accepted.status_code == 202, accepted.text
