"""Errors of the LLM layer.

Backends translate every third-party failure (httpx, llama.cpp, purgatory) into one of these at the seam, with
``raise … from exc``, so callers only ever catch this tree. Nothing here knows about HTTP: the web layer maps
each class to a status (noted after the arrow) and the OpenAI error envelope. Messages are French and say what
to do.

    LLMError                          base; ``code`` is stable, ``message`` is for people
    ├── UnknownModelError             no model with that public id              (-> 404)
    ├── ModelWithdrawnError           the référent IA withdrew the model        (-> 410)
    ├── UnsupportedParameterError     the backend cannot honour a parameter     (-> 400)
    ├── UpstreamRejectedError         the model server refused the request as invalid (-> 400)
    ├── BackendConfigError            a backend's configuration is invalid      (start-up)
    ├── WeightsIntegrityError         local weights missing or altered          (start-up, /readyz)
    └── UpstreamError                 the model server failed; carries ``partial`` output
        ├── UpstreamUnavailableError  down, refusing, overloaded or circuit open (-> 503)
        │   └── UpstreamSaturatedError  every replica busy, waiting line full    (-> 503 + Retry-After)
        ├── UpstreamTimeoutError      no first token, or no end, in time        (-> 504)
        └── UpstreamBadResponseError  malformed, truncated or unexpected answer (-> 502)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from assistant.errors import SouverainError

if TYPE_CHECKING:
    from assistant.llm._types import ChatResult

__all__ = [
    "BackendConfigError",
    "LLMError",
    "ModelWithdrawnError",
    "UnknownModelError",
    "UnsupportedParameterError",
    "UpstreamBadResponseError",
    "UpstreamError",
    "UpstreamRejectedError",
    "UpstreamSaturatedError",
    "UpstreamTimeoutError",
    "UpstreamUnavailableError",
    "WeightsIntegrityError",
]


class LLMError(SouverainError):
    """Base of every error raised on purpose by the LLM layer (``code`` stable, ``message`` French)."""

    code = "llm_error"


class UnknownModelError(LLMError):
    """Raised when a request names a model id that the registry does not know; the message lists valid ids."""

    code = "model_not_found"

    def __init__(self, model_id: str, *, available: list[str]) -> None:
        listed = ", ".join(sorted(available)) or "aucun"
        super().__init__(
            f"Modèle inconnu : « {model_id} ». Modèles disponibles : {listed}. "
            "Consultez GET /v1/models pour la liste à jour."
        )
        self.model_id = model_id
        self.available = available


class ModelWithdrawnError(LLMError):
    """Raised when a request names a model that the référent IA has withdrawn; carries the référent's note."""

    code = "model_withdrawn"

    def __init__(self, model_id: str, *, reason: str | None = None) -> None:
        note = f" Motif : {reason}" if reason else ""
        super().__init__(
            f"Le modèle « {model_id} » a été retiré du service par le référent IA.{note} "
            "Choisissez un autre modèle dans GET /v1/models."
        )
        self.model_id = model_id
        self.reason = reason


class UnsupportedParameterError(LLMError):
    """Raised when a request uses a parameter that the chosen backend cannot honour (e.g. ``n > 1``)."""

    code = "unsupported_parameter"

    def __init__(self, message: str, *, param: str) -> None:
        super().__init__(message)
        self.param = param


class UpstreamRejectedError(LLMError):
    """Raised when the model server answers 4xx to a well-formed request (e.g. prompt beyond the context).

    The caller can fix it; ``upstream_message`` is the server's own explanation.
    """

    code = "upstream_rejected"

    def __init__(self, message: str, *, status_code: int, upstream_message: str = "") -> None:
        super().__init__(message)
        self.status_code = status_code
        self.upstream_message = upstream_message


class BackendConfigError(LLMError):
    """Raised at start-up when a backend or model entry of ``SOUVERAIN_LLM_BACKENDS`` is invalid."""

    code = "backend_config_error"


class WeightsIntegrityError(LLMError):
    """Raised when local weights are missing or their sha256 differs from the pinned one."""

    code = "weights_integrity_error"


class UpstreamError(LLMError):
    """Base of model-server failures. ``partial`` holds what was generated before the failure, if anything.

    Keeping the partial answer lets the service show or store what the user already saw in a stream.
    """

    code = "upstream_error"

    def __init__(self, message: str, *, partial: ChatResult | None = None) -> None:
        super().__init__(message)
        self.partial = partial

    @property
    def partial_text(self) -> str:
        """Text of the first choice produced before the failure ('' when nothing came)."""
        if self.partial is None or not self.partial.choices:
            return ""
        return self.partial.choices[0].text


class UpstreamUnavailableError(UpstreamError):
    """Raised when the model server is unreachable, overloaded (429/503) or its circuit breaker is open."""

    code = "upstream_unavailable"


class UpstreamSaturatedError(UpstreamUnavailableError):
    """Raised when every replica of a model is at its concurrency limit and its waiting line is full or too slow;
    ``retry_after`` (seconds) goes out as ``Retry-After``."""

    code = "model_saturated"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class UpstreamTimeoutError(UpstreamError):
    """Raised when the first token, or the whole answer, does not arrive within the configured time."""

    code = "upstream_timeout"


class UpstreamBadResponseError(UpstreamError):
    """Raised when the model server answers garbage, a 5xx, or cuts a stream before its end."""

    code = "upstream_bad_response"
