"""The gateway as clients meet it: a real server, the official ``openai`` client, the embedded model, disconnects."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import httpx
import openai
import pytest

from assistant.app import create_app
from assistant.core.config import Settings
from assistant.runtime import open_runtime
from assistant.security import Scope
from assistant.services.identity.api_keys import create_api_key
from assistant.services.identity.users import create_local_user
from assistant.store.models import Role
from tests.factories import embedded_test_config, upstream_backend
from tests.fakes import FakeUpstream, fake_reply
from tests.fakes.live_app import LiveServer

QUESTION = "Combien de jours de congés annuels pour un agent à temps plein ?"


async def _api_key(settings: Settings) -> str:
    async with open_runtime(settings, with_worker=False) as runtime:
        user = await create_local_user(runtime, username="agent.live", role=Role.AGENT, password=None)
        return (await create_api_key(runtime, owner_id=user.id, name="client", scopes=[Scope.CHAT])).secret


@pytest.fixture
def live(settings_factory, openai_upstream: FakeUpstream) -> Iterator[tuple[str, str]]:  # type: ignore[no-untyped-def]
    settings = settings_factory(
        llm_backends=[
            upstream_backend(openai_upstream.url),
            embedded_test_config(),
        ]
    )
    key = asyncio.run(_api_key(settings))
    with LiveServer(create_app(settings)) as server:
        yield server.url, key


def test_official_client_non_streamed(live: tuple[str, str]) -> None:
    url, key = live
    client = openai.OpenAI(base_url=f"{url}/v1", api_key=key)
    completion = client.chat.completions.create(model="vllm-model", messages=[{"role": "user", "content": QUESTION}])
    assert completion.choices[0].message.content == fake_reply(QUESTION)
    assert completion.model_extra is not None and completion.model_extra["ai_generated"] is True
    assert completion.model_extra["provenance"]["model_id"] == "vllm-model"
    assert {model.id for model in client.models.list()} == {"vllm-model", "smollm2-135m"}


def test_official_client_streamed_with_usage(live: tuple[str, str]) -> None:
    url, key = live
    client = openai.OpenAI(base_url=f"{url}/v1", api_key=key)
    stream = client.chat.completions.create(
        model="vllm-model",
        messages=[{"role": "user", "content": QUESTION}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(choice.delta.content or "" for chunk in chunks for choice in chunk.choices)
    assert text == fake_reply(QUESTION)
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == len(QUESTION.split())
    assert chunks[0].model_extra is not None and "provenance" in chunks[0].model_extra
    assert chunks[-1].model_extra is not None and "provenance_manifests" in chunks[-1].model_extra


def test_official_client_sees_our_errors(live: tuple[str, str]) -> None:
    url, key = live
    client = openai.OpenAI(base_url=f"{url}/v1", api_key=key, max_retries=0)
    with pytest.raises(openai.NotFoundError, match="vllm-model"):
        client.chat.completions.create(model="inconnu", messages=[{"role": "user", "content": "x"}])
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=f"{url}/v1", api_key="sk-souv-faux", max_retries=0).models.list()


def test_embedded_model_answers_a_french_prompt_end_to_end(live: tuple[str, str]) -> None:
    url, key = live
    client = openai.OpenAI(base_url=f"{url}/v1", api_key=key, timeout=120)
    completion = client.chat.completions.create(
        model="smollm2-135m",
        messages=[{"role": "user", "content": "Quelle est la capitale de la France ? Réponds en une phrase."}],
        max_tokens=24,
        temperature=0,
    )
    answer = completion.choices[0].message.content or ""
    assert len(answer.split()) >= 2, answer
    assert completion.usage is not None and 0 < completion.usage.completion_tokens <= 24
    extra = completion.model_extra or {}
    assert extra["ai_generated"] is True and extra["provenance"]["sovereign"] is True
    assert completion.usage.model_extra is not None and completion.usage.model_extra["energy_method"] == "power_time"


def test_embedded_model_caught_looping_says_so_in_the_answer(live: tuple[str, str]) -> None:
    url, key = live
    client = openai.OpenAI(base_url=f"{url}/v1", api_key=key, timeout=120)
    completion = client.chat.completions.create(
        model="smollm2-135m",
        messages=[{"role": "user", "content": "Repeat exactly, without stopping: " + "la note, " * 30}],
        max_tokens=300,
        temperature=0,
        extra_body={"repetition_penalty": 1.0},
    )
    choice = completion.choices[0]
    assert choice.finish_reason == "stop"
    assert choice.model_extra is not None and choice.model_extra["stop_reason"] == "repetition"
    assert completion.usage is not None and completion.usage.completion_tokens < 100


def test_client_hanging_up_mid_stream_leaves_the_service_healthy(
    live: tuple[str, str], openai_upstream: FakeUpstream
) -> None:
    url, key = live
    openai_upstream.faults.tokens_per_second = 20  # 11 words: about half a second
    body = {"model": "vllm-model", "messages": [{"role": "user", "content": QUESTION}], "stream": True}
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=10) as client:
        with client.stream("POST", "/v1/chat/completions", json=body) as response:
            assert response.status_code == 200
            for line in response.iter_lines():
                if '"content":"' in line.replace(" ", ""):
                    break  # first token seen: hang up
        # The service keeps working for the next caller.
        started = time.monotonic()
        response = client.post("/v1/chat/completions", json={**body, "stream": False})
        assert response.status_code == 200
        assert time.monotonic() - started < 5
