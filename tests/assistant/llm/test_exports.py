"""The curated public surface of the LLM layer and of the OpenAI protocol package."""

from __future__ import annotations

import assistant.llm
import assistant.llm.errors
import assistant.protocol


def test_llm_package_exports() -> None:
    assert set(assistant.llm.__all__) == {
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
        "UpstreamTimeoutError",
        "UpstreamSaturatedError",
        "UpstreamUnavailableError",
        "Usage",
        "WeightsFile",
        "WeightsIntegrityError",
        "assemble",
    }
    for name in assistant.llm.__all__:
        assert getattr(assistant.llm, name) is not None, name


def test_every_llm_error_is_exported_and_derives_from_the_base() -> None:
    for name in assistant.llm.errors.__all__:
        error = getattr(assistant.llm.errors, name)
        assert issubclass(error, assistant.llm.LLMError)
        assert name in assistant.llm.__all__
        assert error.__doc__ and error.__name__ in assistant.llm.errors.__doc__  # drawn in the tree


def test_openai_protocol_exports() -> None:
    assert set(assistant.protocol.__all__) == {
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
        "Embedding",
        "EmbeddingRequest",
        "EmbeddingResponse",
        "EmbeddingUsage",
        "ErrorDetail",
        "ErrorResponse",
        "GroundingReport",
        "ImagePart",
        "JsonSchemaFormat",
        "Model",
        "ModelList",
        "Manifest",
        "Provenance",
        "SourceRef",
        "ResponseFormat",
        "SourceCitation",
        "StreamOptions",
        "SystemMessage",
        "TextPart",
        "Tool",
        "ToolCall",
        "ToolMessage",
        "TranscriptionParams",
        "TranscriptionResponse",
        "TranscriptionSegment",
        "TranscriptionUsage",
        "TranscriptionVerboseResponse",
        "TranscriptionWord",
        "Usage",
        "UserMessage",
        "llm_error_response",
    }
    for name in assistant.protocol.__all__:
        assert getattr(assistant.protocol, name) is not None, name
