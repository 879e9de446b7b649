"""The web pages: sign in and out, the chat, « Mes données », good practices and the accessibility statement.

Routes stay thin: they read the form, call the same services as the API, and render a template.
"""

from __future__ import annotations

import functools
import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request, Security
from fastapi.responses import RedirectResponse, Response

from assistant.api.deps import PUBLIC, ClientDep, RuntimeDep
from assistant.errors import AuthenticationError, RateLimitedError
from assistant.security import Permission, same_secret
from assistant.services.gateway.quotas import get_quota
from assistant.services.identity.login import LoginResult, login_with_password, logout
from assistant.services.identity.users import get_user
from assistant.store.models import FeedbackReason
from assistant.web._auth import OptionalWebCaller, RequirePage, WebCaller, safe_next_path
from assistant.web._templates import PageRenderer

__all__ = ["LOGIN_PATH", "pages_router", "render_login_page", "set_session_cookies"]

LOGIN_PATH = "/connexion"

# Module-level: FastAPI resolves the routes' (postponed) annotations in this module's globals.
Chatter = Annotated[WebCaller, Security(RequirePage(Permission.CHAT))]
Member = Annotated[WebCaller, Security(RequirePage(Permission.PROFILE))]


def _login_cookie(runtime: RuntimeDep) -> str:
    return f"{runtime.settings.csrf_cookie_name}_connexion"


def _secure(request: Request, runtime: RuntimeDep) -> bool:
    return runtime.settings.environment == "production" or request.url.scheme == "https"


def render_login_page(
    renderer: PageRenderer,
    request: Request,
    runtime: RuntimeDep,
    caller: WebCaller | None,
    *,
    next_path: str,
    error: str | None = None,
    notice: str | None = None,
    username: str = "",
    sso_error: str | None = None,
    status_code: int = 200,
) -> Response:
    """The login page (password form, and the identity provider's button when configured), with a message.

    ``error`` is about the password form; ``sso_error`` about the identity provider, shown next to its button.
    """
    # Login CSRF: a fresh double-submit token per form, so another site cannot sign a browser into its account.
    token = secrets.token_urlsafe(32)
    settings = runtime.settings
    response = renderer.render(
        request,
        "login.html",
        title="Connexion",
        caller=caller,
        login_token=token,
        next_path=next_path,
        error=error,
        notice=notice,
        username=username,
        sso_label=settings.oidc.login_label if settings.oidc.web_login_enabled else None,
        sso_button=settings.oidc.login_button,
        sso_error=sso_error,
        status_code=status_code,
    )
    response.set_cookie(
        _login_cookie(runtime),
        token,
        max_age=3600,
        httponly=True,
        secure=_secure(request, runtime),
        samesite="strict",
        path=LOGIN_PATH,
    )
    return response


def set_session_cookies(response: Response, request: Request, runtime: RuntimeDep, result: LoginResult) -> None:
    """Hand a new web session to the browser: its signed id (HttpOnly) and its anti-CSRF token."""
    settings = runtime.settings
    for name, value, http_only in (
        (settings.session_cookie_name, result.cookie_value, True),
        # Readable by scripts on purpose: the API's double-submit check (the pages also embed it).
        (settings.csrf_cookie_name, result.csrf_token, False),
    ):
        response.set_cookie(
            name,
            value,
            max_age=settings.session_lifetime_seconds,
            httponly=http_only,
            secure=_secure(request, runtime),
            samesite=settings.session_cookie_samesite,
            path="/",
        )


def pages_router(renderer: PageRenderer) -> APIRouter:
    """The pages, rendered by ``renderer``."""
    router = APIRouter(include_in_schema=False)

    login_page = functools.partial(render_login_page, renderer)

    @router.get("/", dependencies=[PUBLIC])
    async def home(caller: OptionalWebCaller) -> RedirectResponse:
        if caller is not None and not caller.principal.has(Permission.CHAT):
            return RedirectResponse("/mes-donnees", status_code=303)
        return RedirectResponse("/chat", status_code=303)

    @router.get(LOGIN_PATH, dependencies=[PUBLIC])
    async def show_login(
        request: Request, runtime: RuntimeDep, caller: OptionalWebCaller, suivant: str | None = None
    ) -> Response:
        notice = "Vous êtes déconnecté·e." if request.query_params.get("deconnecte") else None
        return login_page(request, runtime, caller, next_path=safe_next_path(suivant), notice=notice)

    @router.post(LOGIN_PATH, dependencies=[PUBLIC])
    async def submit_login(
        request: Request,
        runtime: RuntimeDep,
        client: ClientDep,
        caller: OptionalWebCaller,
        identifiant: Annotated[str, Form(max_length=150)] = "",
        mot_de_passe: Annotated[str, Form(max_length=1024)] = "",
        jeton: Annotated[str, Form(max_length=100)] = "",
        suivant: Annotated[str, Form(max_length=2000)] = "",
    ) -> Response:
        next_path = safe_next_path(suivant)
        expected = request.cookies.get(_login_cookie(runtime), "")
        if not expected or not same_secret(jeton, expected):
            return login_page(
                request,
                runtime,
                caller,
                next_path=next_path,
                username=identifiant,
                error="Le formulaire de connexion a expiré : saisissez à nouveau vos identifiants.",
                status_code=400,
            )
        if not identifiant.strip() or not mot_de_passe:
            return login_page(
                request,
                runtime,
                caller,
                next_path=next_path,
                username=identifiant,
                error="Saisissez votre identifiant et votre mot de passe.",
                status_code=400,
            )
        try:
            result = await login_with_password(
                runtime, username=identifiant.strip(), password=mot_de_passe, client=client
            )
        except (AuthenticationError, RateLimitedError) as exc:
            status = 429 if isinstance(exc, RateLimitedError) else 401
            return login_page(
                request,
                runtime,
                caller,
                next_path=next_path,
                username=identifiant,
                error=exc.message,
                status_code=status,
            )
        response = RedirectResponse(next_path, status_code=303)
        set_session_cookies(response, request, runtime, result)
        response.delete_cookie(_login_cookie(runtime), path=LOGIN_PATH)
        return response

    @router.post("/deconnexion")
    async def sign_out(runtime: RuntimeDep, client: ClientDep, caller: Member) -> Response:
        await logout(runtime, caller.principal, client=client)
        response = RedirectResponse(f"{LOGIN_PATH}?deconnecte=1", status_code=303)
        response.delete_cookie(runtime.settings.session_cookie_name, path="/")
        response.delete_cookie(runtime.settings.csrf_cookie_name, path="/")
        return response

    @router.get("/chat")
    async def chat(request: Request, caller: Chatter) -> Response:
        return renderer.render(
            request,
            "chat.html",
            title="Assistant",
            caller=caller,
            active="chat",
            feedback_reasons=list(FeedbackReason),
            can_report=caller.principal.has(Permission.REPORT_INCIDENT),
        )

    @router.get("/mes-donnees")
    async def my_data(request: Request, runtime: RuntimeDep, caller: Member) -> Response:
        user = await get_user(runtime, user_id=caller.principal.user_id)
        quota = await get_quota(runtime, caller.principal.user_id)
        return renderer.render(
            request, "my_data.html", title="Mes données", caller=caller, active="mes-donnees", account=user, quota=quota
        )

    @router.get("/bonnes-pratiques", dependencies=[PUBLIC])
    async def good_practices(request: Request, caller: OptionalWebCaller) -> Response:
        return renderer.render(
            request, "good_practices.html", title="Bonnes pratiques", caller=caller, active="bonnes-pratiques"
        )

    @router.get("/accessibilite", dependencies=[PUBLIC])
    async def accessibility(request: Request, caller: OptionalWebCaller) -> Response:
        return renderer.render(request, "accessibility.html", title="Déclaration d'accessibilité", caller=caller)

    return router
