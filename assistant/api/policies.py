"""Which policy each route declares, read from the routes themselves (for the deny-by-default test and docs)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from fastapi import FastAPI, routing
from fastapi.dependencies.models import Dependant

from assistant.api.deps import RequirePermission, public
from assistant.security import Permission

__all__ = ["RoutePolicy", "route_policies"]


@dataclass(frozen=True)
class RoutePolicy:
    """A route and its policy: a permission, ``"public"``, or ``None`` when it declares none (a bug)."""

    method: str
    path: str
    policy: Permission | Literal["public"] | None


def _calls(dependant: Dependant) -> Iterator[object]:
    for dependency in dependant.dependencies:
        yield dependency.call
        yield from _calls(dependency)


def _policy(dependant: Dependant | None) -> Permission | Literal["public"] | None:
    if dependant is None:
        return None
    for call in _calls(dependant):
        if isinstance(call, RequirePermission):
            return call.permission
        if call is public:
            return "public"
    return None


def route_policies(app: FastAPI) -> list[RoutePolicy]:
    """Every (method, path) the app serves, with its declared policy; non-API routes come out as ``None``."""
    found: list[RoutePolicy] = []
    # FastAPI ≥ 0.160 keeps included routers lazily; iter_route_contexts yields the effective routes.
    for context in routing.iter_route_contexts(app.routes):
        dependant = (
            getattr(context, "dependant", None)
            if isinstance(context.original_route, (routing.APIRoute, routing.APIWebSocketRoute))
            else None
        )
        policy = _policy(dependant)
        for method in sorted(context.methods or {"*"}):
            found.append(RoutePolicy(method=method, path=context.path or "?", policy=policy))
    return found
