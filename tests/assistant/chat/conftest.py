"""The app wired to the fake OpenAI-compatible upstream: a sovereign model and a non-sovereign one."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from assistant.app import create_app
from assistant.store.models import Role
from tests.factories import Account, make_account, upstream_backend
from tests.fakes import FakeUpstream


@pytest.fixture
def chat_settings(settings_factory, openai_upstream: FakeUpstream):  # type: ignore[no-untyped-def]
    def build(**overrides: Any):  # type: ignore[no-untyped-def]
        overrides.setdefault(
            "llm_backends",
            [
                upstream_backend(openai_upstream.url),
                upstream_backend(openai_upstream.url, name="externe", sovereign=False),
            ],
        )
        overrides.setdefault("default_model", "vllm-model")
        overrides.setdefault("default_requests_per_minute", 10_000)
        return settings_factory(**overrides)

    return build


@pytest.fixture
def app(chat_settings) -> FastAPI:  # type: ignore[no-untyped-def]
    return create_app(chat_settings())


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
