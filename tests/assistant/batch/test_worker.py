"""The ``batches.run`` job: resumed after a worker is killed without redoing a line, cancelled between lines, run
at the lowest priority."""

from __future__ import annotations

import asyncio
import io
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from assistant.audit import ClientInfo
from assistant.core.config import Settings
from assistant.errors import ConflictError, PayloadTooLargeError
from assistant.jobs import JobRunner
from assistant.protocol.batches import BatchCreateRequest, BatchObject
from assistant.runtime import Runtime, open_runtime
from assistant.security import Principal, permissions_for
from assistant.services.batch import batches as batch_service
from assistant.services.batch import files as file_service
from assistant.services.batch._ids import parse_batch_id, parse_file_id
from assistant.services.gateway.priority import PRIORITY_BATCH
from assistant.services.identity.users import create_local_user
from assistant.store import batches as batch_store
from assistant.store import jobs as job_store
from assistant.store import utcnow
from assistant.store.models import JobStatus, Role
from tests.assistant.batch.helpers import chat_line, jsonl, parse_jsonl
from tests.factories import upstream_backend
from tests.fakes import FakeUpstream, fake_reply

CLIENT = ClientInfo(ip="127.0.0.1", user_agent="test", request_id="req-test")


@pytest.fixture
def slow() -> Iterator[FakeUpstream]:
    """A second model server, stalled on demand: the request in flight when the worker is killed."""
    with FakeUpstream() as server:
        yield server
        server.faults.stall_before_headers = False


@pytest.fixture
def settings(settings_factory, openai_upstream: FakeUpstream, slow: FakeUpstream) -> Settings:  # type: ignore[no-untyped-def]
    backends = [upstream_backend(openai_upstream.url), upstream_backend(slow.url, name="lent")]
    return settings_factory(llm_backends=backends, run_worker_in_process=False)  # type: ignore[no-any-return]


async def _agent(runtime: Runtime) -> Principal:
    user = await create_local_user(runtime, username=f"agent.{uuid.uuid4().hex[:6]}", role=Role.AGENT, password=None)
    return Principal(user.id, user.username, Role.AGENT, "session", permissions_for(Role.AGENT))


async def _batch(runtime: Runtime, principal: Principal, lines: list[dict[str, Any]]) -> BatchObject:
    uploaded = await file_service.upload_file(
        runtime,
        principal=principal,
        client=CLIENT,
        source=io.BytesIO(jsonl(lines)),
        filename="l.jsonl",
        purpose="batch",
    )
    body = BatchCreateRequest(input_file_id=uploaded.id, endpoint="/v1/chat/completions", completion_window="24h")
    return await batch_service.create_batch(runtime, principal=principal, client=CLIENT, body=body)


async def _job_id(runtime: Runtime, batch: BatchObject) -> uuid.UUID:
    async with runtime.session_factory() as session:
        row = await batch_store.get_batch(session=session, batch_id=parse_batch_id(batch.id))
    assert row is not None and row.job_id is not None
    return row.job_id


def _runner(runtime: Runtime, worker: str) -> JobRunner:
    return JobRunner(
        session_factory=runtime.session_factory,
        registry=runtime.job_registry,
        worker_id=worker,
        lease=timedelta(seconds=60),
    )


async def _until(condition: Any, timeout: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def _content(runtime: Runtime, principal: Principal, public_id: str | None) -> list[dict[str, Any]]:
    assert public_id is not None
    download = await file_service.download_file(runtime, principal=principal, public_id=public_id)
    return parse_jsonl(download.content)


QUESTIONS = [f"Question numéro {n} sur le statut des agents" for n in range(5)]


async def test_a_killed_worker_s_batch_resumes_without_redoing_or_duplicating_a_line(
    settings: Settings, openai_upstream: FakeUpstream, slow: FakeUpstream
) -> None:
    # Lines 0, 1, 3, 4 on the fast server; line 2 on the one that stalls, where the first worker dies.
    lines = [chat_line(f"c{n}", q, model="lent-model" if n == 2 else "vllm-model") for n, q in enumerate(QUESTIONS)]
    slow.faults.stall_before_headers = True
    async with open_runtime(settings, with_worker=False) as runtime:
        principal = await _agent(runtime)
        batch = await _batch(runtime, principal, lines)
        key, job_id = parse_batch_id(batch.id), await _job_id(runtime, batch)
        first = asyncio.create_task(_runner(runtime, "worker-1").run(job_id))

        async def two_done_and_third_in_flight() -> bool:
            async with runtime.session_factory() as session:
                done = await batch_store.done_lines(session=session, batch_id=key)
            return done == {0, 1} and len(slow.chat_requests()) == 1

        await _until(two_done_and_third_in_flight)
        first.cancel()  # the worker dies mid-line: no result for line 2, the job stays "running" with its lease
        with pytest.raises(asyncio.CancelledError):
            await first
        midway = await batch_service.get_batch(runtime, principal=principal, public_id=batch.id)
        assert midway.status == "in_progress" and midway.request_counts.completed == 2

        slow.faults.stall_before_headers = False
        async with runtime.session_factory.begin() as session:  # the lease runs out; recovery requeues the job
            assert await job_store.release_expired_leases(session=session, now=utcnow() + timedelta(minutes=5)) == 1
        assert await _runner(runtime, "worker-2").run(job_id) == JobStatus.SUCCEEDED

        done = await batch_service.get_batch(runtime, principal=principal, public_id=batch.id)
        output = await _content(runtime, principal, done.output_file_id)
        async with runtime.session_factory() as session:
            job = await job_store.get_job(session=session, job_id=job_id)
    assert job is not None and job.attempts == 2
    assert done.status == "completed" and (done.request_counts.completed, done.request_counts.failed) == (5, 0)
    assert [line["custom_id"] for line in output] == ["c0", "c1", "c2", "c3", "c4"], "each line once, in order"
    for line, question in zip(output, QUESTIONS, strict=True):
        assert line["response"]["body"]["choices"][0]["message"]["content"] == fake_reply(question)
    asked = [r.body["messages"][-1]["content"] for r in openai_upstream.chat_requests() if r.body]
    assert sorted(asked) == sorted(QUESTIONS[:2] + QUESTIONS[3:]), "no finished line was sent again"
    assert len(slow.chat_requests()) == 2, "only the line in flight at the kill is redone"


async def test_cancel_is_honoured_between_lines_and_keeps_the_answers_already_made(
    settings: Settings, openai_upstream: FakeUpstream, slow: FakeUpstream
) -> None:
    lines = [
        chat_line("a", "Première question"),
        chat_line("lent", "Deuxième", model="lent-model"),
        chat_line("c", "3"),
    ]
    slow.faults.stall_before_headers = True
    async with open_runtime(settings, with_worker=False) as runtime:
        principal = await _agent(runtime)
        batch = await _batch(runtime, principal, lines)
        running = asyncio.create_task(_runner(runtime, "worker-1").run(await _job_id(runtime, batch)))

        async def in_flight() -> bool:
            return len(slow.chat_requests()) == 1

        await _until(in_flight)
        cancelling = await batch_service.cancel_batch(runtime, principal=principal, client=CLIENT, public_id=batch.id)
        assert cancelling.status == "cancelling" and cancelling.cancelling_at is not None
        # Released without an answer: the line in flight ends (as an upstream error), then the cancel is seen.
        slow.faults.stall_before_headers = False
        await running
        cancelled = await batch_service.get_batch(runtime, principal=principal, public_id=batch.id)
        output = await _content(runtime, principal, cancelled.output_file_id)
        errors = await _content(runtime, principal, cancelled.error_file_id)
    assert cancelled.status == "cancelled" and cancelled.cancelled_at is not None
    assert [line["custom_id"] for line in output] == ["a"], "the answers made before the cancel stay available"
    assert [line["custom_id"] for line in errors] == ["lent"]
    assert errors[0]["response"]["status_code"] == 502
    assert len(openai_upstream.chat_requests()) == 1, "no line starts after the cancel"
    assert (cancelled.request_counts.completed, cancelled.request_counts.failed) == (1, 1)


async def test_a_batch_cancelled_before_any_worker_took_it_closes_at_once(settings: Settings) -> None:
    async with open_runtime(settings, with_worker=False) as runtime:
        principal = await _agent(runtime)
        batch = await _batch(runtime, principal, [chat_line("a", "Bonjour")])
        cancelled = await batch_service.cancel_batch(runtime, principal=principal, client=CLIENT, public_id=batch.id)
        job_id = await _job_id(runtime, batch)
        assert await _runner(runtime, "worker-1").run(job_id) is None  # the job is no longer claimable
    assert cancelled.status == "cancelled" and cancelled.output_file_id is None
    assert cancelled.request_counts.completed == 0


async def test_batch_lines_reach_the_model_at_the_lowest_priority(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with open_runtime(settings, with_worker=False) as runtime:
        backend = runtime.models.resolve("vllm-model").backend
        seen: list[int] = []
        real = backend.complete

        async def recording(request: Any) -> Any:
            seen.append(request.priority)
            return await real(request)

        monkeypatch.setattr(backend, "complete", recording)
        principal = await _agent(runtime)
        batch = await _batch(runtime, principal, [chat_line("a", "Un deux"), chat_line("b", "Trois quatre")])
        assert await _runner(runtime, "worker-1").run(await _job_id(runtime, batch)) == JobStatus.SUCCEEDED
    assert seen == [PRIORITY_BATCH, PRIORITY_BATCH]


async def test_the_input_of_a_running_batch_cannot_be_deleted(settings: Settings) -> None:
    async with open_runtime(settings, with_worker=False) as runtime:
        principal = await _agent(runtime)
        batch = await _batch(runtime, principal, [chat_line("a", "Bonjour")])
        with pytest.raises(ConflictError, match="lot en cours"):
            await file_service.delete_file(runtime, principal=principal, client=CLIENT, public_id=batch.input_file_id)
        assert parse_file_id(batch.input_file_id)


async def test_lines_left_when_the_24_hour_window_ends_expire_into_the_error_file(settings: Settings) -> None:
    async with open_runtime(settings, with_worker=False) as runtime:
        principal = await _agent(runtime)
        batch = await _batch(runtime, principal, [chat_line("a", "Bonjour"), chat_line("b", "Salut")])
        async with runtime.session_factory.begin() as session:
            row = await batch_store.get_batch(session=session, batch_id=parse_batch_id(batch.id))
            assert row is not None
            row.expires_at = utcnow() - timedelta(seconds=1)
        assert await _runner(runtime, "worker-1").run(await _job_id(runtime, batch)) == JobStatus.SUCCEEDED
        expired = await batch_service.get_batch(runtime, principal=principal, public_id=batch.id)
        errors = await _content(runtime, principal, expired.error_file_id)
    assert expired.status == "expired" and expired.expired_at is not None and expired.output_file_id is None
    assert [(line["custom_id"], line["error"]["code"], line["response"]) for line in errors] == [
        ("a", "batch_expired", None),
        ("b", "batch_expired", None),
    ]
    assert expired.request_counts.failed == 2


async def test_a_file_over_the_size_limit_is_refused(settings_factory, openai_upstream: FakeUpstream) -> None:  # type: ignore[no-untyped-def]
    settings = settings_factory(llm_backends=[upstream_backend(openai_upstream.url)], batch_max_file_bytes=100)
    async with open_runtime(settings, with_worker=False) as runtime:
        principal = await _agent(runtime)
        with pytest.raises(PayloadTooLargeError, match="limite"):
            await _batch(runtime, principal, [chat_line(f"l{n}", "Une question assez longue") for n in range(5)])
