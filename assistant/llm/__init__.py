"""LLM layer: backends (OpenAI-compatible HTTP, embedded llama.cpp), their registry and errors.

No FastAPI here: the layer is configured with plain pydantic models (:class:`BackendConfig`) and raises
:mod:`assistant.llm.errors`, which the web layer maps to HTTP answers.
"""

from assistant.llm._base import BackendHealth, ChatBackend, WeightsFile
from assistant.llm._config import BackendConfig, ModelCard, ModelConfig, ModelStatus
from assistant.llm._types import (
    ChatChunk,
    ChatRequest,
    ChatResult,
    ChoiceDelta,
    ChoiceResult,
    FinishReason,
    Message,
    SamplingParams,
    Usage,
    assemble,
)
from assistant.llm.errors import (
    BackendConfigError,
    LLMError,
    ModelWithdrawnError,
    UnknownModelError,
    UnsupportedParameterError,
    UpstreamBadResponseError,
    UpstreamError,
    UpstreamRejectedError,
    UpstreamSaturatedError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
    WeightsIntegrityError,
)
from assistant.llm.registry import (
    BackendKinds,
    IntegrityCheck,
    IntegrityReport,
    ModelRegistry,
    RegisterBackend,
    RegisteredModel,
)

__all__ = [
    "BackendConfig",
    "BackendConfigError",
    "BackendHealth",
    "BackendKinds",
    "ChatBackend",
    "ChatChunk",
    "ChatRequest",
    "ChatResult",
    "ChoiceDelta",
    "ChoiceResult",
    "FinishReason",
    "IntegrityCheck",
    "IntegrityReport",
    "LLMError",
    "Message",
    "ModelCard",
    "ModelConfig",
    "ModelRegistry",
    "ModelStatus",
    "ModelWithdrawnError",
    "RegisterBackend",
    "RegisteredModel",
    "SamplingParams",
    "UnknownModelError",
    "UnsupportedParameterError",
    "UpstreamBadResponseError",
    "UpstreamError",
    "UpstreamRejectedError",
    "UpstreamSaturatedError",
    "UpstreamTimeoutError",
    "UpstreamUnavailableError",
    "Usage",
    "WeightsFile",
    "WeightsIntegrityError",
    "assemble",
]
