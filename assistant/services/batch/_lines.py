"""Running one batch line through the gateway's one chat path, as the batch's owner, at the lowest priority.

The output line carries the chat completion exactly as ``/v1/chat/completions`` returns it: the AI label, the
provenance and one signed manifest per choice. A refusal (quota, guard, sovereignty, model) becomes the line's
error response with the HTTP status the API would have answered.
"""

from __future__ import annotations

import uuid
from typing import Any

from assistant.audit import ClientInfo
from assistant.errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    RateLimitedError,
    ServiceUnavailableError,
    SouverainError,
    UserFacingError,
)
from assistant.llm import errors as llm_errors
from assistant.runtime import Runtime
from assistant.security import Principal
from assistant.services.batch._ids import line_id
from assistant.services.batch._input import ParsedLine
from assistant.services.gateway.chat_completions import create_chat_completion
from assistant.services.gateway.priority import background_priority

__all__ = ["LineOutcome", "not_run", "refused", "run_line"]

# The API's status for each error family (assistant.api.errors keeps the same table for HTTP answers; the
# services cannot import it). Most specific first.
_STATUSES: tuple[tuple[type[SouverainError], int, str], ...] = (
    (llm_errors.UnknownModelError, 404, "not_found_error"),
    (llm_errors.ModelWithdrawnError, 410, "invalid_request_error"),
    (llm_errors.UnsupportedParameterError, 400, "invalid_request_error"),
    (llm_errors.UpstreamRejectedError, 400, "invalid_request_error"),
    (llm_errors.UpstreamUnavailableError, 503, "service_unavailable_error"),
    (llm_errors.UpstreamTimeoutError, 504, "timeout_error"),
    (llm_errors.UpstreamBadResponseError, 502, "upstream_error"),
    (AuthenticationError, 401, "authentication_error"),
    (PermissionDeniedError, 403, "permission_error"),
    (NotFoundError, 404, "not_found_error"),
    (ConflictError, 409, "conflict_error"),
    (PayloadTooLargeError, 413, "invalid_request_error"),
    (RateLimitedError, 429, "rate_limit_error"),
    (UserFacingError, 400, "invalid_request_error"),
    (ServiceUnavailableError, 503, "service_unavailable_error"),
)

LineOutcome = tuple[bool, dict[str, Any]]


def _status_of(exc: SouverainError) -> tuple[int, str]:
    for family, status, error_type in _STATUSES:
        if isinstance(exc, family):
            return status, error_type
    return 500, "server_error"


def _line(line: ParsedLine, request_id: str, status: int, body: dict[str, Any], *, generated: bool) -> dict[str, Any]:
    return {
        "id": line_id(),
        "custom_id": line.custom_id,
        "response": {"status_code": status, "request_id": request_id, "body": body},
        "error": None,
        "ai_generated": generated,
    }


def refused(line: ParsedLine, request_id: str, exc: SouverainError) -> LineOutcome:
    """The error line of a request the gateway refused or the model server failed."""
    status, error_type = _status_of(exc)
    body: dict[str, Any] = {"error": {"message": exc.message, "type": error_type, "param": None, "code": exc.code}}
    # An interrupted generation keeps its labelled, signed partial text (UpstreamError.details), as /v1 does.
    body.update(exc.details or {})
    return False, _line(line, request_id, status, body, generated="partial" in body)


async def run_line(runtime: Runtime, principal: Principal, line: ParsedLine) -> LineOutcome:
    """Answer one line; model servers down or saturated are left to the caller (raised), everything else is the
    line's outcome. The tokens are counted against the owner's quota before it returns, so the next line sees them.
    """
    request_id = f"req_{uuid.uuid4().hex}"
    client = ClientInfo(ip=None, user_agent="souverain-batch", request_id=request_id)
    try:
        with background_priority():
            outcome = await create_chat_completion(
                runtime, line.request, principal=principal, client=client, surface="batch"
            )
    except llm_errors.UpstreamUnavailableError:
        raise
    except SouverainError as exc:
        return refused(line, request_id, exc)
    finally:
        await runtime.background.drain()
    assert outcome.response is not None  # batch lines are never streamed (checked when the file was read)
    body = outcome.response.model_dump(mode="json", by_alias=False)
    return True, _line(line, request_id, 200, body, generated=True)


def not_run(line: ParsedLine, code: str, message: str) -> LineOutcome:
    """The error line of a request the batch never ran (expired window), as OpenAI writes it."""
    return False, {
        "id": line_id(),
        "custom_id": line.custom_id,
        "response": None,
        "error": {"code": code, "message": message},
        "ai_generated": False,
    }
