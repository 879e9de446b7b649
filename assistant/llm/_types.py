"""Typed values that travel inside the LLM layer: request, sampling parameters, stream chunks, results.

They are deliberately independent of the HTTP protocol models (``assistant.protocol``): the API maps onto
them in one place (``ChatCompletionRequest.to_backend_params``), and backends never see API types.
Messages stay plain JSON-ready dicts in the OpenAI shape because both backends consume exactly that shape.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ChatChunk",
    "ChatRequest",
    "ChatResult",
    "ChoiceDelta",
    "ChoiceResult",
    "FinishReason",
    "Message",
    "SamplingParams",
    "Usage",
    "assemble",
]

FinishReason = Literal["stop", "length", "tool_calls", "content_filter", "error"]
Message = dict[str, Any]


class SamplingParams(BaseModel):
    """Generation parameters, named as vLLM's OpenAI server names them, passed through unchanged.

    ``None`` means "server default" and is never sent. ``extra`` carries engine-specific fields verbatim
    (e.g. vLLM's ``min_tokens`` or ``structured_outputs``) so a new upstream option needs no code change here.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0)
    top_p: float | None = Field(default=None, gt=0, le=1)
    top_k: int | None = None
    min_p: float | None = Field(default=None, ge=0, le=1)
    repetition_penalty: float | None = Field(default=None, gt=0)
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    seed: int | None = None
    stop: list[str] | None = None
    n: int = Field(default=1, ge=1)
    logprobs: bool | None = None
    top_logprobs: int | None = Field(default=None, ge=0)
    logit_bias: dict[str, float] | None = None
    response_format: dict[str, Any] | None = None
    tools: list[dict[str, Any]] | None = None
    tool_choice: str | dict[str, Any] | None = None
    parallel_tool_calls: bool | None = None
    extra: dict[str, Any] = Field(default_factory=dict)

    def to_wire(self) -> dict[str, Any]:
        """JSON body fields for an OpenAI-compatible server: set fields only, extras merged last."""
        body = self.model_dump(exclude_none=True, exclude={"extra"})
        if body.get("n") == 1:
            del body["n"]
        body.update(self.extra)
        return body


class ChatRequest(BaseModel):
    """One chat completion as a backend receives it: the upstream model name is already resolved."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str
    messages: list[Message] = Field(min_length=1)
    params: SamplingParams = Field(default_factory=SamplingParams)
    user: str | None = None
    # Who goes first when a model is saturated (higher first): never sent upstream.
    priority: int = 0


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts of one completion, as the OpenAI ``usage`` object reports them."""

    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True, slots=True)
class ChoiceDelta:
    """The increment of one choice in one stream chunk. ``tool_calls`` keeps the OpenAI delta shape."""

    index: int = 0
    text: str = ""
    role: str | None = None
    tool_calls: list[dict[str, Any]] | None = None
    finish_reason: str | None = None
    logprobs: dict[str, Any] | None = None
    # Why a "stop" happened when it was not the model's own end (vLLM's field): e.g. "repetition".
    stop_reason: str | None = None


@dataclass(frozen=True, slots=True)
class ChatChunk:
    """One unit of a stream: deltas for some choices, and/or the final usage (then usually no delta)."""

    deltas: tuple[ChoiceDelta, ...] = ()
    usage: Usage | None = None


@dataclass(slots=True)
class ChoiceResult:
    """One finished (or, inside an error, interrupted) choice."""

    index: int
    text: str = ""
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    finish_reason: str | None = None
    logprobs: list[dict[str, Any]] = field(default_factory=list)
    stop_reason: str | None = None


@dataclass(slots=True)
class ChatResult:
    """A whole completion assembled from chunks."""

    choices: list[ChoiceResult]
    usage: Usage | None = None


def assemble(chunks: Iterable[ChatChunk]) -> ChatResult:
    """Fold stream chunks into a result: texts concatenated, tool-call fragments merged by their index.

    Used both for non-stream answers and to keep what was produced when a stream fails half-way.
    """
    builder = _Assembler()
    for chunk in chunks:
        builder.add(chunk)
    return builder.result()


class _Assembler:
    """Incremental form of :func:`assemble`, so a stream can be folded as it goes."""

    def __init__(self) -> None:
        self._texts: dict[int, list[str]] = {}
        self._choices: dict[int, ChoiceResult] = {}
        self._usage: Usage | None = None

    def add(self, chunk: ChatChunk) -> None:
        if chunk.usage is not None:
            self._usage = chunk.usage
        for delta in chunk.deltas:
            choice = self._choices.get(delta.index)
            if choice is None:
                choice = self._choices[delta.index] = ChoiceResult(index=delta.index)
                self._texts[delta.index] = []
            if delta.text:
                self._texts[delta.index].append(delta.text)
            if delta.tool_calls:
                _merge_tool_calls(choice.tool_calls, delta.tool_calls)
            if delta.logprobs and delta.logprobs.get("content"):
                choice.logprobs.extend(delta.logprobs["content"])
            if delta.finish_reason is not None:
                choice.finish_reason = delta.finish_reason
            if delta.stop_reason is not None:
                choice.stop_reason = delta.stop_reason

    def result(self) -> ChatResult:
        choices = []
        for index in sorted(self._choices):
            choice = self._choices[index]
            choice.text = "".join(self._texts[index])
            choices.append(choice)
        return ChatResult(choices=choices, usage=self._usage)


def _merge_tool_calls(calls: list[dict[str, Any]], fragments: list[dict[str, Any]]) -> None:
    # OpenAI streams a tool call as a first fragment (id, name) then argument pieces sharing its ``index``.
    for fragment in fragments:
        position = fragment.get("index", len(calls))
        while len(calls) <= position:
            calls.append({"id": None, "type": "function", "function": {"name": "", "arguments": ""}})
        call = calls[position]
        if fragment.get("id"):
            call["id"] = fragment["id"]
        if fragment.get("type"):
            call["type"] = fragment["type"]
        function = fragment.get("function") or {}
        if function.get("name"):
            call["function"]["name"] += function["name"]
        if function.get("arguments"):
            call["function"]["arguments"] += function["arguments"]
