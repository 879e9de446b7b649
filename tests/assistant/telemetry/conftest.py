"""Apps with traces on, their spans collected in memory, in front of the fake vLLM server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from assistant.app import create_app
from assistant.store.models import Role
from tests.factories import make_account, upstream_backend
from tests.fakes import FakeUpstream


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def traced_app(settings_factory, openai_upstream: FakeUpstream, exporter: InMemorySpanExporter) -> FastAPI:  # type: ignore[no-untyped-def]
    settings = settings_factory(
        otel_enabled=True, llm_backends=[upstream_backend(openai_upstream.url)], default_model="vllm-model"
    )
    return create_app(settings, span_exporter=exporter)


@pytest.fixture
def traced_client(traced_app: FastAPI, exporter: InMemorySpanExporter) -> Iterator[TestClient]:
    with TestClient(traced_app, raise_server_exceptions=False) as client:
        client.headers.update(make_account(client, traced_app, "agent.traces", Role.AGENT).bearer)
        exporter.clear()  # what start-up and the account did is not the tests' business
        yield client
