"""Chat completion protocol models, mirroring OpenAI's schema field by field.

Reference: https://platform.openai.com/docs/api-reference/chat/create (fields in that order), then vLLM's
extra sampling parameters, then our own extensions; each block is fenced. ``to_backend_params`` is the only
place where API fields are mapped onto the LLM layer's parameters.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import datetime
from json.encoder import encode_basestring as _json_string  # C-accelerated; keeps non-ASCII text as is
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from assistant.guard import GuardConfirmation, GuardNotice
from assistant.llm import ChatChunk, ChatRequest, ChatResult, SamplingParams
from assistant.llm import Usage as LLMUsage
from assistant.protocol._base import OpenAIBaseModel
from assistant.protocol.provenance import Manifest, Provenance

__all__ = [
    "AssistantMessage",
    "ChatCompletionChoice",
    "ChatCompletionChunk",
    "ChatCompletionChunkChoice",
    "ChatCompletionMessage",
    "ChatCompletionRequest",
    "ChatCompletionResponse",
    "ChatMessage",
    "CitationReport",
    "DeltaMessage",
    "DeveloperMessage",
    "GroundingReport",
    "ImagePart",
    "JsonSchemaFormat",
    "ResponseFormat",
    "SourceCitation",
    "StreamOptions",
    "SystemMessage",
    "TextChunkEncoder",
    "TextPart",
    "Tool",
    "ToolCall",
    "ToolMessage",
    "Usage",
    "UserMessage",
]

FinishReason = Literal["stop", "length", "tool_calls", "content_filter", "function_call"]


# ---- Messages -------------------------------------------------------------------------------------------
# https://platform.openai.com/docs/api-reference/chat/create#chat-create-messages


class TextPart(BaseModel):
    type: Literal["text"] = "text"
    text: str


class ImageUrl(BaseModel):
    url: str
    detail: Literal["auto", "low", "high"] | None = None


class ImagePart(BaseModel):
    type: Literal["image_url"] = "image_url"
    image_url: ImageUrl


ContentPart = Annotated[TextPart | ImagePart, Field(discriminator="type")]


class FunctionCall(BaseModel):
    name: str
    arguments: str = Field(description="JSON-encoded arguments, as the model produced them.")


class ToolCall(BaseModel):
    id: str = Field(default_factory=lambda: f"call_{uuid.uuid4().hex[:24]}")
    type: Literal["function"] = "function"
    function: FunctionCall


class SystemMessage(BaseModel):
    role: Literal["system"] = "system"
    content: str | list[TextPart]
    name: str | None = None


class DeveloperMessage(BaseModel):
    role: Literal["developer"] = "developer"
    content: str | list[TextPart]
    name: str | None = None


class UserMessage(BaseModel):
    role: Literal["user"] = "user"
    content: str | list[ContentPart]
    name: str | None = None


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str | list[TextPart] | None = None
    refusal: str | None = None
    name: str | None = None
    tool_calls: list[ToolCall] | None = None


class ToolMessage(BaseModel):
    role: Literal["tool"] = "tool"
    content: str | list[TextPart]
    tool_call_id: str


ChatMessage = Annotated[
    SystemMessage | DeveloperMessage | UserMessage | AssistantMessage | ToolMessage,
    Field(discriminator="role"),
]


# ---- Request parameters -----------------------------------------------------------------------------------


class FunctionDefinition(BaseModel):
    name: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


class Tool(BaseModel):
    type: Literal["function"] = "function"
    function: FunctionDefinition


class NamedFunction(BaseModel):
    name: str


class NamedToolChoice(BaseModel):
    type: Literal["function"] = "function"
    function: NamedFunction


class JsonSchemaFormat(BaseModel):
    name: str
    description: str | None = None
    # "schema" shadows a BaseModel attribute, hence the alias.
    json_schema: dict[str, Any] | None = Field(default=None, alias="schema")
    strict: bool | None = None


class ResponseFormat(BaseModel):
    type: Literal["text", "json_object", "json_schema"]
    json_schema: JsonSchemaFormat | None = None


class StreamOptions(BaseModel):
    include_usage: bool = False


class ChatCompletionRequest(OpenAIBaseModel):
    """Body of ``POST /v1/chat/completions``."""

    # -- OpenAI fields, in the documentation's order
    messages: list[ChatMessage] = Field(min_length=1)
    model: str
    frequency_penalty: float | None = Field(default=None, ge=-2, le=2)
    logit_bias: dict[str, float] | None = None
    logprobs: bool | None = None
    max_completion_tokens: int | None = Field(default=None, ge=1)
    max_tokens: int | None = Field(default=None, ge=1, description="Deprecated by OpenAI for max_completion_tokens.")
    n: int = Field(default=1, ge=1, le=16)
    parallel_tool_calls: bool | None = None
    presence_penalty: float | None = Field(default=None, ge=-2, le=2)
    response_format: ResponseFormat | None = None
    seed: int | None = None
    stop: str | list[str] | None = None
    stream: bool = False
    stream_options: StreamOptions | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)
    tool_choice: Literal["none", "auto", "required"] | NamedToolChoice | None = None
    tools: list[Tool] | None = None
    top_logprobs: int | None = Field(default=None, ge=0, le=20)
    top_p: float | None = Field(default=None, gt=0, le=1)
    user: str | None = None

    # -- vLLM extra sampling parameters (https://docs.vllm.ai/en/latest/serving/openai_compatible_server.html)
    top_k: int | None = Field(default=None, description="vLLM: keep the k most likely tokens (-1: all).")
    min_p: float | None = Field(default=None, ge=0, le=1, description="vLLM: minimum probability vs. the top.")
    repetition_penalty: float | None = Field(default=None, gt=0, description="vLLM: >1 discourages repeats.")
    min_tokens: int | None = Field(default=None, ge=0, description="vLLM: generate at least this many tokens.")
    ignore_eos: bool | None = Field(default=None, description="vLLM: keep generating after end-of-sequence.")
    stop_token_ids: list[int] | None = Field(default=None, description="vLLM: token ids that stop generation.")
    include_stop_str_in_output: bool | None = Field(default=None, description="vLLM: keep the stop string.")
    skip_special_tokens: bool | None = Field(default=None, description="vLLM: drop special tokens in output.")
    chat_template_kwargs: dict[str, Any] | None = Field(
        default=None, description="vLLM: extra variables for the chat template (e.g. enable_thinking)."
    )

    # -- Souverain extensions (design §6)
    sensitivity: Literal["public", "internal", "sensitive"] | None = Field(
        default=None,
        description="Data sensitivity declared by the user; 'internal' or 'sensitive' never reach a "
        "non-sovereign model (the detector can raise it, never lower it).",
    )
    collections: list[str] | None = Field(
        default=None,
        max_length=20,
        description="Ids of document collections to answer from (RAG): passages retrieved there, among those the "
        "caller may read, are given to the model as data and cited in `sources`.",
    )
    guard_confirmation: GuardConfirmation | None = Field(
        default=None,
        description="Answer to a forbidden-use rule asking for confirmation: its id and the user's reason.",
    )

    @model_validator(mode="after")
    def _check_consistency(self) -> ChatCompletionRequest:
        if self.stream_options is not None and not self.stream:
            raise ValueError("stream_options n'est permis qu'avec stream=true")
        if self.top_logprobs is not None and not self.logprobs:
            raise ValueError("top_logprobs exige logprobs=true")
        if self.response_format and self.response_format.type == "json_schema" and not self.response_format.json_schema:
            raise ValueError("response_format de type json_schema exige le champ json_schema")
        return self

    @property
    def include_usage(self) -> bool:
        """Whether a stream must end with a usage chunk (``stream_options.include_usage``)."""
        return bool(self.stream and self.stream_options and self.stream_options.include_usage)

    def to_backend_params(self) -> SamplingParams:
        """The one mapping from API fields to backend parameters."""
        stop = [self.stop] if isinstance(self.stop, str) else self.stop
        tool_choice: str | dict[str, Any] | None = (
            self.tool_choice.model_dump() if isinstance(self.tool_choice, NamedToolChoice) else self.tool_choice
        )
        vllm_extras = {
            "min_tokens": self.min_tokens,
            "ignore_eos": self.ignore_eos,
            "stop_token_ids": self.stop_token_ids,
            "include_stop_str_in_output": self.include_stop_str_in_output,
            "skip_special_tokens": self.skip_special_tokens,
            "chat_template_kwargs": self.chat_template_kwargs,
        }
        return SamplingParams(
            max_tokens=self.max_completion_tokens or self.max_tokens,
            temperature=self.temperature,
            top_p=self.top_p,
            top_k=self.top_k,
            min_p=self.min_p,
            repetition_penalty=self.repetition_penalty,
            presence_penalty=self.presence_penalty,
            frequency_penalty=self.frequency_penalty,
            seed=self.seed,
            stop=stop or None,
            n=self.n,
            logprobs=self.logprobs,
            top_logprobs=self.top_logprobs,
            logit_bias=self.logit_bias,
            response_format=self.response_format.model_dump(by_alias=True, exclude_none=True)
            if self.response_format
            else None,
            tools=[tool.model_dump(exclude_none=True) for tool in self.tools] if self.tools else None,
            tool_choice=tool_choice,
            parallel_tool_calls=self.parallel_tool_calls,
            extra={name: value for name, value in vllm_extras.items() if value is not None},
        )

    def to_backend_request(self, *, upstream_model: str) -> ChatRequest:
        """The backend request, once the registry has resolved the public id to the upstream name."""
        messages = [message.model_dump(exclude_none=True) for message in self.messages]
        return ChatRequest(model=upstream_model, messages=messages, params=self.to_backend_params(), user=self.user)


# ---- Responses ------------------------------------------------------------------------------------------
# https://platform.openai.com/docs/api-reference/chat/object


class SourceCitation(BaseModel):
    """Souverain extension: a passage given to the model, which its answer cites as ``[marker]``."""

    marker: int = Field(description="Citation marker: the answer refers to this passage as [marker].")
    document_id: str
    collection_id: str
    title: str
    page: int | None = None
    section: str | None = None
    excerpt: str = Field(description="Start of the passage (at most 300 characters).")
    score: float = Field(description="Retrieval score (fused rank score; higher is better).")
    synced_at: datetime | None = Field(
        default=None,
        description="Document kept in sync with a shared drive: when the drive last confirmed it (freshness).",
    )


class CitationReport(BaseModel):
    """Souverain extension: the answer's ``[n]`` markers checked against the passages they name."""

    cited: list[int] = Field(default_factory=list, description="Markers in order of first use.")
    unknown: list[int] = Field(
        default_factory=list, description="Markers naming no passage that was given to the model (a defect)."
    )
    unsupported: list[int] = Field(
        default_factory=list, description="Passages cited by a sentence that shares too little with them."
    )
    added: list[int] = Field(
        default_factory=list,
        description="Markers the service added to sentences that cited nothing, naming the passage supporting them.",
    )


class GroundingReport(BaseModel):
    """Souverain extension: what an answer over collections was built from, and whether it was declined."""

    declined: bool = Field(description="True when the answer says the documents do not answer the question.")
    reason: str | None = Field(default=None, description="Why it was declined, for people.")
    collections: list[str] = Field(default_factory=list, description="Names of the collections searched.")
    documents: list[str] = Field(default_factory=list, description="Titles of the documents consulted.")
    passages_used: int = 0
    passages_omitted: int = Field(
        default=0, description="Lowest-ranked passages left out so that the prompt fits the model's context window."
    )
    unsupported_figures: list[str] = Field(
        default_factory=list, description="Numbers of the generated answer found in no passage."
    )
    citations: CitationReport | None = None


class Usage(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0

    # -- Souverain extensions (design §9): frugality, measured per request
    energy_wh: float | None = Field(default=None, description="Estimated energy of the request (Wh).")
    gco2e: float | None = Field(default=None, description="Estimated emissions (g CO2e) at the configured grid mix.")
    energy_method: str | None = Field(default=None, description="'ecologits' or 'power_time' (see docs).")
    latency_ms: float | None = Field(default=None, description="Time spent generating, in milliseconds.")

    @classmethod
    def from_llm(cls, usage: LLMUsage) -> Usage:
        return cls(
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            total_tokens=usage.total_tokens,
        )


class ChoiceLogprobs(BaseModel):
    model_config = ConfigDict(extra="allow")
    content: list[dict[str, Any]] | None = None


class ChatCompletionMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str | None = None
    refusal: str | None = None
    tool_calls: list[ToolCall] | None = None


class ChatCompletionChoice(BaseModel):
    index: int
    message: ChatCompletionMessage
    logprobs: ChoiceLogprobs | None = None
    finish_reason: FinishReason | None = None
    # vLLM's extension: why a "stop" happened; "repetition" when the embedded model was stopped looping.
    stop_reason: str | None = None


def _completion_id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex}"


def _now() -> int:
    return int(time.time())


class ChatCompletionResponse(OpenAIBaseModel):
    """Body of a non-streamed chat completion."""

    id: str = Field(default_factory=_completion_id)
    object: Literal["chat.completion"] = "chat.completion"
    created: int = Field(default_factory=_now)
    model: str
    choices: list[ChatCompletionChoice]
    usage: Usage | None = None
    system_fingerprint: str | None = None

    # -- Souverain extensions (design §4): mandatory AI label, cannot be switched off
    ai_generated: Literal[True] = Field(default=True, description="Always true: this content was generated by AI.")
    provenance: Provenance = Field(description="Model, backend, sovereignty, sources and signature of the answer.")
    provenance_manifests: list[Manifest] | None = Field(
        default=None, description="One Ed25519-signed manifest per choice, to verify the text later."
    )
    sources: list[SourceCitation] | None = Field(
        default=None, description="Passages retrieved from the requested collections, cited as [marker]."
    )
    grounding: GroundingReport | None = Field(
        default=None, description="With collections: what was searched and consulted, and the answer's checks."
    )
    guard: list[GuardNotice] | None = Field(
        default=None, description="Reminders of the usage charter that the request triggered (forbidden-use guard)."
    )
    fallback_from: str | None = Field(
        default=None,
        description="The model asked for, when it was saturated or down and `model` (a fallback at least as "
        "sovereign) answered instead.",
    )

    @classmethod
    def from_result(cls, result: ChatResult, *, model: str, provenance: Provenance) -> ChatCompletionResponse:
        """Shape a backend result: ``model`` is the public id, ``provenance`` comes from labelling."""
        choices = [
            ChatCompletionChoice(
                index=choice.index,
                message=ChatCompletionMessage(
                    content=choice.text if choice.text or not choice.tool_calls else None,
                    tool_calls=[ToolCall.model_validate(call) for call in choice.tool_calls] or None,
                ),
                logprobs=ChoiceLogprobs(content=choice.logprobs) if choice.logprobs else None,
                finish_reason=_finish_reason(choice.finish_reason),
                stop_reason=choice.stop_reason,
            )
            for choice in result.choices
        ]
        usage = Usage.from_llm(result.usage) if result.usage is not None else None
        return cls(model=model, choices=choices, usage=usage, provenance=provenance)


class DeltaFunctionCall(BaseModel):
    name: str | None = None
    arguments: str | None = None


class DeltaToolCall(BaseModel):
    index: int
    id: str | None = None
    type: Literal["function"] | None = None
    function: DeltaFunctionCall | None = None


class DeltaMessage(BaseModel):
    role: Literal["assistant"] | None = None
    content: str | None = None
    tool_calls: list[DeltaToolCall] | None = None


class ChatCompletionChunkChoice(BaseModel):
    index: int
    delta: DeltaMessage
    logprobs: ChoiceLogprobs | None = None
    finish_reason: FinishReason | None = None
    stop_reason: str | None = None


class ChatCompletionChunk(OpenAIBaseModel):
    """One server-sent event of a streamed chat completion (serialize with ``exclude_none=True``)."""

    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int
    model: str
    choices: list[ChatCompletionChunkChoice]
    usage: Usage | None = None
    system_fingerprint: str | None = None

    # -- Souverain extensions (design §4)
    ai_generated: Literal[True] = Field(default=True, description="Always true: this content was generated by AI.")
    provenance: Provenance | None = Field(
        default=None, description="Present on the first and the last event of a stream."
    )
    provenance_manifests: list[Manifest] | None = Field(
        default=None, description="On the last event: one signed manifest per choice of the whole stream."
    )
    sources: list[SourceCitation] | None = Field(
        default=None, description="On the last event: passages retrieved from the requested collections."
    )
    grounding: GroundingReport | None = Field(
        default=None, description="On the last event, with collections: what was searched and the answer's checks."
    )
    guard: list[GuardNotice] | None = Field(
        default=None, description="On the first event: charter reminders the request triggered."
    )
    fallback_from: str | None = Field(
        default=None, description="On the first and the last event: the model asked for, when a fallback answered."
    )

    @classmethod
    def from_llm_chunk(
        cls, chunk: ChatChunk, *, id: str, created: int, model: str, provenance: Provenance | None = None
    ) -> ChatCompletionChunk:
        """Shape one backend chunk; the stream keeps ``id``/``created`` constant across its chunks."""
        choices = [
            ChatCompletionChunkChoice(
                index=delta.index,
                delta=DeltaMessage(
                    role="assistant" if delta.role == "assistant" else None,
                    content=delta.text or (None if delta.tool_calls or delta.finish_reason else ""),
                    tool_calls=[DeltaToolCall.model_validate(c) for c in delta.tool_calls]
                    if delta.tool_calls
                    else None,
                ),
                logprobs=ChoiceLogprobs.model_validate(delta.logprobs) if delta.logprobs else None,
                finish_reason=_finish_reason(delta.finish_reason),
                stop_reason=delta.stop_reason,
            )
            for delta in chunk.deltas
        ]
        usage = Usage.from_llm(chunk.usage) if chunk.usage is not None else None
        return cls(id=id, created=created, model=model, choices=choices, usage=usage, provenance=provenance)


class TextChunkEncoder:
    """The JSON of a stream's middle events, written directly: most of a stream is one text delta per event.

    The document is the one ``ChatCompletionChunk.from_llm_chunk(...).model_dump_json(exclude_none=True)`` gives
    (same keys, same order), without building and validating four models per token. Chunks carrying anything else
    (tool calls, log-probabilities) return ``None``: build the model for those. ``usage`` is never written here,
    since the stream reports it once, on its last event.

    >>> TextChunkEncoder(id="chatcmpl-1", created=0, model="m").encode(ChatChunk(deltas=(ChoiceDelta(text="Bon"),)))
    '{"id":"chatcmpl-1",…,"choices":[{"index":0,"delta":{"content":"Bon"}}],"ai_generated":true}'
    """

    def __init__(self, *, id: str, created: int, model: str) -> None:
        head = {"id": id, "object": "chat.completion.chunk", "created": created, "model": model}
        self._head = _compact(head)[:-1] + ',"choices":['

    def encode(self, chunk: ChatChunk) -> str | None:
        """The event's JSON, or ``None`` when the chunk holds more than text, role and finish reason."""
        choices = []
        for delta in chunk.deltas:
            if delta.tool_calls or delta.logprobs or delta.stop_reason:
                return None
            fields = ['"role":"assistant"'] if delta.role == "assistant" else []
            if delta.text or not delta.finish_reason:
                fields.append('"content":' + _json_string(delta.text))
            choice = '{"index":' + str(int(delta.index)) + ',"delta":{' + ",".join(fields) + "}"
            finish = _finish_reason(delta.finish_reason)
            if finish is not None:
                choice += ',"finish_reason":' + _json_string(finish)
            choices.append(choice + "}")
        return self._head + ",".join(choices) + '],"ai_generated":true}'


def _compact(value: dict[str, Any]) -> str:
    # The separators and the raw non-ASCII text of pydantic's JSON output.
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _finish_reason(value: str | None) -> FinishReason | None:
    # Upstreams may report reasons OpenAI does not have (vLLM "abort", our "error"): clients know "stop".
    if value in (None, "stop", "length", "tool_calls", "content_filter", "function_call"):
        return value  # type: ignore[return-value]
    return "stop"
