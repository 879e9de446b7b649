"""The OpenAI-compatible backend against the real fake upstream server."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from assistant.llm import (
    ChatRequest,
    SamplingParams,
    UpstreamBadResponseError,
    UpstreamRejectedError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
)
from assistant.llm.openai_compatible import OpenAICompatibleBackend
from tests.fakes import FakeUpstream, closed_port_url

QUESTION = "Quelle est la capitale de la France"
# The fake answers the user's words in reverse order.
ANSWER = "France la de capitale la est Quelle"


def make_backend(url: str, **options: Any) -> OpenAICompatibleBackend:
    settings: dict[str, Any] = {"base_url": url, "retry_backoff": 0.01, **options}
    backend = OpenAICompatibleBackend.from_options(settings)
    assert isinstance(backend, OpenAICompatibleBackend)
    return backend


def ask(text: str = QUESTION, **params: Any) -> ChatRequest:
    return ChatRequest(
        model="fake-model",
        messages=[{"role": "system", "content": "Sois bref."}, {"role": "user", "content": text}],
        params=SamplingParams(**params),
    )


@pytest.fixture
async def backend(openai_upstream: FakeUpstream) -> AsyncIterator[OpenAICompatibleBackend]:
    client = make_backend(openai_upstream.url, first_token_timeout=5, total_timeout=10)
    yield client
    await client.aclose()


async def test_complete_returns_text_finish_reason_and_usage(backend: OpenAICompatibleBackend) -> None:
    result = await backend.complete(ask())

    assert [c.text for c in result.choices] == [ANSWER]
    assert result.choices[0].finish_reason == "stop"
    assert result.usage is not None
    assert result.usage.prompt_tokens == 2 + 7
    assert result.usage.completion_tokens == 7
    assert result.usage.total_tokens == 16


async def test_stream_yields_role_then_tokens_in_order_then_usage(backend: OpenAICompatibleBackend) -> None:
    chunks = [chunk async for chunk in backend.stream(ask())]

    deltas = [d for c in chunks for d in c.deltas]
    assert deltas[0].role == "assistant"
    texts = [d.text for d in deltas if d.text]
    assert texts == ["France", " la", " de", " capitale", " la", " est", " Quelle"]
    assert deltas[-1].finish_reason == "stop"
    assert chunks[-1].usage is not None and chunks[-1].deltas == ()
    assert all(c.usage is None for c in chunks[:-1])


async def test_stop_strings_and_max_tokens_and_n(backend: OpenAICompatibleBackend) -> None:
    stopped = await backend.complete(ask(stop=[" capitale"]))
    assert stopped.choices[0].text == "France la de"
    assert stopped.choices[0].finish_reason == "stop"

    truncated = await backend.complete(ask(max_tokens=2, n=2))
    assert [c.text for c in truncated.choices] == ["France la", "la de"]
    assert {c.finish_reason for c in truncated.choices} == {"length"}
    assert truncated.usage is not None and truncated.usage.completion_tokens == 4


async def test_sampling_parameters_reach_the_upstream_unchanged(
    backend: OpenAICompatibleBackend, openai_upstream: FakeUpstream
) -> None:
    tools = [{"type": "function", "function": {"name": "chercher", "parameters": {"type": "object"}}}]
    params = SamplingParams(
        max_tokens=50,
        temperature=0.3,
        top_p=0.9,
        top_k=40,
        min_p=0.05,
        repetition_penalty=1.1,
        presence_penalty=0.2,
        frequency_penalty=0.1,
        seed=7,
        stop=["FIN"],
        n=2,
        logprobs=True,
        top_logprobs=3,
        response_format={"type": "json_object"},
        tools=tools,
        tool_choice="none",
        extra={"min_tokens": 2, "skip_special_tokens": False},
    )
    request = ChatRequest(model="fake-model", messages=[{"role": "user", "content": "x"}], params=params, user="u1")

    await backend.complete(request)

    (sent,) = openai_upstream.chat_requests()
    assert sent.body is not None
    expected = params.model_dump(exclude_none=True, exclude={"extra"}) | params.extra
    for name, value in expected.items():
        assert sent.body[name] == value, name
    assert sent.body["stream"] is True
    assert sent.body["stream_options"] == {"include_usage": True}
    assert sent.body["user"] == "u1"
    assert "logit_bias" not in sent.body and "parallel_tool_calls" not in sent.body


async def test_tool_calls_are_assembled_from_fragments(backend: OpenAICompatibleBackend) -> None:
    tools = [{"type": "function", "function": {"name": "chercher_document", "parameters": {"type": "object"}}}]

    result = await backend.complete(ask(tools=tools, tool_choice="required"))

    (choice,) = result.choices
    assert choice.finish_reason == "tool_calls"
    (call,) = choice.tool_calls
    assert call["id"] == "call_0"
    assert call["function"]["name"] == "chercher_document"
    assert json.loads(call["function"]["arguments"]) == {"texte": QUESTION}


async def test_logprobs_are_collected_per_token(backend: OpenAICompatibleBackend) -> None:
    result = await backend.complete(ask(logprobs=True, max_tokens=3))

    assert [entry["token"] for entry in result.choices[0].logprobs] == ["France", " la", " de"]
    assert all(entry["logprob"] <= 0 for entry in result.choices[0].logprobs)


async def test_api_key_is_sent_as_bearer(openai_upstream: FakeUpstream) -> None:
    backend = make_backend(openai_upstream.url, api_key="s3cret", headers={"X-Tenant": "dinum"})
    await backend.complete(ask())
    await backend.aclose()

    (sent,) = openai_upstream.chat_requests()
    assert sent.headers["authorization"] == "Bearer s3cret"
    assert sent.headers["x-tenant"] == "dinum"


async def test_api_key_can_come_from_a_mounted_secret_file(openai_upstream: FakeUpstream, tmp_path: Path) -> None:
    secret = tmp_path / "vllm-api-key"
    secret.write_text("depuis-le-secret\n", encoding="utf-8")
    backend = make_backend(openai_upstream.url, api_key="ignorée", api_key_file=str(secret))

    await backend.complete(ask())
    await backend.aclose()

    assert openai_upstream.chat_requests()[0].headers["authorization"] == "Bearer depuis-le-secret"
    assert "depuis-le-secret" not in repr(backend.options)


async def test_slow_first_token_raises_timeout_quickly(openai_upstream: FakeUpstream) -> None:
    # The deadline also covers the response headers: 1 s leaves a busy machine time to send them.
    openai_upstream.faults.first_token_delay = 6
    backend = make_backend(openai_upstream.url, first_token_timeout=1.0)
    started = time.monotonic()

    with pytest.raises(UpstreamTimeoutError, match="avant le premier mot") as caught:
        await backend.complete(ask())

    assert time.monotonic() - started < 3.5
    assert caught.value.partial_text == ""
    assert len(openai_upstream.chat_requests()) == 1  # the request was received: no retry
    await backend.aclose()


async def test_stall_before_headers_raises_timeout(openai_upstream: FakeUpstream) -> None:
    openai_upstream.faults.stall_before_headers = True
    backend = make_backend(openai_upstream.url, first_token_timeout=0.3)

    with pytest.raises(UpstreamTimeoutError, match="pas commencé"):
        await backend.complete(ask())

    openai_upstream.faults.stall_before_headers = False
    await backend.aclose()


async def test_silence_mid_stream_times_out_and_keeps_partial_text(openai_upstream: FakeUpstream) -> None:
    openai_upstream.faults.tokens_per_second = 2
    backend = make_backend(openai_upstream.url, idle_timeout=0.2)

    with pytest.raises(UpstreamTimeoutError, match="pendant la génération") as caught:
        await backend.complete(ask())

    assert caught.value.partial_text == "France"
    await backend.aclose()


async def test_total_timeout_bounds_a_slow_stream(openai_upstream: FakeUpstream) -> None:
    openai_upstream.faults.tokens_per_second = 10
    backend = make_backend(openai_upstream.url, total_timeout=0.35)
    started = time.monotonic()

    with pytest.raises(UpstreamTimeoutError) as caught:
        await backend.complete(ask(" ".join(["mot"] * 50)))

    assert time.monotonic() - started < 1.5
    assert caught.value.partial_text.startswith("mot mot")
    await backend.aclose()


async def test_down_upstream_is_unavailable_after_retries() -> None:
    backend = make_backend(closed_port_url(), max_retries=2)
    started = time.monotonic()

    with pytest.raises(UpstreamUnavailableError, match="injoignable"):
        await backend.complete(ask())

    assert time.monotonic() - started < 2
    await backend.aclose()


async def test_503_before_first_byte_is_retried(
    backend: OpenAICompatibleBackend, openai_upstream: FakeUpstream
) -> None:
    openai_upstream.faults.status = 503
    openai_upstream.faults.fail_times = 2

    result = await backend.complete(ask())

    assert result.choices[0].text == ANSWER
    assert len(openai_upstream.chat_requests()) == 3


async def test_persistent_503_gives_unavailable_after_max_retries(openai_upstream: FakeUpstream) -> None:
    openai_upstream.faults.status = 503
    backend = make_backend(openai_upstream.url, max_retries=1)

    with pytest.raises(UpstreamUnavailableError, match="surchargé"):
        await backend.complete(ask())

    assert len(openai_upstream.chat_requests()) == 2
    await backend.aclose()


async def test_http_500_is_a_bad_response_without_retry(
    backend: OpenAICompatibleBackend, openai_upstream: FakeUpstream
) -> None:
    openai_upstream.faults.status = 500

    with pytest.raises(UpstreamBadResponseError, match=r"HTTP 500.*panne simulée 500"):
        await backend.complete(ask())

    assert len(openai_upstream.chat_requests()) == 1


async def test_http_400_is_the_callers_problem(backend: OpenAICompatibleBackend, openai_upstream: FakeUpstream) -> None:
    openai_upstream.faults.status = 400

    with pytest.raises(UpstreamRejectedError) as caught:
        await backend.complete(ask())

    assert caught.value.status_code == 400
    assert caught.value.upstream_message == "panne simulée 400"


async def test_unknown_upstream_model_points_at_the_configuration(backend: OpenAICompatibleBackend) -> None:
    request = ChatRequest(model="absent", messages=[{"role": "user", "content": "x"}])

    with pytest.raises(UpstreamBadResponseError, match="SOUVERAIN_LLM_BACKENDS"):
        await backend.complete(request)


async def test_garbage_json_is_a_bad_response_keeping_partial(
    backend: OpenAICompatibleBackend, openai_upstream: FakeUpstream
) -> None:
    openai_upstream.faults.garbage_after_tokens = 2

    with pytest.raises(UpstreamBadResponseError, match="illisible") as caught:
        await backend.complete(ask())

    assert caught.value.partial_text == "France la"


async def test_death_mid_stream_keeps_partial_text_and_is_not_retried(
    backend: OpenAICompatibleBackend, openai_upstream: FakeUpstream
) -> None:
    openai_upstream.faults.die_after_tokens = 3
    received: list[str] = []

    with pytest.raises(UpstreamBadResponseError, match="interrompu") as caught:
        async for chunk in backend.stream(ask()):
            received.extend(d.text for d in chunk.deltas)

    assert "".join(received) == "France la de"
    assert caught.value.partial_text == "France la de"
    assert caught.value.partial is not None and caught.value.partial.choices[0].finish_reason is None
    assert len(openai_upstream.chat_requests()) == 1


async def test_stream_without_done_but_finished_is_accepted(
    backend: OpenAICompatibleBackend, openai_upstream: FakeUpstream
) -> None:
    openai_upstream.faults.omit_done = True

    result = await backend.complete(ask())

    assert result.choices[0].text == ANSWER


async def test_consumer_stopping_early_releases_the_stream(
    backend: OpenAICompatibleBackend, openai_upstream: FakeUpstream
) -> None:
    openai_upstream.faults.tokens_per_second = 50
    stream = backend.stream(ask())
    async for chunk in stream:
        if any(d.text for d in chunk.deltas):
            break
    await stream.aclose()  # type: ignore[attr-defined]

    assert await backend.circuit_state() == "closed"
    assert (await backend.complete(ask())).choices[0].text == ANSWER


async def test_circuit_opens_after_threshold_then_half_opens(openai_upstream: FakeUpstream) -> None:
    backend = make_backend(openai_upstream.url, breaker_threshold=2, breaker_ttl=0.3, max_retries=0)
    openai_upstream.faults.status = 500
    for _ in range(2):
        with pytest.raises(UpstreamBadResponseError):
            await backend.complete(ask())
    assert await backend.circuit_state() == "opened"

    with pytest.raises(UpstreamUnavailableError, match="après plusieurs échecs"):
        await backend.complete(ask())
    assert len(openai_upstream.chat_requests()) == 2  # failed fast, the server was spared

    await asyncio.sleep(0.35)
    with pytest.raises(UpstreamBadResponseError):  # the half-open probe fails: open again
        await backend.complete(ask())
    assert await backend.circuit_state() == "opened"

    openai_upstream.faults.status = None
    await asyncio.sleep(0.35)
    result = await backend.complete(ask())  # the probe succeeds: closed
    assert result.choices[0].text == ANSWER
    assert await backend.circuit_state() == "closed"
    await backend.aclose()


async def test_circuit_recovers_when_a_down_server_comes_back(openai_upstream: FakeUpstream) -> None:
    backend = make_backend(openai_upstream.url, breaker_threshold=1, breaker_ttl=0.2, max_retries=0)
    openai_upstream.stop()
    with pytest.raises(UpstreamUnavailableError, match="injoignable"):
        await backend.complete(ask())
    assert await backend.circuit_state() == "opened"

    openai_upstream.start()
    await asyncio.sleep(0.25)
    assert (await backend.complete(ask())).choices[0].text == ANSWER
    await backend.aclose()


async def test_client_errors_do_not_open_the_circuit(openai_upstream: FakeUpstream) -> None:
    backend = make_backend(openai_upstream.url, breaker_threshold=1)
    openai_upstream.faults.status = 400
    for _ in range(3):
        with pytest.raises(UpstreamRejectedError):
            await backend.complete(ask())
    assert await backend.circuit_state() == "closed"
    await backend.aclose()


async def test_health_reports_ok_and_down(backend: OpenAICompatibleBackend) -> None:
    healthy = await backend.health()
    assert healthy.status == "ok" and healthy.latency_ms is not None

    down = make_backend(closed_port_url(), connect_timeout=0.5)
    unhealthy = await down.health()
    assert unhealthy.status == "down" and "injoignable" in unhealthy.detail
    await down.aclose()


async def test_count_tokens_uses_tokenize_endpoint_or_estimate(openai_upstream: FakeUpstream) -> None:
    messages = [{"role": "user", "content": "un deux trois quatre cinq six"}]
    exact = make_backend(openai_upstream.url, use_tokenize_endpoint=True)
    assert await exact.count_tokens(messages, model="fake-model") == 6
    assert openai_upstream.requests[-1].path == "/tokenize"

    estimated = make_backend(openai_upstream.url)
    assert await estimated.count_tokens(messages, model="fake-model") == 8 + 4  # 29 chars / 4, + overhead
    await exact.aclose()
    await estimated.aclose()
