"""The one error envelope of the API, ``{"error": {"message", "type", "param", "code", "request_id"}}``.

It follows OpenAI's shape so that OpenAI clients surface our messages; every error takes it, including 404, 405,
422 and unexpected 500s, which never carry a stack trace.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request, routing
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import exc as database_errors
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

from assistant import errors
from assistant.llm import errors as llm_errors

__all__ = ["error_response", "install_error_handlers", "register_error_status"]

logger = logging.getLogger(__name__)

# Most specific first: the first class in an error's MRO that appears here decides.
_STATUS_BY_ERROR: dict[type[errors.SouverainError], tuple[int, str]] = {
    llm_errors.UnknownModelError: (404, "not_found_error"),
    llm_errors.ModelWithdrawnError: (410, "invalid_request_error"),
    llm_errors.UnsupportedParameterError: (400, "invalid_request_error"),
    llm_errors.UpstreamRejectedError: (400, "invalid_request_error"),
    llm_errors.WeightsIntegrityError: (503, "service_unavailable_error"),
    llm_errors.UpstreamUnavailableError: (503, "service_unavailable_error"),
    llm_errors.UpstreamTimeoutError: (504, "timeout_error"),
    llm_errors.UpstreamBadResponseError: (502, "upstream_error"),
    errors.AuthenticationError: (401, "authentication_error"),
    errors.PermissionDeniedError: (403, "permission_error"),
    errors.NotFoundError: (404, "not_found_error"),
    errors.ConflictError: (409, "conflict_error"),
    errors.OperationCancelledError: (409, "conflict_error"),
    errors.PayloadTooLargeError: (413, "invalid_request_error"),
    errors.UnsupportedMediaTypeError: (415, "invalid_request_error"),
    errors.RateLimitedError: (429, "rate_limit_error"),
    errors.UserFacingError: (400, "invalid_request_error"),
    errors.ServiceUnavailableError: (503, "service_unavailable_error"),
    errors.StoreError: (503, "service_unavailable_error"),
}

_HTTP_MESSAGES = {
    400: ("invalid_request_error", "bad_request", "Requête invalide."),
    401: ("authentication_error", "authentication_required", "Authentification requise."),
    403: ("permission_error", "permission_denied", "Accès refusé."),
    404: ("not_found_error", "not_found", "Ressource introuvable."),
    405: ("invalid_request_error", "method_not_allowed", "Méthode HTTP non autorisée pour cette adresse."),
    406: ("invalid_request_error", "not_acceptable", "Format de réponse non disponible."),
    413: ("invalid_request_error", "payload_too_large", "Contenu trop volumineux."),
    415: ("invalid_request_error", "unsupported_media_type", "Type de contenu non pris en charge."),
}


def register_error_status(error_class: type[errors.SouverainError], status: int, error_type: str) -> None:
    """Map a domain error family (e.g. upstream model errors) to an HTTP status, ahead of its parents."""
    _STATUS_BY_ERROR[error_class] = (status, error_type)


def _request_id(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)


def error_response(
    request: Request,
    *,
    status: int,
    error_type: str,
    code: str,
    message: str,
    param: str | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    """A JSON response in the common error envelope."""
    request_id = _request_id(request)
    body: dict[str, Any] = {
        "error": {
            "message": message,
            "type": error_type,
            "param": param,
            "code": code,
            "request_id": request_id,
        }
    }
    if extra:
        body.update(extra)
    all_headers = dict(headers or {})
    if request_id:
        all_headers.setdefault("X-Request-ID", request_id)
    return JSONResponse(body, status_code=status, headers=all_headers)


def _status_of(exc: errors.SouverainError) -> tuple[int, str]:
    for cls in type(exc).__mro__:
        if cls in _STATUS_BY_ERROR:
            return _STATUS_BY_ERROR[cls]  # type: ignore[index]
    return 500, "server_error"


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, errors.SouverainError)
    status, error_type = _status_of(exc)
    headers: dict[str, str] = {}
    retry_after = getattr(exc, "retry_after", None)  # rate limits, and a model whose queue is full
    if isinstance(retry_after, int):
        headers["Retry-After"] = str(retry_after)
    if isinstance(exc, errors.AuthenticationError):
        headers["WWW-Authenticate"] = "Bearer"
    if status >= 500:
        logger.warning("%s on %s %s: %s", type(exc).__name__, request.method, request.url.path, exc.message)
        if status == 500:
            return _internal(request)
    return error_response(
        request,
        status=status,
        error_type=error_type,
        code=exc.code,
        message=exc.message,
        param=getattr(exc, "param", None),
        headers=headers,
        extra=exc.details,
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    error_type, code, message = _HTTP_MESSAGES.get(
        exc.status_code,
        ("invalid_request_error" if exc.status_code < 500 else "server_error", "http_error", ""),
    )
    if isinstance(exc.detail, str) and exc.status_code not in _HTTP_MESSAGES:
        message = exc.detail
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = _allowed_methods(request) or headers.get("Allow", "")
    return error_response(
        request,
        status=exc.status_code,
        error_type=error_type,
        code=code,
        message=message or "Erreur.",
        headers=headers,
    )


def _allowed_methods(request: Request) -> str:
    # Starlette's 405 names the methods of the first route matching the path only; a path served by several
    # routes (GET and POST declared separately) must list them all (RFC 9110 §15.5.6).
    # A literal path (/incidents/stats) wins over a template that also matches it (/incidents/{report_id}).
    literal: set[str] = set()
    templated: set[str] = set()
    for context in routing.iter_route_contexts(request.app.routes):
        if context.path and context.methods and compile_path(context.path)[0].match(request.url.path):
            (templated if "{" in context.path else literal).update(context.methods)
    return ", ".join(sorted(literal or templated))


def _describe_validation(error: dict[str, Any]) -> str:
    location = ".".join(str(part) for part in error.get("loc", ()) if part not in ("body", "query", "path"))
    return f"{location} : {error.get('msg', 'invalide')}" if location else str(error.get("msg", "invalide"))


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    details = [
        {"loc": list(error.get("loc", ())), "msg": error.get("msg"), "type": error.get("type")}
        for error in exc.errors()
    ]
    first = exc.errors()[0] if exc.errors() else {}
    param = ".".join(str(part) for part in first.get("loc", ())[1:]) or None
    summary = "; ".join(_describe_validation(error) for error in exc.errors()[:5])
    return error_response(
        request,
        status=422,
        error_type="invalid_request_error",
        code="validation_error",
        message=f"Requête invalide — {summary}",
        param=param,
        extra={"detail": details},
    )


def _internal(request: Request) -> JSONResponse:
    return error_response(
        request,
        status=500,
        error_type="server_error",
        code="internal_error",
        message="Erreur interne du service. L'incident est journalisé ; réessayez ou contactez votre référent.",
    )


# Errors in our SQL or data, not in the database's availability: bugs, answered 500.
_DATABASE_BUGS = (
    database_errors.IntegrityError,
    database_errors.DataError,
    database_errors.ProgrammingError,
    database_errors.NotSupportedError,
)


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    # A database restarting, failing over or out of connections surfaces as driver errors from any query of any
    # route; answering them here as the StoreError they are keeps every route's outage answer a clean 503.
    if isinstance(exc, _DATABASE_BUGS):
        return await _unexpected_error(request, exc)
    unavailable = errors.StoreError(
        "La base de données est momentanément indisponible ; réessayez dans quelques instants.",
        code="database_unavailable",
    )
    return await _domain_error(request, unavailable)


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return _internal(request)


def install_error_handlers(app: FastAPI) -> None:
    """Make every error of ``app`` answer in the common envelope."""
    app.add_exception_handler(errors.SouverainError, _domain_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(database_errors.DBAPIError, _database_error)
    app.add_exception_handler(ConnectionError, _database_error)  # asyncpg lets "connection refused" through
    app.add_exception_handler(Exception, _unexpected_error)
