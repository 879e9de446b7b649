"""The official ``openai`` client accepts our protocol models and speaks to the fake upstream unchanged."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from assistant.llm import ChatChunk, ChoiceDelta, Usage, assemble
from assistant.protocol import ChatCompletionChunk, ChatCompletionResponse, Provenance
from tests.fakes import FakeUpstream

openai = pytest.importorskip("openai", reason="client openai absent (dépendance de dev)")

PROVENANCE = Provenance(model_id="albert", backend="vllm", sovereign=True, created_at=datetime.now(UTC))


def test_client_parses_our_response_and_keeps_the_label() -> None:
    result = assemble(
        [
            ChatChunk(deltas=(ChoiceDelta(text="Bonjour", finish_reason="stop"),)),
            ChatChunk(usage=Usage(prompt_tokens=3, completion_tokens=1)),
        ]
    )
    ours = ChatCompletionResponse.from_result(result, model="albert", provenance=PROVENANCE)

    parsed = openai.types.chat.ChatCompletion.model_validate(json.loads(ours.model_dump_json()))

    assert parsed.choices[0].message.content == "Bonjour"
    assert parsed.usage is not None and parsed.usage.total_tokens == 4
    assert parsed.model_extra is not None and parsed.model_extra["ai_generated"] is True
    assert parsed.model_extra["provenance"]["backend"] == "vllm"


def test_client_parses_our_chunks() -> None:
    chunk = ChatCompletionChunk.from_llm_chunk(
        ChatChunk(deltas=(ChoiceDelta(role="assistant"),)),
        id="c",
        created=1,
        model="albert",
        provenance=PROVENANCE,
    )

    parsed = openai.types.chat.ChatCompletionChunk.model_validate(json.loads(chunk.model_dump_json(exclude_none=True)))

    assert parsed.choices[0].delta.role == "assistant"
    assert parsed.model_extra is not None and "provenance" in parsed.model_extra


async def test_fake_upstream_speaks_the_protocol_the_client_expects(openai_upstream: FakeUpstream) -> None:
    client = openai.AsyncOpenAI(base_url=openai_upstream.url, api_key="x", max_retries=0)

    models = await client.models.list()
    full = await client.chat.completions.create(
        model="fake-model", messages=[{"role": "user", "content": "un deux trois"}], n=2, seed=1
    )
    stream = await client.chat.completions.create(
        model="fake-model",
        messages=[{"role": "user", "content": "un deux trois"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    pieces = [chunk async for chunk in stream]
    embeddings = await client.embeddings.create(model="fake-model", input=["a b", "c"], dimensions=8)
    await client.close()

    assert [m.id for m in models.data] == ["fake-model"]
    assert [c.message.content for c in full.choices] == ["deux un trois", "un trois deux"]  # rotated by seed
    assert "".join(c.choices[0].delta.content or "" for c in pieces if c.choices) == "trois deux un"
    assert pieces[-1].usage is not None and pieces[-1].usage.completion_tokens == 3
    assert [len(e.embedding) for e in embeddings.data] == [8, 8]
