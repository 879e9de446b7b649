"""Errors of the service.

Domain code raises these; the web layer alone turns them into HTTP answers (``assistant.api.errors``), so
nothing below ``assistant/api`` knows about status codes. Messages are meant for people: French, actionable.

    SouverainError
    ├── ConfigurationError        invalid settings at start-up
    ├── StoreError                the database failed or is unreachable
    ├── UserFacingError           the caller can fix it
    │   ├── InvalidRequestError   malformed or inconsistent input
    │   │   ├── PayloadTooLargeError      upload too big, storage quota full, recording too long
    │   │   └── UnsupportedMediaTypeError the file is not of an accepted type
    │   ├── AuthenticationError   no or bad credentials
    │   ├── PermissionDeniedError authenticated, not allowed
    │   │   ├── CharterNotAcceptedError  the current usage charter is not accepted yet
    │   │   └── ForbiddenUseError        the forbidden-use guard blocked or wants a confirmation
    │   ├── NotFoundError         no such resource (or not yours)
    │   ├── ConflictError         the resource already exists or changed
    │   ├── OperationCancelledError  the user cancelled the work
    │   └── RateLimitedError      quota or rate limit reached
    ├── ServiceUnavailableError   a dependency is down; retry later
    └── JobError                  background job machinery
        └── UnknownJobKindError   no handler registered for a job kind
"""

from __future__ import annotations

__all__ = [
    "AuthenticationError",
    "CharterNotAcceptedError",
    "ConfigurationError",
    "ConflictError",
    "ForbiddenUseError",
    "InvalidRequestError",
    "JobError",
    "NotFoundError",
    "OperationCancelledError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "RateLimitedError",
    "ServiceUnavailableError",
    "SouverainError",
    "StoreError",
    "UnknownJobKindError",
    "UnsupportedMediaTypeError",
    "UserFacingError",
]


class SouverainError(Exception):
    """Base of every error raised on purpose by the service.

    ``code`` is a stable machine-readable identifier; ``message`` is for people.
    """

    code = "internal_error"
    #: Extra fields for the error body (e.g. the labelled partial answer of an interrupted generation).
    details: dict[str, object] | None = None

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class ConfigurationError(SouverainError):
    """Raised at start-up when settings are invalid; the message names the variable to fix."""

    code = "configuration_error"


class StoreError(SouverainError):
    """Raised when the database cannot be reached or refuses an operation unexpectedly."""

    code = "store_error"


class UserFacingError(SouverainError):
    """Raised when the caller can fix the problem; the message tells how."""

    code = "invalid_request"


class InvalidRequestError(UserFacingError):
    """Raised when input is malformed or inconsistent beyond what schema validation catches."""

    code = "invalid_request"


class PayloadTooLargeError(InvalidRequestError):
    """Raised when an upload exceeds a size limit or a storage quota, or a recording the duration limit."""

    code = "payload_too_large"


class UnsupportedMediaTypeError(InvalidRequestError):
    """Raised when an uploaded file is not of a type the service accepts (e.g. a PDF sent as audio)."""

    code = "unsupported_media_type"


class AuthenticationError(UserFacingError):
    """Raised when credentials are missing, expired or forged."""

    code = "authentication_required"


class PermissionDeniedError(UserFacingError):
    """Raised when an authenticated caller lacks the permission a route or resource requires."""

    code = "permission_denied"


class CharterNotAcceptedError(PermissionDeniedError):
    """Raised when a user (or their API key) uses the assistant before accepting the current usage charter."""

    code = "charter_not_accepted"


class ForbiddenUseError(PermissionDeniedError):
    """Raised when a request falls under a forbidden use: ``forbidden_use`` (blocked) or
    ``guard_confirmation_required`` (send ``guard_confirmation`` with a reason); ``details`` carries the rule."""

    code = "forbidden_use"


class NotFoundError(UserFacingError):
    """Raised when a resource does not exist or belongs to someone else (the two are not told apart)."""

    code = "not_found"


class ConflictError(UserFacingError):
    """Raised when creating something that exists already, or updating something that changed meanwhile."""

    code = "conflict"


class OperationCancelledError(UserFacingError):
    """Raised inside background work when its owner cancelled it; the job stays ``cancelled``."""

    code = "cancelled"


class RateLimitedError(UserFacingError):
    """Raised when a quota or rate limit is reached; ``retry_after`` says when to try again (seconds)."""

    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after


class ServiceUnavailableError(SouverainError):
    """Raised when a dependency (database, model server, queue) is down; the caller may retry later."""

    code = "service_unavailable"


class JobError(SouverainError):
    """Raised by the background job machinery."""

    code = "job_error"


class UnknownJobKindError(JobError):
    """Raised when a job is submitted or picked up for a kind that no handler is registered for."""

    code = "unknown_job_kind"
