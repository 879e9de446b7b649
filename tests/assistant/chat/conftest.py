"""The app wired to the fake OpenAI-compatible upstream: a sovereign model and a non-sovereign one."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from assistant.app import create_app
from assistant.llm import BackendConfig, ModelCard, ModelConfig
from assistant.store.models import Role
from tests.assistant.security.helpers import Account, make_account
from tests.fakes import FakeUpstream


def backend(name: str, url: str, *, sovereign: bool = True) -> BackendConfig:
    return BackendConfig(
        name=name,
        kind="openai",
        sovereign=sovereign,
        options={"base_url": url, "max_retries": 0},
        models=[
            ModelConfig(
                id=f"{name}-model",
                upstream_name="fake-model",
                card=ModelCard(name="Modèle de test", licence="Apache-2.0", languages=["fr"], parameters="24B"),
            )
        ],
    )


@pytest.fixture
def chat_settings(settings_factory, openai_upstream: FakeUpstream):  # type: ignore[no-untyped-def]
    def build(**overrides: Any):  # type: ignore[no-untyped-def]
        overrides.setdefault(
            "llm_backends",
            [backend("vllm", openai_upstream.url), backend("externe", openai_upstream.url, sovereign=False)],
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


def sse_events(text: str) -> list[tuple[str, Any]]:
    """(event name, decoded data) of every server-sent event in a body."""
    events = []
    for block in text.split("\n\n"):
        name, data = "message", None
        for line in block.splitlines():
            if line.startswith("event: "):
                name = line.removeprefix("event: ")
            elif line.startswith("data: "):
                data = json.loads(line.removeprefix("data: "))
        if data is not None:
            events.append((name, data))
    return events
