"""The OpenAI error envelope, ``{"error": {"message", "type", "param", "code"}}``, and how LLM errors fill it.

Reference: https://platform.openai.com/docs/guides/error-codes. The app's exception handler uses
:func:`llm_error_response` for :class:`assistant.llm.LLMError`; no other code knows these status codes.
"""

from __future__ import annotations

from pydantic import BaseModel

from assistant.llm import (
    BackendConfigError,
    LLMError,
    ModelWithdrawnError,
    UnknownModelError,
    UnsupportedParameterError,
    UpstreamBadResponseError,
    UpstreamRejectedError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
    WeightsIntegrityError,
)

__all__ = ["ErrorDetail", "ErrorResponse", "llm_error_response"]


class ErrorDetail(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class ErrorResponse(BaseModel):
    error: ErrorDetail

    @classmethod
    def of(cls, message: str, *, type: str, code: str | None = None, param: str | None = None) -> ErrorResponse:
        return cls(error=ErrorDetail(message=message, type=type, param=param, code=code))


# Most specific first: the first isinstance match wins.
_LLM_ERRORS: tuple[tuple[type[LLMError], int, str], ...] = (
    (UnknownModelError, 404, "invalid_request_error"),
    (ModelWithdrawnError, 410, "invalid_request_error"),
    (UnsupportedParameterError, 400, "invalid_request_error"),
    (UpstreamRejectedError, 400, "invalid_request_error"),
    (UpstreamUnavailableError, 503, "service_unavailable_error"),
    (UpstreamTimeoutError, 504, "timeout_error"),
    (UpstreamBadResponseError, 502, "upstream_error"),
    (WeightsIntegrityError, 503, "service_unavailable_error"),
    (BackendConfigError, 500, "server_error"),
)


def llm_error_response(exc: LLMError) -> tuple[int, ErrorResponse]:
    """HTTP status and envelope for an LLM-layer error."""
    param = "model" if isinstance(exc, UnknownModelError | ModelWithdrawnError) else None
    if isinstance(exc, UnsupportedParameterError):
        param = exc.param
    for error_class, status, kind in _LLM_ERRORS:
        if isinstance(exc, error_class):
            return status, ErrorResponse.of(exc.message, type=kind, code=exc.code, param=param)
    return 500, ErrorResponse.of(exc.message, type="server_error", code=exc.code)
