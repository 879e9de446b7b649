"""The backend interface: one abstract method, capability flags, typed options.

Every model server the assistant talks to (vLLM over HTTP, the embedded llama.cpp model, a future one) is a
:class:`ChatBackend` subclass registered under a ``kind`` (see :mod:`assistant.llm.registry`).
"""

from __future__ import annotations

import logging
import math
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from assistant.llm._config import ModelCard
from assistant.llm._types import ChatChunk, ChatRequest, ChatResult, Message, _Assembler
from assistant.llm.errors import BackendConfigError, UpstreamError

__all__ = ["BackendHealth", "ChatBackend", "WeightsFile"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class BackendHealth:
    """Result of a health probe; ``detail`` is a short French sentence for /readyz and the admin UI."""

    status: Literal["ok", "degraded", "down"]
    detail: str = ""
    latency_ms: float | None = None


@dataclass(frozen=True, slots=True)
class WeightsFile:
    """A local weights file and the sha256 it must have; checked by the registry at start-up."""

    path: Path
    sha256: str


class ChatBackend(ABC):
    """A chat model server. Subclasses implement :meth:`stream` only; the rest has working defaults.

    Usage::

        backend = OpenAICompatibleBackend.from_options({"base_url": "http://vllm:8000/v1"})
        request = ChatRequest(model="mistral-small", messages=[{"role": "user", "content": "Bonjour"}])
        async for chunk in backend.stream(request):
            ...
        result = await backend.complete(request)  # the same, assembled

    Class attributes say what the backend can do, so the service can refuse early with a clear message.
    """

    kind: ClassVar[str]
    can_stream: ClassVar[bool] = True
    supports_tools: ClassVar[bool] = False

    class Options(BaseModel):
        """Backend settings, validated from the ``options`` object of a ``BackendConfig``."""

        model_config = ConfigDict(extra="forbid")

    def __init__(self, options: ChatBackend.Options) -> None:
        self.options = options

    @classmethod
    def from_options(cls, raw: dict[str, Any]) -> ChatBackend:
        """Build the backend from untrusted configuration, translating validation errors."""
        try:
            options = cls.Options.model_validate(raw)
        except ValidationError as exc:
            raise BackendConfigError(
                f"Options invalides pour un backend « {cls.kind} » : {exc.errors(include_url=False)}"
            ) from exc
        return cls(options)

    @abstractmethod
    def stream(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
        """Generate the completion as chunks, the last one carrying ``usage`` when the server reports it.

        Implementations are async generators. On failure they raise an :class:`UpstreamError` subclass; the
        consumer knows what it received so far. Closing the generator early must stop generation.
        """

    async def complete(self, request: ChatRequest) -> ChatResult:
        """Whole completion; on failure the raised error carries what was generated (``partial``)."""
        assembler = _Assembler()
        try:
            async for chunk in self.stream(request):
                assembler.add(chunk)
        except UpstreamError as exc:
            if exc.partial is None:
                exc.partial = assembler.result()
            raise
        return assembler.result()

    async def count_tokens(self, messages: list[Message], *, model: str) -> int:
        """Estimated prompt tokens. Default: ~4 characters per token plus a small per-message overhead.

        Backends with a real tokenizer override it; the estimate is only good for quotas and warnings.
        """
        characters = sum(len(_content_text(message)) for message in messages)
        return math.ceil(characters / 4) + 4 * len(messages)

    async def health(self) -> BackendHealth:
        """Probe the backend; default says it is fine (nothing to check)."""
        return BackendHealth(status="ok")

    def model_card(self, upstream_name: str) -> ModelCard | None:
        """Card the backend knows for a model it serves (local weights); config cards take precedence."""
        return None

    def weights(self) -> list[WeightsFile]:
        """Local weights files with their pinned sha256; remote backends have none."""
        return []

    async def start(self) -> None:  # noqa: B027 - optional hook, most backends run nothing themselves
        """Start what the backend runs itself (a local model process); called once when the service starts."""

    async def aclose(self) -> None:  # noqa: B027 - optional hook, most backends hold nothing
        """Release connections, threads or model memory."""


def _content_text(message: Message) -> str:
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(part.get("text", "") for part in content if isinstance(part, dict))
    return ""
