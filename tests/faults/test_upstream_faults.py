"""Upstream model server faults not covered elsewhere, seen from the API: each upstream HTTP status maps to its
gateway status (502/503/504, or 400 for a refused request) in the error envelope; a server that never answers
is a 504; a stream that goes silent keeps its partial answer, stored and marked incomplete; an open circuit
answers 503 at once without calling the server. (Down, slow first token, garbage and death mid-stream are in
tests/assistant/api/test_chat_completions.py and tests/assistant/chat/test_conversations.py.)
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from assistant.app import create_app
from assistant.store.models import Role
from tests.factories import Account, make_account, upstream_backend
from tests.fakes import FakeUpstream, fake_reply

QUESTION = "Quel est le délai de recours contentieux contre une décision de la commission ?"


@pytest.fixture
def app(settings_factory, openai_upstream: FakeUpstream) -> FastAPI:  # type: ignore[no-untyped-def]
    return create_app(
        settings_factory(
            llm_backends=[
                # Generous deadlines where a timeout is not the fault under test: the machine may be busy.
                upstream_backend(openai_upstream.url, first_token_timeout=15.0, idle_timeout=15.0),
                upstream_backend(openai_upstream.url, name="impatient", first_token_timeout=4.0, idle_timeout=1.0),
                upstream_backend(openai_upstream.url, name="fragile", breaker_threshold=2, breaker_ttl=30.0),
            ],
            default_model="vllm-model",
            default_requests_per_minute=100_000,
        )
    )


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def agent(client: TestClient, app: FastAPI) -> Account:
    return make_account(client, app, "agent.amont", Role.AGENT)


def _complete(client: TestClient, agent: Account, **body: Any):  # type: ignore[no-untyped-def]
    payload = {"model": "vllm-model", "messages": [{"role": "user", "content": QUESTION}], **body}
    return client.post("/v1/chat/completions", json=payload, headers=agent.bearer)


def _conversation(client: TestClient, agent: Account) -> str:
    created = client.post("/api/conversations", json={}, headers=agent.bearer)
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def _say(client: TestClient, agent: Account, conversation: str, **body: Any):  # type: ignore[no-untyped-def]
    return client.post(
        f"/api/conversations/{conversation}/messages", json={"content": QUESTION, **body}, headers=agent.bearer
    )


def _messages(client: TestClient, agent: Account, conversation: str) -> list[dict[str, Any]]:
    detail = client.get(f"/api/conversations/{conversation}", headers=agent.bearer)
    assert detail.status_code == 200, detail.text
    return list(detail.json()["messages"])


def _sse(text: str) -> list[tuple[str, dict[str, Any]]]:
    events = []
    for block in text.split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "event" in lines:
            events.append((lines["event"], json.loads(lines["data"])))
    return events


def _assert_clean_error(response: Any, status: int, error_type: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["error"]["type"] == error_type and body["error"]["message"], body
    assert "Traceback" not in response.text and 'File "' not in response.text
    return body


def _v1_events(text: str) -> list[Any]:
    lines = [block.removeprefix("data: ") for block in text.split("\n\n") if block.startswith("data: ")]
    return [line if line == "[DONE]" else json.loads(line) for line in lines]


# Upstream status → gateway status and error type (whole answers), and the error code streams carry in-band.
UPSTREAM_STATUSES = [
    (500, 502, "upstream_error", "upstream_bad_response"),
    (502, 502, "upstream_error", "upstream_bad_response"),
    (503, 503, "service_unavailable_error", "upstream_unavailable"),
    (504, 504, "timeout_error", "upstream_timeout"),
    (429, 503, "service_unavailable_error", "upstream_unavailable"),
    (401, 502, "upstream_error", "upstream_bad_response"),
    (400, 400, "invalid_request_error", "upstream_rejected"),
]


@pytest.mark.parametrize(("upstream", "status", "error_type", "code"), UPSTREAM_STATUSES)
def test_upstream_status_maps_to_a_gateway_status_on_both_apis(
    client: TestClient,
    agent: Account,
    openai_upstream: FakeUpstream,
    upstream: int,
    status: int,
    error_type: str,
    code: str,
) -> None:
    openai_upstream.faults.status = upstream
    assert _assert_clean_error(_complete(client, agent), status, error_type)["error"]["code"] == code

    # A stream has started (200, labelled) before the upstream is asked: the failure comes in-band, labelled.
    streamed = _complete(client, agent, stream=True)
    assert streamed.status_code == 200 and streamed.headers["x-ai-generated"] == "true"
    *_, error, done = _v1_events(streamed.text)
    assert done == "[DONE]" and error["error"]["code"] == code and error["error"]["message"]
    assert error["ai_generated"] is True and error["incomplete"] is True

    conversation = _conversation(client, agent)
    assert _assert_clean_error(_say(client, agent, conversation), status, error_type)["error"]["code"] == code
    said = _say(client, agent, conversation, stream=True)
    assert said.status_code == 200
    name, body = _sse(said.text)[-1]
    assert name == "error" and body["error"]["code"] == code and body["message"] is None
    stored = _messages(client, agent, conversation)
    assert [m["role"] for m in stored] == ["user", "user"], "questions kept, no empty answer invented"


def test_server_that_never_answers_is_a_504_within_the_first_token_deadline(
    client: TestClient, agent: Account, openai_upstream: FakeUpstream
) -> None:
    openai_upstream.faults.stall_before_headers = True
    try:
        started = time.monotonic()
        _assert_clean_error(_complete(client, agent, model="impatient-model"), 504, "timeout_error")
        conversation = _conversation(client, agent)
        _assert_clean_error(_say(client, agent, conversation, model="impatient-model"), 504, "timeout_error")
        assert time.monotonic() - started < 20, "each request gives up after first_token_timeout (4 s)"
    finally:
        openai_upstream.faults.stall_before_headers = False


def test_stream_going_silent_keeps_the_partial_answer_marked_incomplete(
    client: TestClient, agent: Account, openai_upstream: FakeUpstream
) -> None:
    openai_upstream.faults.tokens_per_second = 0.6  # a token every 1.7 s: over the 1 s idle deadline
    conversation = _conversation(client, agent)
    response = _say(client, agent, conversation, stream=True, model="impatient-model")
    assert response.status_code == 200
    events = _sse(response.text)
    name, error = events[-1]
    assert name == "error" and error["error"]["code"] == "upstream_timeout", events[-1]
    assert error["ai_generated"] is True and error["incomplete"] is True
    received = "".join(data["content"] for kind, data in events if kind == "delta")
    assert received and fake_reply(QUESTION).startswith(received.strip())
    answer = _messages(client, agent, conversation)[-1]
    assert answer["role"] == "assistant" and answer["incomplete"] is True and answer["content"] == received
    assert answer["ai_generated"] is True

    # The same silence without streaming: 504, with the labelled partial answer in the body.
    full = _assert_clean_error(_complete(client, agent, model="impatient-model"), 504, "timeout_error")
    assert full["partial"]["incomplete"] is True and full["partial"]["ai_generated"] is True
    assert fake_reply(QUESTION).startswith(full["partial"]["content"].strip())


def test_open_circuit_answers_503_at_once_without_calling_the_server(
    client: TestClient, agent: Account, openai_upstream: FakeUpstream
) -> None:
    openai_upstream.faults.status = 500
    for _ in range(2):  # breaker_threshold
        _assert_clean_error(_complete(client, agent, model="fragile-model"), 502, "upstream_error")
    calls = len(openai_upstream.chat_requests())
    started = time.monotonic()
    body = _assert_clean_error(_complete(client, agent, model="fragile-model"), 503, "service_unavailable_error")
    assert time.monotonic() - started < 3 and len(openai_upstream.chat_requests()) == calls
    assert "indisponible" in body["error"]["message"]
    # Another backend on its own circuit is not affected once the server is well again.
    openai_upstream.faults.status = None
    assert _complete(client, agent).status_code == 200


def test_requests_piled_on_a_stalled_server_time_out_then_the_circuit_opens(
    client: TestClient, agent: Account, openai_upstream: FakeUpstream
) -> None:
    """Concurrent requests stuck on a server that never answers each get their 504 after the first-token deadline;
    past the breaker threshold (5) the next one is refused at once, and a backend on its own circuit still serves."""
    openai_upstream.faults.stall_before_headers = True
    results: list[int] = []

    def ask() -> None:
        results.append(_complete(client, agent, model="impatient-model").status_code)

    threads = [threading.Thread(target=ask) for _ in range(8)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert results == [504] * 8
        started = time.monotonic()
        _assert_clean_error(_complete(client, agent, model="impatient-model"), 503, "service_unavailable_error")
        assert time.monotonic() - started < 3, "refused without waiting for the 4 s deadline again"
    finally:
        openai_upstream.faults.stall_before_headers = False
    assert _complete(client, agent, model="fragile-model").status_code == 200
