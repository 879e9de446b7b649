"""An app wired to the fake OpenAI-compatible upstream, with the in-process worker ingesting documents."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from assistant.app import create_app
from assistant.store.models import Role
from tests.factories import Account, make_account, upstream_backend
from tests.fakes import FakeUpstream
from tests.rag.fonts import FONT


@pytest.fixture(scope="session")
def font() -> Path:
    assert FONT.is_file(), "police DejaVu absente : installez le paquet Debian fonts-dejavu-core"
    return FONT


@pytest.fixture
def rag_settings(settings_factory, openai_upstream: FakeUpstream):  # type: ignore[no-untyped-def]
    def build(**overrides: object):  # type: ignore[no-untyped-def]
        overrides.setdefault(
            "llm_backends",
            [
                upstream_backend(openai_upstream.url),
                upstream_backend(openai_upstream.url, name="externe", sovereign=False),
            ],
        )
        overrides.setdefault("default_model", "vllm-model")
        overrides.setdefault("default_requests_per_minute", 100_000)
        overrides.setdefault("job_recovery_interval_seconds", 0.5)
        return settings_factory(**overrides)

    return build


@pytest.fixture
def app(rag_settings) -> FastAPI:  # type: ignore[no-untyped-def]
    return create_app(rag_settings())


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def owner(client: TestClient, app: FastAPI) -> Account:
    return make_account(client, app, "agent.owner", Role.AGENT)
