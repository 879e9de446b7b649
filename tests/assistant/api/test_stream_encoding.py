"""The hand-written JSON of a stream's text events is the document the protocol model would produce."""

from __future__ import annotations

import json

import pytest

from assistant.llm import ChatChunk, ChoiceDelta, Usage
from assistant.protocol.chat import ChatCompletionChunk, TextChunkEncoder

TEXT_CHUNKS = [
    ChatChunk(deltas=(ChoiceDelta(text="Bonjour"),)),
    ChatChunk(deltas=(ChoiceDelta(text="", role="assistant"),)),
    ChatChunk(deltas=(ChoiceDelta(text=' « guillemets », "échappés", \\ et\nretour\t\u0001 ✓ 😀'),)),
    ChatChunk(deltas=(ChoiceDelta(text="", finish_reason="stop"),)),
    ChatChunk(deltas=(ChoiceDelta(text="fin", finish_reason="length"),)),
    ChatChunk(deltas=(ChoiceDelta(text="", finish_reason="abort"),)),  # vLLM's own reason, reported as "stop"
    ChatChunk(deltas=(ChoiceDelta(index=0, text="a"), ChoiceDelta(index=1, text="b", role="assistant"))),
    ChatChunk(deltas=(ChoiceDelta(text="x"),), usage=Usage(prompt_tokens=3, completion_tokens=1)),
    ChatChunk(deltas=()),
]


def _model_json(chunk: ChatChunk) -> str:
    event = ChatCompletionChunk.from_llm_chunk(chunk, id="chatcmpl-é1", created=1_732_000_000, model="vllm-modèle")
    event.usage = None  # the stream reports usage once, on its last event
    return event.model_dump_json(exclude_none=True)


@pytest.mark.parametrize("chunk", TEXT_CHUNKS)
def test_text_events_match_the_protocol_model(chunk: ChatChunk) -> None:
    encoder = TextChunkEncoder(id="chatcmpl-é1", created=1_732_000_000, model="vllm-modèle")
    encoded = encoder.encode(chunk)
    assert encoded is not None
    assert json.loads(encoded) == json.loads(_model_json(chunk))
    assert encoded == _model_json(chunk), "same keys, same order, same escaping"


@pytest.mark.parametrize(
    "delta",
    [
        ChoiceDelta(tool_calls=[{"index": 0, "id": "call_1", "type": "function", "function": {"name": "f"}}]),
        ChoiceDelta(text="a", logprobs={"content": [{"token": "a", "logprob": -0.1}]}),
    ],
)
def test_anything_but_text_is_left_to_the_model(delta: ChoiceDelta) -> None:
    encoder = TextChunkEncoder(id="chatcmpl-1", created=0, model="m")
    assert encoder.encode(ChatChunk(deltas=(ChoiceDelta(text="ok"), delta))) is None
