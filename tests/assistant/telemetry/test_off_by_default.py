"""Telemetry is off unless asked for: no middleware, no span, no traceparent, and the SDK is never loaded."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient

from assistant.api.middleware import TracingMiddleware
from assistant.app import create_app
from assistant.store.models import Role
from tests.factories import make_account, make_settings, upstream_backend
from tests.fakes import FakeUpstream

ROOT = Path(__file__).resolve().parents[3]

# Run in a process of its own: the suite's process has loaded the SDK for the other telemetry tests.
_SERVE_ONE_CHAT = """
import json, sys
from fastapi.testclient import TestClient
from assistant.app import create_app
from assistant.store.models import Role
from tests.factories import make_account, make_settings, upstream_backend

settings = make_settings(data_dir=sys.argv[1], llm_backends=[upstream_backend(sys.argv[2])], default_model="vllm-model")
app = create_app(settings)
with TestClient(app) as client:
    client.headers.update(make_account(client, app, "agent.off", Role.AGENT).bearer)
    body = {"model": "vllm-model", "messages": [{"role": "user", "content": "Bonjour"}]}
    assert client.post("/v1/chat/completions", json=body).status_code == 200
watched = ("opentelemetry.sdk.trace", "opentelemetry.exporter", "assistant.telemetry._provider")
print(json.dumps(sorted(name for name in sys.modules if name.startswith(watched))))
"""


def test_settings_default_to_off() -> None:
    settings = make_settings()
    assert settings.otel_enabled is False
    assert settings.otel_endpoint == "http://127.0.0.1:4318" and settings.otel_sampling_ratio == 1.0


def test_off_installs_nothing_and_sends_no_trace_context(settings_factory, openai_upstream: FakeUpstream) -> None:  # type: ignore[no-untyped-def]
    app = create_app(settings_factory(llm_backends=[upstream_backend(openai_upstream.url)], default_model="vllm-model"))
    assert all(middleware.cls is not TracingMiddleware for middleware in app.user_middleware)
    with TestClient(app, raise_server_exceptions=False) as client:
        assert app.state.tracing is None
        client.headers.update(make_account(client, app, "agent.off", Role.AGENT).bearer)
        body = {"model": "vllm-model", "messages": [{"role": "user", "content": "Bonjour"}], "stream": True}
        assert client.post("/v1/chat/completions", json=body).status_code == 200
    (sent,) = openai_upstream.chat_requests()
    assert "traceparent" not in sent.headers


def test_off_never_loads_the_sdk_nor_the_exporter(tmp_path: Path, openai_upstream: FakeUpstream) -> None:
    result = subprocess.run(
        [sys.executable, "-c", _SERVE_ONE_CHAT, str(tmp_path / "data"), openai_upstream.url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
    assert len(openai_upstream.chat_requests()) == 1  # the chat really went through
