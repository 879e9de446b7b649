"""Deny by default: every route of the app declares a policy, and the declared policies are the intended ones."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from assistant.api.policies import route_policies
from assistant.app import create_app
from assistant.security import Permission


def _undeclared(app: FastAPI) -> list[str]:
    return [f"{policy.method} {policy.path}" for policy in route_policies(app) if policy.policy is None]


def test_every_route_declares_a_policy(settings_factory) -> None:  # type: ignore[no-untyped-def]
    app = create_app(settings_factory())
    policies = route_policies(app)
    assert len(policies) > 20
    assert _undeclared(app) == [], "routes without Security(RequirePermission(...)) nor dependencies=[PUBLIC]"


def test_the_walker_catches_a_route_without_policy(settings_factory) -> None:  # type: ignore[no-untyped-def]
    app = create_app(settings_factory())
    forgotten = APIRouter(prefix="/api/forgotten")

    @forgotten.get("/secret")
    async def secret() -> dict[str, str]:
        return {"oops": "open"}

    app.include_router(forgotten)

    @app.get("/also-forgotten")
    async def also() -> None:
        return None

    assert _undeclared(app) == ["GET /api/forgotten/secret", "GET /also-forgotten"]


def test_public_routes_are_exactly_the_intended_ones(settings_factory) -> None:  # type: ignore[no-untyped-def]
    public = {f"{p.method} {p.path}" for p in route_policies(create_app(settings_factory())) if p.policy == "public"}
    assert public == {
        "GET /healthz",
        "GET /readyz",
        "GET /metrics",
        "GET /openapi.json",
        "GET /docs",
        "GET /redoc",
        "POST /api/auth/login",
        "GET /api/provenance/public-key",
        "GET /",
        "GET /connexion",
        "POST /connexion",
        "GET /connexion/oidc",
        "GET /connexion/oidc/retour",
        "GET /static/{path:path}",
        "GET /bonnes-pratiques",
        "GET /accessibilite",
    }


def test_admin_and_audit_routes_need_admin_and_audit_permissions(settings_factory) -> None:  # type: ignore[no-untyped-def]
    for policy in route_policies(create_app(settings_factory())):
        if policy.path.startswith("/api/admin/"):
            assert isinstance(policy.policy, Permission) and policy.policy.value.startswith("admin:"), policy
        if policy.path.startswith("/api/audit/"):
            assert policy.policy == Permission.READ_AUDIT, policy
