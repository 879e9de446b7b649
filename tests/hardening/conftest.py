"""The app on the fake upstream (chat and embeddings), with the in-process worker, for the hardening tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from assistant.app import create_app
from assistant.store.models import Role
from tests.factories import Account, make_account, upstream_backend
from tests.fakes import FakeUpstream


@pytest.fixture
def hardened_settings(settings_factory, openai_upstream: FakeUpstream):  # type: ignore[no-untyped-def]
    def build(**overrides: object):  # type: ignore[no-untyped-def]
        overrides.setdefault("llm_backends", [upstream_backend(openai_upstream.url)])
        overrides.setdefault("default_model", "vllm-model")
        overrides.setdefault("default_requests_per_minute", 100_000)
        overrides.setdefault("job_recovery_interval_seconds", 0.5)
        # Embeddings from the fake upstream: these tests are about the service's defences, not a model.
        overrides.setdefault("rag_embedder", "openai")
        overrides.setdefault("rag_embedding_url", openai_upstream.url)
        overrides.setdefault("rag_embedding_model", "fake-model")
        overrides.setdefault("rag_embedding_dim", 32)
        # Fake vectors carry no similarity: every question goes to the model, where the defences are tested.
        overrides.setdefault("rag_abstention_min_score", -1)
        overrides.setdefault("rag_min_question_coverage", 0)
        return settings_factory(**overrides)

    return build


@pytest.fixture
def app(hardened_settings) -> FastAPI:  # type: ignore[no-untyped-def]
    return create_app(hardened_settings())


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def alice(client: TestClient, app: FastAPI) -> Account:
    return make_account(client, app, "alice.agent", Role.AGENT)


@pytest.fixture
def bob(client: TestClient, app: FastAPI) -> Account:
    return make_account(client, app, "bob.agent", Role.AGENT)
