"""A job queued while a request is traced runs in a span of the same trace, with its kind, id, attempt, outcome."""

from __future__ import annotations

import asyncio
import time
import uuid

from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from assistant.core.config import Settings
from assistant.runtime import Runtime, open_runtime
from assistant.services.operations.jobs import get_job, submit_job
from assistant.store.models import JobStatus
from assistant.telemetry import Tracing, server_span

HANDLERS = "tests.assistant.jobs.handlers"
MARKER = "ZORGLUB-job"


async def _wait_done(runtime: Runtime, job_id: uuid.UUID, exporter: InMemorySpanExporter) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        job = await get_job(runtime, job_id=job_id, owner_id=None)
        # The span ends just after the status is written: wait for both.
        ended = any(span.name == "job.run" for span in exporter.get_finished_spans())
        if job.status in (JobStatus.SUCCEEDED, JobStatus.FAILED) and ended:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish in 30 s")


async def test_job_span_continues_the_enqueuing_request_trace(settings_factory) -> None:  # type: ignore[no-untyped-def]
    settings: Settings = settings_factory(job_modules=[HANDLERS], otel_enabled=True)
    exporter = InMemorySpanExporter()
    tracing = Tracing(exporter=exporter, service_name="souverain-test", batch=False)
    try:
        async with open_runtime(settings, with_worker=True, tracing=tracing) as runtime:
            with server_span(tracing, method="POST", headers=[], request_id="req-job") as request:
                request.route, request.status = "/api/test", 202
                job = await submit_job(runtime, kind="test.count_words", payload={"text": f"un {MARKER} trois"})
            await _wait_done(runtime, job.id, exporter)
    finally:
        tracing.shutdown()
    spans = exporter.get_finished_spans()
    (server,) = [span for span in spans if span.kind == SpanKind.SERVER]
    (run,) = [span for span in spans if span.name == "job.run"]
    assert run.kind == SpanKind.CONSUMER
    assert server.context is not None and run.context is not None and run.parent is not None
    assert run.context.trace_id == server.context.trace_id
    assert run.parent.span_id == server.context.span_id
    assert dict(run.attributes or {}) == {
        "souverain.job.id": str(job.id),
        "souverain.job.kind": "test.count_words",
        "souverain.job.attempt": 1,
        "souverain.outcome": "succeeded",
    }
    assert all(MARKER not in str(dict(span.attributes or {})) for span in spans)


async def test_a_failed_job_and_a_job_queued_outside_any_request(settings_factory) -> None:  # type: ignore[no-untyped-def]
    settings: Settings = settings_factory(job_modules=[HANDLERS], otel_enabled=True)
    exporter = InMemorySpanExporter()
    tracing = Tracing(exporter=exporter, service_name="souverain-test", batch=False)
    try:
        async with open_runtime(settings, with_worker=True, tracing=tracing) as runtime:
            job = await submit_job(runtime, kind="test.reject", payload={})
            await _wait_done(runtime, job.id, exporter)
    finally:
        tracing.shutdown()
    (run,) = exporter.get_finished_spans()
    assert run.parent is None  # a trace of its own
    assert run.attributes is not None
    assert (run.attributes["souverain.job.kind"], run.attributes["souverain.outcome"]) == ("test.reject", "failed")
