"""Plain factory functions and constants for tests: settings, backends on the fake upstream, accounts, records.

The one place for test support that is not a fixture; test modules import from here (or from a package's own
helper module), never from another test module or a conftest.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from fastapi import FastAPI
from fastapi.testclient import TestClient

from assistant.core.config import Settings, load_settings
from assistant.llm import BackendConfig, ModelCard, ModelConfig
from assistant.llm.embedded import default_embedded_config
from assistant.provenance import Provenance, SourceRef
from assistant.runtime import Runtime
from assistant.security import Scope
from assistant.services.identity.api_keys import create_api_key
from assistant.services.identity.users import create_local_user
from assistant.store.models import Role

T = TypeVar("T")
PASSWORD = "un-mot-de-passe-solide"
REDIS_URL = os.environ.get("SOUVERAIN_TEST_REDIS", "redis://127.0.0.1:6379/0")


def make_settings(**overrides: Any) -> Settings:
    """Settings from explicit values only: no .env file is read."""
    overrides.setdefault("log_format", "console")
    # The suite's embedded model proves the flow quickly; the default model has its own end-to-end tests.
    overrides.setdefault("embedded_model", "smollm2-135m")
    overrides.setdefault("embedded_preload", False)
    overrides.setdefault("embedded_threads", 1)
    # The model's answerability check is one more model call per grounded question; its own tests turn it on.
    overrides.setdefault("rag_answerability_check", False)
    return load_settings(_env_file=None, **overrides)


def embedded_test_config(**options: Any) -> BackendConfig:
    """The embedded backend as the suite runs it: SmolLM2 (fast, garbled French), one thread, started on demand."""
    options.setdefault("preload", False)
    options.setdefault("n_threads", 1)
    return default_embedded_config(model="smollm2-135m", **options)


def model_card(name: str = "Modèle de test", **fields: Any) -> ModelCard:
    """A model card with a licence, French and a size; ``fields`` override or add to them."""
    values: dict[str, Any] = {"name": name, "licence": "Apache-2.0", "languages": ["fr"], "parameters": "24B"}
    values.update(fields)
    return ModelCard(**values)


def upstream_backend(
    url: str,
    *,
    name: str = "vllm",
    sovereign: bool = True,
    model_id: str | None = None,
    context_length: int | None = None,
    card: ModelCard | None = None,
    **options: Any,
) -> BackendConfig:
    """An OpenAI-compatible backend on ``url`` (the fake upstream) serving one model, ``{name}-model`` by default.

    No retries unless ``options`` says otherwise; ``options`` are the backend's own (timeouts, breaker...).
    """
    return BackendConfig(
        name=name,
        kind="openai",
        sovereign=sovereign,
        options={"base_url": url, "max_retries": 0, **options},
        models=[
            ModelConfig(
                id=model_id or f"{name}-model",
                upstream_name="fake-model",
                context_length=context_length,
                card=card or model_card(),
            )
        ],
    )


def run(client: TestClient, coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` on the app's event loop (the runtime's engine is bound to it)."""
    portal = client.portal
    assert portal is not None

    async def wait() -> T:
        return await coroutine

    return portal.call(wait)


def runtime_of(app: FastAPI) -> Runtime:
    runtime: Runtime = app.state.runtime
    return runtime


@dataclass
class Account:
    id: uuid.UUID
    username: str
    role: Role
    key: str

    @property
    def bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


def make_account(
    client: TestClient, app: FastAPI, username: str, role: Role, scopes: list[Scope] | None = None
) -> Account:
    """A local user with ``PASSWORD`` and an API key, made through the real services."""
    runtime = runtime_of(app)

    async def build() -> Account:
        user = await create_local_user(runtime, username=username, role=role, password=PASSWORD)
        created = await create_api_key(runtime, owner_id=user.id, name="test", scopes=scopes or list(Scope))
        return Account(id=user.id, username=username, role=role, key=created.secret)

    return run(client, build())


def new_key(client: TestClient, app: FastAPI, account: Account, scopes: list[Scope]) -> str:
    async def build() -> str:
        return (await create_api_key(runtime_of(app), owner_id=account.id, name="k", scopes=scopes)).secret

    return run(client, build())


def make_provenance(**overrides: object) -> Provenance:
    """A provenance record for a sovereign answer citing one document; ``overrides`` change any field."""
    values: dict[str, object] = {
        "model_id": "mistral-small",
        "model_version": "sha256:abc",
        "backend": "openai-compatible",
        "sovereign": True,
        "created_at": datetime(2026, 11, 23, 10, 0, tzinfo=UTC),
        "request_id": "req-1",
        "sources": (SourceRef(document_id="doc-1", title="Règlement", page=3),),
    }
    values.update(overrides)
    return Provenance.model_validate(values)


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
