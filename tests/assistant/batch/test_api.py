"""``/v1/files`` and ``/v1/batches`` as the official ``openai`` client meets them: upload, run, download, refusals."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import openai
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from assistant.app import create_app
from assistant.provenance import Manifest
from assistant.security import Scope
from assistant.store.models import Role
from tests.assistant.batch.helpers import chat_line, jsonl, parse_jsonl
from tests.factories import make_account, runtime_of, upstream_backend
from tests.fakes import FakeUpstream, fake_reply

QUESTIONS = ["Quel est le délai de recours ?", "Qui signe l'arrêté préfectoral ?", "Combien de jours de congés ?"]


@dataclass
class Setup:
    app: FastAPI
    http: TestClient
    client: openai.OpenAI
    other: openai.OpenAI


def _openai(http: TestClient, key: str) -> openai.OpenAI:
    # The test client is an httpx.Client: the official client speaks to the app in-process, unchanged.
    return openai.OpenAI(base_url="http://testserver/v1", api_key=key, http_client=http, max_retries=0)


def _setup(settings_factory, upstream: FakeUpstream, **settings: object) -> Iterator[Setup]:  # type: ignore[no-untyped-def]
    app = create_app(
        settings_factory(llm_backends=[upstream_backend(upstream.url)], default_requests_per_minute=100_000, **settings)
    )
    with TestClient(app, raise_server_exceptions=False) as http:
        agent = make_account(http, app, "agent.lot", Role.AGENT, scopes=[Scope.CHAT])
        other = make_account(http, app, "agent.autre", Role.AGENT, scopes=[Scope.CHAT])
        yield Setup(app, http, _openai(http, agent.key), _openai(http, other.key))


@pytest.fixture
def setup(settings_factory, openai_upstream: FakeUpstream) -> Iterator[Setup]:  # type: ignore[no-untyped-def]
    yield from _setup(settings_factory, openai_upstream)


def _wait(client: openai.OpenAI, batch_id: str, timeout: float = 30.0) -> openai.types.Batch:
    deadline = time.monotonic() + timeout
    while True:
        batch = client.batches.retrieve(batch_id)
        if batch.status in ("completed", "failed", "expired", "cancelled"):
            return batch
        assert time.monotonic() < deadline, f"batch still {batch.status}"
        time.sleep(0.1)


def test_the_official_client_runs_a_batch_and_downloads_labelled_signed_answers(setup: Setup) -> None:
    lines = [chat_line(f"req-{n}", question) for n, question in enumerate(QUESTIONS)]
    uploaded = setup.client.files.create(file=("lot.jsonl", jsonl(lines)), purpose="batch")
    assert uploaded.purpose == "batch" and uploaded.bytes == len(jsonl(lines)) and uploaded.id.startswith("file-")

    created = setup.client.batches.create(
        input_file_id=uploaded.id, endpoint="/v1/chat/completions", completion_window="24h", metadata={"lot": "test"}
    )
    assert created.status == "validating" and created.request_counts is not None
    assert created.request_counts.total == 3 and created.metadata == {"lot": "test"}
    batch = _wait(setup.client, created.id)

    assert batch.status == "completed", batch
    assert batch.request_counts is not None and (batch.request_counts.completed, batch.request_counts.failed) == (3, 0)
    assert batch.output_file_id and batch.error_file_id is None
    assert batch.in_progress_at and batch.finalizing_at and batch.completed_at
    content = setup.client.files.content(batch.output_file_id)
    assert content.response.headers["X-AI-Generated"] == "true"
    output = parse_jsonl(content.content)
    assert [line["custom_id"] for line in output] == ["req-0", "req-1", "req-2"]
    signer = runtime_of(setup.app).signer
    for line, question in zip(output, QUESTIONS, strict=True):
        assert line["id"].startswith("batch_req_") and line["error"] is None and line["ai_generated"] is True
        response = line["response"]
        assert response["status_code"] == 200 and response["request_id"].startswith("req_")
        body = response["body"]
        answer = body["choices"][0]["message"]["content"]
        assert answer == fake_reply(question)
        # The same label as /v1/chat/completions: flag, provenance, one signed manifest per choice.
        assert body["ai_generated"] is True and body["provenance"]["model_id"] == "vllm-model"
        assert body["provenance"]["request_id"] == response["request_id"]
        manifest = Manifest.model_validate(body["provenance_manifests"][0])
        verification = signer.verify(manifest, answer)
        assert verification.signature_valid and verification.content_matches
        assert body["usage"]["total_tokens"] > 0
    listed = setup.client.batches.list(limit=10)
    assert [item.id for item in listed.data] == [created.id]
    files = {item.id: item.purpose for item in setup.client.files.list()}
    assert files == {uploaded.id: "batch", batch.output_file_id: "batch_output"}
    assert setup.client.files.retrieve(uploaded.id).filename == "lot.jsonl"


def test_list_pages_with_after_and_limit(setup: Setup) -> None:
    uploaded = setup.client.files.create(file=("a.jsonl", jsonl([chat_line("x", "Bonjour")])), purpose="batch")
    ids = [
        setup.client.batches.create(
            input_file_id=uploaded.id, endpoint="/v1/chat/completions", completion_window="24h"
        ).id
        for _ in range(3)
    ]
    first = setup.client.batches.list(limit=2)
    assert [b.id for b in first.data] == ids[::-1][:2] and first.has_more
    second = setup.client.batches.list(limit=2, after=first.data[-1].id)
    assert [b.id for b in second.data] == [ids[0]] and not second.has_more
    for batch_id in ids:
        _wait(setup.client, batch_id)


@pytest.mark.parametrize(
    ("content", "line", "code"),
    [
        (jsonl([chat_line("a", "Bonjour")]) + b"{pas du json\n", 2, "invalid_json"),
        (jsonl([chat_line("a", "Bonjour"), {**chat_line("b", "x"), "url": "/v1/embeddings"}]), 2, "invalid_url"),
        (jsonl([chat_line("a", "Un"), chat_line("b", "Deux"), chat_line("a", "Trois")]), 3, "duplicate_custom_id"),
        (jsonl([chat_line("a", "Bonjour", stream=True)]), 1, "stream_in_batch"),
        (jsonl([{"custom_id": "a", "method": "POST", "url": "/v1/chat/completions"}]), 1, "invalid_batch_line"),
    ],
)
def test_a_bad_line_is_refused_at_upload_with_its_number(setup: Setup, content: bytes, line: int, code: str) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        setup.client.files.create(file=("lot.jsonl", content), purpose="batch")
    body = refused.value.body
    assert isinstance(body, dict) and body["code"] == code
    assert body["message"].startswith(f"Ligne {line} du fichier")
    assert refused.value.response.json()["line"] == line


def test_batch_creation_refuses_a_model_the_caller_may_not_use_wrong_endpoint_and_window(setup: Setup) -> None:
    content = jsonl([chat_line("a", "Bonjour"), chat_line("b", "Salut", model="inconnu")])
    uploaded = setup.client.files.create(file=("lot.jsonl", content), purpose="batch")
    with pytest.raises(openai.BadRequestError) as refused:
        setup.client.batches.create(input_file_id=uploaded.id, endpoint="/v1/chat/completions", completion_window="24h")
    assert isinstance(refused.value.body, dict)
    assert refused.value.body["message"].startswith("Ligne 2 du fichier : modèle « inconnu »")
    with pytest.raises(openai.BadRequestError, match="/v1/chat/completions"):
        setup.client.batches.create(input_file_id=uploaded.id, endpoint="/v1/embeddings", completion_window="24h")
    with pytest.raises(openai.BadRequestError, match="24h"):
        setup.client.batches.create(
            input_file_id=uploaded.id,
            endpoint="/v1/chat/completions",
            completion_window="48h",  # type: ignore[arg-type]
        )
    with pytest.raises(openai.BadRequestError, match="purpose=batch"):
        setup.client.files.create(file=("lot.jsonl", content), purpose="fine-tune")
    assert setup.client.batches.list().data == []


def test_another_users_files_and_batches_are_not_found(setup: Setup) -> None:
    uploaded = setup.client.files.create(file=("lot.jsonl", jsonl([chat_line("a", "Bonjour")])), purpose="batch")
    batch = setup.client.batches.create(
        input_file_id=uploaded.id, endpoint="/v1/chat/completions", completion_window="24h"
    )
    done = _wait(setup.client, batch.id)
    assert done.output_file_id is not None
    for call in (
        lambda: setup.other.batches.retrieve(batch.id),
        lambda: setup.other.batches.cancel(batch.id),
        lambda: setup.other.files.retrieve(uploaded.id),
        lambda: setup.other.files.content(done.output_file_id),
        lambda: setup.other.files.delete(uploaded.id),
        lambda: setup.other.batches.create(
            input_file_id=uploaded.id, endpoint="/v1/chat/completions", completion_window="24h"
        ),
        lambda: setup.client.batches.retrieve("batch_pas-un-id"),
    ):
        with pytest.raises(openai.NotFoundError):
            call()
    assert setup.other.batches.list().data == [] and setup.other.files.list().data == []
    # A finished batch cannot be cancelled; its input can now be deleted.
    with pytest.raises(openai.ConflictError):
        setup.client.batches.cancel(batch.id)
    assert setup.client.files.delete(uploaded.id).deleted is True
    with pytest.raises(openai.NotFoundError):
        setup.client.files.retrieve(uploaded.id)


@pytest.fixture
def small_quota(settings_factory, openai_upstream: FakeUpstream) -> Iterator[Setup]:  # type: ignore[no-untyped-def]
    yield from _setup(settings_factory, openai_upstream, default_tokens_per_day=5)


def test_a_line_past_the_daily_quota_errors_with_429_and_the_batch_goes_on(small_quota: Setup) -> None:
    lines = [chat_line(f"q{n}", question) for n, question in enumerate(QUESTIONS)]
    uploaded = small_quota.client.files.create(file=("lot.jsonl", jsonl(lines)), purpose="batch")
    created = small_quota.client.batches.create(
        input_file_id=uploaded.id, endpoint="/v1/chat/completions", completion_window="24h"
    )
    batch = _wait(small_quota.client, created.id)

    assert batch.status == "completed"
    assert batch.request_counts is not None and (batch.request_counts.completed, batch.request_counts.failed) == (1, 2)
    assert batch.output_file_id and batch.error_file_id
    assert [
        line["custom_id"] for line in parse_jsonl(small_quota.client.files.content(batch.output_file_id).content)
    ] == ["q0"]
    errors = small_quota.client.files.content(batch.error_file_id)
    assert "X-AI-Generated" not in errors.response.headers
    failed = parse_jsonl(errors.content)
    assert [line["custom_id"] for line in failed] == ["q1", "q2"]
    for line in failed:
        assert line["response"]["status_code"] == 429 and line["ai_generated"] is False
        assert line["response"]["body"]["error"]["code"] == "token_quota_exceeded"
        assert "Quota quotidien" in line["response"]["body"]["error"]["message"]
