"""OpenAI protocol models: parsing real client payloads, mapping to backend params, shaping responses."""

from __future__ import annotations

import base64
import json
import logging
import struct
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from assistant.llm import (
    ChatChunk,
    ChoiceDelta,
    ModelCard,
    ModelWithdrawnError,
    RegisteredModel,
    UnknownModelError,
    UnsupportedParameterError,
    UpstreamBadResponseError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
    Usage,
    assemble,
)
from assistant.llm.openai_compatible import OpenAICompatibleBackend
from assistant.protocol import (
    ChatCompletionChunk,
    ChatCompletionRequest,
    ChatCompletionResponse,
    Embedding,
    EmbeddingRequest,
    ErrorResponse,
    Model,
    ModelList,
    Provenance,
    llm_error_response,
)

PROVENANCE = Provenance(
    model_id="albert-large",
    backend="vllm-dgx",
    sovereign=True,
    model_version="fake-model",
    created_at=datetime.now(UTC),
)


def full_request() -> dict[str, object]:
    """A body as the official openai client sends it, with vLLM extras in extra_body."""
    return {
        "model": "albert-large",
        "messages": [
            {"role": "system", "content": "Sois bref."},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Résume"},
                    {"type": "image_url", "image_url": {"url": "data:,"}},
                ],
            },
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {"id": "call_1", "type": "function", "function": {"name": "chercher", "arguments": "{}"}}
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": "résultat"},
        ],
        "max_completion_tokens": 64,
        "temperature": 0.2,
        "top_p": 0.9,
        "seed": 1,
        "stop": "FIN",
        "n": 2,
        "stream": True,
        "stream_options": {"include_usage": True},
        "logprobs": True,
        "top_logprobs": 2,
        "tools": [{"type": "function", "function": {"name": "chercher", "parameters": {"type": "object"}}}],
        "tool_choice": {"type": "function", "function": {"name": "chercher"}},
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "r", "schema": {"type": "object"}},
        },
        "user": "agent-42",
        "top_k": 20,
        "min_p": 0.1,
        "repetition_penalty": 1.05,
        "min_tokens": 3,
        "chat_template_kwargs": {"enable_thinking": False},
    }


def test_request_maps_every_field_to_backend_params() -> None:
    request = ChatCompletionRequest.model_validate(full_request())

    params = request.to_backend_params()

    assert (params.max_tokens, params.temperature, params.top_p, params.seed, params.n) == (
        64,
        0.2,
        0.9,
        1,
        2,
    )
    assert params.stop == ["FIN"]
    assert (params.top_k, params.min_p, params.repetition_penalty) == (20, 0.1, 1.05)
    assert params.logprobs is True and params.top_logprobs == 2
    assert params.tool_choice == {"type": "function", "function": {"name": "chercher"}}
    assert params.tools == [{"type": "function", "function": {"name": "chercher", "parameters": {"type": "object"}}}]
    assert params.response_format == {
        "type": "json_schema",
        "json_schema": {"name": "r", "schema": {"type": "object"}},
    }
    assert params.extra == {"min_tokens": 3, "chat_template_kwargs": {"enable_thinking": False}}
    assert request.include_usage is True


def test_backend_request_keeps_messages_in_openai_shape() -> None:
    request = ChatCompletionRequest.model_validate(full_request())

    backend_request = request.to_backend_request(upstream_model="mistralai/Mistral-Small")

    assert backend_request.model == "mistralai/Mistral-Small"
    assert backend_request.user == "agent-42"
    assert backend_request.messages[1]["content"][1] == {"type": "image_url", "image_url": {"url": "data:,"}}
    assert backend_request.messages[2]["tool_calls"][0]["function"]["name"] == "chercher"
    assert backend_request.messages[3] == {"role": "tool", "tool_call_id": "call_1", "content": "résultat"}


def test_max_tokens_is_the_fallback_of_max_completion_tokens() -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": "x"}], "max_tokens": 10}
    assert ChatCompletionRequest.model_validate(body).to_backend_params().max_tokens == 10


@pytest.mark.parametrize(
    "change",
    [
        {"stream": False},  # stream_options without stream
        {"logprobs": False},  # top_logprobs without logprobs
        {"temperature": 3},
        {"messages": []},
        {"messages": [{"role": "robot", "content": "x"}]},
        {"response_format": {"type": "json_schema"}},
    ],
)
def test_invalid_requests_are_refused(change: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        ChatCompletionRequest.model_validate(full_request() | change)


def test_unknown_fields_are_ignored_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    body = {
        "model": "m",
        "messages": [{"role": "user", "content": "x"}],
        "store": True,
        "modalities": ["text"],
    }

    with caplog.at_level(logging.WARNING):
        ChatCompletionRequest.model_validate(body)

    assert "['modalities', 'store']" in caplog.text


def test_response_carries_label_provenance_and_tool_calls() -> None:
    result = assemble(
        [
            ChatChunk(deltas=(ChoiceDelta(index=0, role="assistant"),)),
            ChatChunk(
                deltas=(
                    ChoiceDelta(index=0, text="Bonjour"),
                    ChoiceDelta(
                        index=1,
                        tool_calls=[
                            {
                                "index": 0,
                                "id": "call_9",
                                "type": "function",
                                "function": {"name": "f", "arguments": '{"a"'},
                            }
                        ],
                    ),
                )
            ),
            ChatChunk(deltas=(ChoiceDelta(index=1, tool_calls=[{"index": 0, "function": {"arguments": ": 1}"}}]),)),
            ChatChunk(
                deltas=(
                    ChoiceDelta(index=0, finish_reason="stop"),
                    ChoiceDelta(index=1, finish_reason="tool_calls"),
                )
            ),
            ChatChunk(usage=Usage(prompt_tokens=5, completion_tokens=3)),
        ]
    )

    response = ChatCompletionResponse.from_result(result, model="albert-large", provenance=PROVENANCE)
    payload = json.loads(response.model_dump_json())

    assert payload["object"] == "chat.completion" and payload["id"].startswith("chatcmpl-")
    assert payload["ai_generated"] is True
    assert payload["provenance"]["sovereign"] is True and payload["provenance"]["human_reviewed"] is False
    assert payload["choices"][0]["message"] == {
        "role": "assistant",
        "content": "Bonjour",
        "refusal": None,
        "tool_calls": None,
    }
    call = payload["choices"][1]["message"]["tool_calls"][0]
    assert call == {"id": "call_9", "type": "function", "function": {"name": "f", "arguments": '{"a": 1}'}}
    assert payload["choices"][1]["message"]["content"] is None
    assert payload["usage"] == {
        "prompt_tokens": 5,
        "completion_tokens": 3,
        "total_tokens": 8,
        "energy_wh": None,
        "gco2e": None,
        "energy_method": None,
        "latency_ms": None,
    }


def test_the_ai_label_cannot_be_turned_off() -> None:
    with pytest.raises(ValidationError):
        ChatCompletionResponse(model="m", choices=[], provenance=PROVENANCE, ai_generated=False)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        ChatCompletionResponse(model="m", choices=[])  # type: ignore[call-arg]


def test_stream_chunks_serialize_like_openai() -> None:
    first = ChatCompletionChunk.from_llm_chunk(
        ChatChunk(deltas=(ChoiceDelta(role="assistant"),)),
        id="c1",
        created=7,
        model="m",
        provenance=PROVENANCE,
    )
    token = ChatCompletionChunk.from_llm_chunk(
        ChatChunk(deltas=(ChoiceDelta(text="Bon"),)), id="c1", created=7, model="m"
    )
    last = ChatCompletionChunk.from_llm_chunk(
        ChatChunk(deltas=(ChoiceDelta(finish_reason="abort"),)),
        id="c1",
        created=7,
        model="m",
        provenance=PROVENANCE,
    )

    assert first.model_dump(exclude_none=True)["choices"] == [
        {"index": 0, "delta": {"role": "assistant", "content": ""}}
    ]
    assert "provenance" in first.model_dump(exclude_none=True)
    as_json = json.loads(token.model_dump_json(exclude_none=True))
    assert as_json == {
        "id": "c1",
        "object": "chat.completion.chunk",
        "created": 7,
        "model": "m",
        "choices": [{"index": 0, "delta": {"content": "Bon"}}],
        "ai_generated": True,
    }
    assert last.choices[0].finish_reason == "stop"  # unknown upstream reasons are shown as "stop"
    assert last.choices[0].delta.model_dump(exclude_none=True) == {}


def test_model_list_exposes_cards_and_sovereignty() -> None:
    backend = OpenAICompatibleBackend.from_options({"base_url": "http://h/v1"})
    registered = RegisteredModel(
        id="albert",
        backend_name="vllm",
        backend=backend,
        upstream_name="a",
        sovereign=True,
        card=ModelCard(name="Albert", licence="Apache-2.0", languages=["fr"]),
        context_length=8192,
    )

    listing = ModelList(data=[Model.from_registered(registered)]).model_dump(mode="json")

    assert listing["object"] == "list"
    (entry,) = listing["data"]
    assert (entry["id"], entry["object"], entry["owned_by"]) == ("albert", "model", "vllm")
    assert entry["sovereign"] is True and entry["status"] == "active" and entry["card"]["licence"] == "Apache-2.0"


def test_embeddings_request_and_base64_encoding() -> None:
    assert EmbeddingRequest(input="a", model="e5").texts == ["a"]
    assert EmbeddingRequest(input=["a", "b"], model="e5").texts == ["a", "b"]
    with pytest.raises(ValueError, match="jetons"):
        _ = EmbeddingRequest(input=[1, 2], model="e5").texts

    encoded = Embedding.from_vector([0.5, -1.0], index=0, encoding_format="base64")
    assert isinstance(encoded.embedding, str)
    assert struct.unpack("<2f", base64.b64decode(encoded.embedding)) == (0.5, -1.0)
    assert Embedding.from_vector([0.5], index=3).embedding == [0.5]


@pytest.mark.parametrize(
    ("error", "status", "kind", "param"),
    [
        (UnknownModelError("x", available=["a"]), 404, "invalid_request_error", "model"),
        (ModelWithdrawnError("x", reason="r"), 410, "invalid_request_error", "model"),
        (UnsupportedParameterError("n", param="n"), 400, "invalid_request_error", "n"),
        (UpstreamUnavailableError("down"), 503, "service_unavailable_error", None),
        (UpstreamTimeoutError("slow"), 504, "timeout_error", None),
        (UpstreamBadResponseError("bad"), 502, "upstream_error", None),
    ],
)
def test_llm_errors_map_to_status_and_envelope(error: Exception, status: int, kind: str, param: str | None) -> None:
    assert isinstance(
        error,
        UnknownModelError
        | ModelWithdrawnError
        | UnsupportedParameterError
        | UpstreamUnavailableError
        | UpstreamTimeoutError
        | UpstreamBadResponseError,
    )
    got_status, envelope = llm_error_response(error)

    assert got_status == status
    body = envelope.model_dump()
    assert set(body["error"]) == {"message", "type", "param", "code"}
    assert (body["error"]["type"], body["error"]["param"], body["error"]["code"]) == (kind, param, error.code)
    assert isinstance(ErrorResponse.model_validate(body), ErrorResponse)
