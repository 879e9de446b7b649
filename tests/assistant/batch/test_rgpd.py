"""A user's batches and files under the RGPD: in the data export, gone with the erasure, purged by retention."""

from __future__ import annotations

import io
import json
import time
import zipfile
from collections.abc import Iterator
from datetime import timedelta

import openai
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from assistant.app import create_app
from assistant.services.governance.retention import apply_retention
from assistant.services.governance.rgpd import ERASE_CONFIRMATION
from assistant.store import utcnow
from assistant.store.models import Batch, Role, StoredFile
from tests.assistant.batch.helpers import chat_line, jsonl
from tests.factories import Account, make_account, run, runtime_of, upstream_backend
from tests.fakes import FakeUpstream


@pytest.fixture
def http(settings_factory, openai_upstream: FakeUpstream) -> Iterator[tuple[TestClient, Account]]:  # type: ignore[no-untyped-def]
    app = create_app(settings_factory(llm_backends=[upstream_backend(openai_upstream.url)]))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, make_account(client, app, "agent.rgpd", Role.AGENT)


def _finished_batch(client: TestClient, account: Account) -> tuple[openai.OpenAI, openai.types.Batch]:
    api = openai.OpenAI(base_url="http://testserver/v1", api_key=account.key, http_client=client, max_retries=0)
    uploaded = api.files.create(file=("lot.jsonl", jsonl([chat_line("a", "Bonjour à tous")])), purpose="batch")
    batch = api.batches.create(input_file_id=uploaded.id, endpoint="/v1/chat/completions", completion_window="24h")
    deadline = time.monotonic() + 30
    while (batch := api.batches.retrieve(batch.id)).status != "completed":
        assert time.monotonic() < deadline, batch.status
        time.sleep(0.1)
    return api, batch


def test_batches_are_exported_then_erased_with_the_user_s_data(http: tuple[TestClient, Account]) -> None:
    client, account = http
    api, batch = _finished_batch(client, account)

    export = client.get("/api/me/export", headers=account.bearer)
    assert export.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(export.content))
    summary = json.loads(archive.read("lots/lots.json"))
    assert [item["id"] for item in summary["lots"]] == [batch.id]
    assert {item["purpose"] for item in summary["fichiers"]} == {"batch", "batch_output"}
    output = archive.read(f"lots/fichiers/{batch.output_file_id}-{batch.id}_output.jsonl").decode()
    assert json.loads(output)["response"]["body"]["ai_generated"] is True
    assert "lots/" in archive.read("LISEZMOI.txt").decode()

    erased = client.post("/api/me/erase", json={"confirmation": ERASE_CONFIRMATION}, headers=account.bearer)
    assert erased.status_code == 200, erased.text
    runtime = runtime_of(client.app)  # type: ignore[arg-type]

    async def left() -> tuple[int, int]:
        async with runtime.session_factory() as session:
            batches = (await session.execute(select(func.count()).select_from(Batch))).scalar_one()
            files = (await session.execute(select(func.count()).select_from(StoredFile))).scalar_one()
        return batches, files

    assert run(client, left()) == (0, 0)
    with pytest.raises(openai.AuthenticationError):  # the erasure revoked the keys, too
        api.batches.list()


def test_retention_purges_finished_batches_and_old_files(http: tuple[TestClient, Account]) -> None:
    client, account = http
    api, batch = _finished_batch(client, account)
    runtime = runtime_of(client.app)  # type: ignore[arg-type]

    async def age_and_purge(days: int) -> tuple[int, int, int]:
        async with runtime.session_factory.begin() as session:
            old = utcnow() - timedelta(days=days)
            await session.execute(update(Batch).values(created_at=old))
            await session.execute(update(StoredFile).values(created_at=old))
        outcome = await apply_retention(runtime)
        async with runtime.session_factory() as session:
            batches = (await session.execute(select(func.count()).select_from(Batch))).scalar_one()
            files = (await session.execute(select(func.count()).select_from(StoredFile))).scalar_one()
        return outcome.batches, batches, files

    assert run(client, age_and_purge(5)) == (0, 1, 2), "younger than the 30-day default: kept"
    assert run(client, age_and_purge(31)) == (3, 0, 0), "the batch and its input and output files"
    with pytest.raises(openai.NotFoundError):
        api.batches.retrieve(batch.id)
