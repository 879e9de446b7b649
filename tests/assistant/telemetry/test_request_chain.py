"""One chat request traced end to end: server span → gateway span → client span → vLLM's traceparent header."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from tests.fakes import FakeUpstream

# A marker no span may ever carry: it is in the prompt, and the fake upstream echoes it in the answer.
MARKER = "ZORGLUB-7f3a"
QUESTION = f"Quel est le délai de recours {MARKER} contentieux ?"


def by_name(spans: tuple[ReadableSpan, ...], prefix: str) -> list[ReadableSpan]:
    return [span for span in spans if span.name.startswith(prefix)]


def _ask(client: TestClient, **overrides: object):  # type: ignore[no-untyped-def]
    body = {"model": "vllm-model", "messages": [{"role": "user", "content": QUESTION}], **overrides}
    return client.post("/v1/chat/completions", json=body)


def _chain(exporter: InMemorySpanExporter) -> tuple[ReadableSpan, ReadableSpan, ReadableSpan]:
    spans = exporter.get_finished_spans()
    (server,) = [span for span in spans if span.kind == SpanKind.SERVER]
    (gateway,) = by_name(spans, "gateway.generate")
    (upstream,) = [span for span in spans if span.kind == SpanKind.CLIENT]
    return server, gateway, upstream


@pytest.mark.parametrize("stream", [False, True])
def test_chat_request_is_one_trace_from_the_api_to_the_model_server(
    traced_client: TestClient, exporter: InMemorySpanExporter, openai_upstream: FakeUpstream, stream: bool
) -> None:
    response = _ask(traced_client, stream=stream)
    assert response.status_code == 200
    server, gateway, upstream = _chain(exporter)
    assert server.context is not None and gateway.context is not None and upstream.context is not None
    assert gateway.parent is not None and gateway.parent.span_id == server.context.span_id
    assert upstream.parent is not None and upstream.parent.span_id == gateway.context.span_id
    assert {server.context.trace_id, gateway.context.trace_id, upstream.context.trace_id} == {server.context.trace_id}

    # vLLM received the client span's context in the W3C header.
    (sent,) = openai_upstream.chat_requests()
    version, trace_id, parent_id, flags = sent.headers["traceparent"].split("-")
    assert version == "00" and int(flags, 16) & 1  # sampled
    assert int(trace_id, 16) == server.context.trace_id
    assert int(parent_id, 16) == upstream.context.span_id

    assert server.name == "POST /v1/chat/completions"
    assert server.attributes is not None
    assert server.attributes["http.request.method"] == "POST"
    assert server.attributes["http.route"] == "/v1/chat/completions"
    assert server.attributes["http.response.status_code"] == 200
    assert server.attributes["souverain.request_id"] == response.headers["x-request-id"]

    assert gateway.attributes is not None
    assert gateway.attributes["gen_ai.request.model"] == "fake-model"
    assert gateway.attributes["souverain.backend.kind"] == "openai"
    assert gateway.attributes["souverain.outcome"] == "ok"
    assert isinstance(gateway.attributes["souverain.priority"], int)
    assert gateway.attributes["gen_ai.usage.output_tokens"] == len(QUESTION.split())
    assert gateway.attributes["gen_ai.usage.input_tokens"] > 0
    assert 0 < gateway.attributes["souverain.time_to_first_token_ms"] < 30_000  # type: ignore[operator]
    assert upstream.attributes is not None and upstream.attributes["http.response.status_code"] == 200
    assert str(upstream.attributes["url.full"]).endswith("/v1/chat/completions")


def test_a_caller_trace_context_is_continued_and_its_request_id_kept(
    traced_client: TestClient, exporter: InMemorySpanExporter
) -> None:
    caller_trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    response = traced_client.get(
        "/healthz",
        headers={"traceparent": f"00-{caller_trace}-00f067aa0ba902b7-01", "x-request-id": "demande-42"},
    )
    assert response.headers["x-request-id"] == "demande-42"
    (server,) = exporter.get_finished_spans()
    assert server.context is not None and server.context.trace_id == int(caller_trace, 16)
    assert server.parent is not None and server.parent.span_id == int("00f067aa0ba902b7", 16)
    assert server.attributes is not None and server.attributes["souverain.request_id"] == "demande-42"


def test_upstream_failure_is_an_error_code_on_the_gateway_and_client_spans(
    traced_client: TestClient, exporter: InMemorySpanExporter, openai_upstream: FakeUpstream
) -> None:
    openai_upstream.faults.status = 503
    response = _ask(traced_client)
    assert response.status_code >= 500
    server, gateway, upstream = _chain(exporter)
    assert gateway.status.status_code == StatusCode.ERROR and gateway.attributes is not None
    assert gateway.attributes["souverain.outcome"] == "error"
    assert gateway.attributes["error.type"] == "upstream_unavailable"
    assert upstream.attributes is not None and upstream.attributes["error.type"] == "upstream_unavailable"
    assert server.attributes is not None and server.attributes["http.response.status_code"] == response.status_code


def _everything_said(span: ReadableSpan) -> str:
    """All that a span would ship: name, attributes, events, links, status, resource."""
    parts: list[object] = [
        span.name,
        dict(span.attributes or {}),
        span.status.description,
        dict(span.resource.attributes),
    ]
    parts += [(event.name, dict(event.attributes or {})) for event in span.events]
    parts += [dict(link.attributes or {}) for link in span.links]
    return json.dumps(parts, ensure_ascii=False, default=str)


@pytest.mark.parametrize("stream", [False, True])
def test_no_span_carries_the_prompt_the_answer_the_user_or_the_key(
    traced_client: TestClient, exporter: InMemorySpanExporter, stream: bool
) -> None:
    response = _ask(traced_client, stream=stream)
    assert response.status_code == 200 and MARKER in response.text  # the answer does contain it
    bearer = traced_client.headers["authorization"].removeprefix("Bearer ")
    spans = exporter.get_finished_spans()
    assert len(spans) >= 3
    for span in spans:
        said = _everything_said(span)
        for secret in (MARKER, "délai de recours", bearer, "agent.traces"):
            assert secret not in said, (span.name, secret)


def test_a_replica_pool_opens_one_gateway_span_naming_the_replica(
    settings_factory, openai_upstream: FakeUpstream, exporter: InMemorySpanExporter
) -> None:  # type: ignore[no-untyped-def]
    from assistant.app import create_app
    from assistant.llm import BackendConfig, ModelConfig
    from assistant.store.models import Role
    from tests.factories import make_account

    pool = BackendConfig(
        name="pool",
        kind="replicas",
        sovereign=True,
        options={"replicas": [{"base_url": openai_upstream.url, "name": "gpu-a"}]},
        models=[ModelConfig(id="pool-model", upstream_name="fake-model")],
    )
    app = create_app(settings_factory(otel_enabled=True, llm_backends=[pool]), span_exporter=exporter)
    with TestClient(app, raise_server_exceptions=False) as client:
        client.headers.update(make_account(client, app, "agent.pool", Role.AGENT).bearer)
        exporter.clear()
        body = {"model": "pool-model", "messages": [{"role": "user", "content": "Bonjour à tous"}]}
        assert client.post("/v1/chat/completions", json=body).status_code == 200
    spans = exporter.get_finished_spans()
    (gateway,) = by_name(spans, "gateway.generate")
    (upstream,) = [span for span in spans if span.kind == SpanKind.CLIENT]
    assert gateway.attributes is not None
    assert (gateway.attributes["souverain.backend.kind"], gateway.attributes["souverain.replica"]) == (
        "replicas",
        "gpu-a",
    )
    assert gateway.context is not None and upstream.parent is not None
    assert upstream.parent.span_id == gateway.context.span_id
