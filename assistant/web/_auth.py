"""Who is looking at a page, and the web pages' policy.

Web pages authenticate with the session cookie only (a browser never sends a bearer token by itself). Unsafe
requests (form posts) must carry the session's anti-CSRF token, in the ``csrf_token`` form field or in the
``X-CSRF-Token`` header that the page's scripts send.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from assistant.api.deps import CHARTER_GATED, CSRF_HEADER, ClientDep, RequirePermission, RuntimeDep
from assistant.errors import AuthenticationError, CharterNotAcceptedError
from assistant.security import Principal, same_secret
from assistant.services.charter.usage_charter import ensure_charter_accepted
from assistant.services.gateway.quotas import enforce_request_rate
from assistant.services.identity.authentication import authenticate_session
from assistant.web.errors import CharterRequiredError, LoginRequiredError, PageForbiddenError

__all__ = ["CSRF_FIELD", "OptionalWebCaller", "RequirePage", "WebCaller", "safe_next_path", "web_caller"]

logger = logging.getLogger(__name__)

CSRF_FIELD = "csrf_token"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class WebCaller:
    """A signed-in visitor: their principal and their session's anti-CSRF token (echoed by forms and scripts)."""

    principal: Principal
    csrf_token: str


async def web_caller(request: Request, runtime: RuntimeDep, client: ClientDep) -> WebCaller | None:
    """The visitor's session, or None when there is none or it is no longer valid (expired, account disabled)."""
    cached: WebCaller | None = getattr(request.state, "web_caller", None)
    if cached is not None:
        return cached
    cookie = request.cookies.get(runtime.settings.session_cookie_name)
    if not cookie:
        return None
    try:
        principal, csrf_token = await authenticate_session(runtime, cookie, client=client)
    except AuthenticationError:
        return None
    caller = WebCaller(principal=principal, csrf_token=csrf_token)
    request.state.web_caller = caller
    return caller


OptionalWebCaller = Annotated[WebCaller | None, Depends(web_caller)]


async def _sent_csrf_token(request: Request) -> str:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    if request.headers.get("content-type", "").startswith(("application/x-www-form-urlencoded", "multipart/")):
        value = (await request.form()).get(CSRF_FIELD)
        return value if isinstance(value, str) else ""
    return ""


class RequirePage(RequirePermission):
    """A web page's policy: a session whose user holds ``permission``.

    Anonymous visitors are sent to the login page (and back afterwards); signed-in users without the permission
    get a French 403 page. Pages that use the assistant (the permissions the API gates on the charter) send a
    user who has not accepted the charter in force to it, then back. Use as ``Security(RequirePage(Permission.CHAT))``.
    """

    def __repr__(self) -> str:
        return f"RequirePage({self.permission.value!r})"

    async def __call__(  # type: ignore[override]
        self, request: Request, runtime: RuntimeDep, caller: OptionalWebCaller
    ) -> WebCaller:
        if caller is None:
            raise LoginRequiredError(next_path=request.url.path)
        if request.method not in _SAFE_METHODS and not same_secret(await _sent_csrf_token(request), caller.csrf_token):
            raise PageForbiddenError("Le formulaire a expiré ou ne vient pas de cette page : rechargez-la, réessayez.")
        if not caller.principal.has(self.permission):
            raise PageForbiddenError(
                "Votre rôle ne donne pas accès à cette page. Contactez votre référent IA si vous en avez besoin."
            )
        if self.permission in CHARTER_GATED:
            # The same check as the API's, so a page never shows what its own requests would be refused.
            try:
                await ensure_charter_accepted(runtime, caller.principal)
            except CharterNotAcceptedError as exc:
                raise CharterRequiredError(next_path=_here(request)) from exc
        await enforce_request_rate(runtime, caller.principal)
        return caller


def _here(request: Request) -> str:
    """The page's local path with its query string, to come back to."""
    query = request.url.query
    return f"{request.url.path}?{query}" if query else request.url.path


def safe_next_path(value: str | None, default: str = "/chat") -> str:
    """A local path to return to after signing in; anything else (other sites, ``//host``) gives ``default``."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")) or any(c in value for c in "\r\n"):
        return default
    return value
