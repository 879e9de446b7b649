"""The web sign-in through the identity provider: the button's target and the provider's callback.

Both routes are public (the visitor is not signed in yet). Refusals come back as the login page with a French
alert and a status that says what happened: 400 (expired or foreign flow), 401 (refused sign-in or invalid ID
token), 403 (no role here), 404 (not configured), 502 (the provider answered wrongly), 503 (unreachable).
"""

from __future__ import annotations

import functools
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from assistant.api.deps import PUBLIC, ClientDep, RuntimeDep
from assistant.core.config import OIDC_CALLBACK_PATH
from assistant.errors import (
    AuthenticationError,
    NotFoundError,
    PermissionDeniedError,
    ServiceUnavailableError,
    SouverainError,
    UserFacingError,
)
from assistant.security import IdentityProviderError
from assistant.services.identity.oidc_login import finish_oidc_login, start_oidc_login
from assistant.web._auth import OptionalWebCaller, safe_next_path
from assistant.web._pages import _secure, render_login_page, set_session_cookies
from assistant.web._templates import PageRenderer

__all__ = ["OIDC_START_PATH", "oidc_pages_router"]

OIDC_START_PATH = "/connexion/oidc"

# Most specific first; anything else the caller can fix is a 400.
_STATUS: tuple[tuple[type[SouverainError], int], ...] = (
    (IdentityProviderError, 502),
    (ServiceUnavailableError, 503),
    (AuthenticationError, 401),
    (PermissionDeniedError, 403),
    (NotFoundError, 404),
)


def _status(error: SouverainError) -> int:
    return next((status for kind, status in _STATUS if isinstance(error, kind)), 400)


def _flow_cookie(runtime: RuntimeDep) -> str:
    return f"{runtime.settings.session_cookie_name}_oidc"


def oidc_pages_router(renderer: PageRenderer) -> APIRouter:
    """``GET /connexion/oidc`` (the button) and ``GET /connexion/oidc/retour`` (the provider's redirect)."""
    router = APIRouter(include_in_schema=False)
    login_page = functools.partial(render_login_page, renderer)

    @router.get(OIDC_START_PATH, dependencies=[PUBLIC])
    async def start(
        request: Request,
        runtime: RuntimeDep,
        caller: OptionalWebCaller,
        suivant: Annotated[str | None, Query(max_length=2000)] = None,
    ) -> Response:
        next_path = safe_next_path(suivant)
        try:
            started = await start_oidc_login(runtime, next_path=next_path)
        except (NotFoundError, ServiceUnavailableError) as exc:
            return login_page(
                request, runtime, caller, next_path=next_path, sso_error=exc.message, status_code=_status(exc)
            )
        response = RedirectResponse(started.redirect_url, status_code=303)
        response.headers["Cache-Control"] = "no-store"
        # Lax, not strict: the provider's redirect back is a cross-site navigation, which must carry the cookie.
        response.set_cookie(
            _flow_cookie(runtime),
            started.flow_cookie,
            max_age=runtime.settings.oidc.login_flow_seconds,
            httponly=True,
            secure=_secure(request, runtime),
            samesite="lax",
            path=OIDC_START_PATH,
        )
        return response

    @router.get(OIDC_CALLBACK_PATH, dependencies=[PUBLIC])
    async def callback(
        request: Request,
        runtime: RuntimeDep,
        client: ClientDep,
        caller: OptionalWebCaller,
        code: Annotated[str | None, Query(max_length=4096)] = None,
        state: Annotated[str | None, Query(max_length=512)] = None,
        error: Annotated[str | None, Query(max_length=200)] = None,
        error_description: Annotated[str | None, Query(max_length=1000)] = None,
    ) -> Response:
        try:
            done = await finish_oidc_login(
                runtime,
                flow_cookie=request.cookies.get(_flow_cookie(runtime)),
                state=state,
                code=code,
                error=error,
                error_description=error_description,
                client=client,
            )
        except (UserFacingError, ServiceUnavailableError) as exc:
            response = login_page(
                request,
                runtime,
                caller,
                next_path=safe_next_path(None),
                sso_error=exc.message,
                status_code=_status(exc),
            )
        else:
            response = RedirectResponse(done.next_path, status_code=303)
            set_session_cookies(response, request, runtime, done.login)
        # One attempt per flow: the state, nonce and verifier are never accepted twice.
        response.delete_cookie(_flow_cookie(runtime), path=OIDC_START_PATH)
        return response

    return router
