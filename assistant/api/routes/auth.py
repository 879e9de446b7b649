"""Signing in and out of the web UI (local accounts). Bearer callers need neither: they send their token."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request, Response, Security, status

from assistant.api.deps import PUBLIC, ClientDep, RequirePermission, RuntimeDep
from assistant.api.routes._access_models import LoginRequest, LoginResponse, Profile
from assistant.security import Permission, Principal
from assistant.services.identity.login import login_with_password, logout
from assistant.services.identity.users import get_user

__all__ = ["router"]

router = APIRouter(prefix="/api/auth", tags=["authentification"])


def _secure(request: Request, production: bool) -> bool:
    return production or request.url.scheme == "https"


@router.post(
    "/login", response_model=LoginResponse, summary="Connexion par identifiant et mot de passe", dependencies=[PUBLIC]
)
async def login(
    body: LoginRequest, request: Request, response: Response, runtime: RuntimeDep, client: ClientDep
) -> LoginResponse:
    result = await login_with_password(runtime, username=body.username, password=body.password, client=client)
    settings = runtime.settings
    secure = _secure(request, settings.environment == "production")
    max_age = settings.session_lifetime_seconds
    response.set_cookie(
        settings.session_cookie_name,
        result.cookie_value,
        max_age=max_age,
        httponly=True,
        secure=secure,
        samesite=settings.session_cookie_samesite,
        path="/",
    )
    # Readable by the page's script on purpose: it echoes it in X-CSRF-Token (double submit).
    response.set_cookie(
        settings.csrf_cookie_name,
        result.csrf_token,
        max_age=max_age,
        httponly=False,
        secure=secure,
        samesite=settings.session_cookie_samesite,
        path="/",
    )
    user = await get_user(runtime, user_id=result.principal.user_id)
    return LoginResponse(
        user=Profile.of(result.principal, user), csrf_token=result.csrf_token, expires_at=result.expires_at
    )


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, summary="Déconnexion")
async def sign_out(
    response: Response,
    runtime: RuntimeDep,
    client: ClientDep,
    principal: Annotated[Principal, Security(RequirePermission(Permission.PROFILE))],
) -> Response:
    await logout(runtime, principal, client=client)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    response.delete_cookie(runtime.settings.session_cookie_name, path="/")
    response.delete_cookie(runtime.settings.csrf_cookie_name, path="/")
    return response
