"""Request body limits, enforced in ASGI before anything parses a body (or authenticates the sender).

FastAPI reads and parses a body before a route's permission check runs, and multipart parsing spools files to
disk: without a bound here, one unauthenticated 1 GB JSON to the login route fills the pod's memory, one 1 GB
multipart fills ``/tmp``. Each request is given the limit of its route class — sign-in, file uploads bound to
their settings, audio, everything else — checked against ``Content-Length`` first (refused before reading a
byte) and against the bytes actually received (chunked bodies, lying headers). A refusal is a 413 in the API's
JSON error envelope; the route never sees a truncated body.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant.api.errors import error_response
from assistant.core.config import Settings

__all__ = ["BodyLimitMiddleware", "BodyLimits"]

# Room for the multipart framing and the form's other fields around a file of the largest allowed size.
_MULTIPART_OVERHEAD = 1024 * 1024
# Sign-in forms and JSON hold a username and a password: nothing legitimate comes near this.
_SIGN_IN_BYTES = 64_000
# The largest export /api/provenance/verify checks (a signed DOCX or ODT with its pictures).
_VERIFIED_FILE_BYTES = 50_000_000


@dataclass(frozen=True)
class _RouteClass:
    name: str
    pattern: re.Pattern[str]
    limit: Callable[[Settings], int]


def _route(name: str, pattern: str, limit: Callable[[Settings], int]) -> _RouteClass:
    return _RouteClass(name, re.compile(pattern), limit)


_ROUTE_CLASSES = (
    _route("connexion", r"^/(api/auth/login|connexion)$", lambda _: _SIGN_IN_BYTES),
    _route(
        "documents",
        r"^/api/collections/[^/]+/documents$",
        lambda s: (
            min(s.rag.max_upload_bytes, s.rag.max_document_bytes * s.rag.max_files_per_upload) + _MULTIPART_OVERHEAD
        ),
    ),
    _route("tâche", r"^/api/tasks/[^/]+$", lambda s: s.task_max_upload_bytes + _MULTIPART_OVERHEAD),
    _route("lot", r"^/v1/files$", lambda s: s.batch_max_file_bytes + _MULTIPART_OVERHEAD),
    _route("vérification", r"^/api/provenance/verify$", lambda _: _VERIFIED_FILE_BYTES + _MULTIPART_OVERHEAD),
    _route(
        "audio",
        r"^/(api/transcriptions|v1/audio/transcriptions)$",
        lambda s: s.transcription.max_upload_bytes + _MULTIPART_OVERHEAD,
    ),
)


class BodyLimits:
    """The byte limit of each route class, resolved once from the settings."""

    def __init__(self, settings: Settings) -> None:
        self.default = settings.request_max_body_bytes
        self._classes = [(route.pattern, route.limit(settings)) for route in _ROUTE_CLASSES]

    def for_path(self, path: str) -> int:
        for pattern, limit in self._classes:
            if pattern.match(path):
                return limit
        return self.default


class _BodyTooLarge(Exception):
    pass


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _in_words(limit: int) -> str:
    if limit < 1_000_000:
        return f"{limit // 1000} Ko"
    return f"{limit / 1_000_000:.1f}".replace(".", ",").removesuffix(",0") + " Mo"


class BodyLimitMiddleware:
    """Refuses, with a 413, any request whose body is larger than its route class allows."""

    def __init__(self, app: ASGIApp, *, limits: BodyLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        limit = self.limits.for_path(scope["path"])
        declared = _declared_length(scope)
        if declared is not None and declared > limit:
            await self._refuse(scope, receive, send, limit)
            return
        received = 0
        exceeded = False
        response_started = False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise _BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal response_started
            if exceeded:
                return  # whatever the route made of a cut body (often a 400) gives way to the 413
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except _BodyTooLarge:
            pass
        except Exception:
            if not exceeded:
                raise
        if exceeded and not response_started:
            await self._refuse(scope, receive, send, limit)

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        response = error_response(
            Request(scope),
            status=413,
            error_type="invalid_request_error",
            code="payload_too_large",
            message=f"Requête trop volumineuse : au plus {_in_words(limit)} pour cette adresse.",
            headers={"Connection": "close"},
        )
        await response(scope, receive, send)
