"""Request-scoped dependencies, as ``Annotated`` aliases that routes declare in their signatures."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from assistant.core.config import Settings
from assistant.runtime import Runtime

__all__ = ["RuntimeDep", "SessionDep", "SettingsDep", "get_runtime", "get_session", "get_settings_dep"]


def get_runtime(request: Request) -> Runtime:
    """The process's lifespan container."""
    runtime: Runtime = request.app.state.runtime
    return runtime


def get_settings_dep(runtime: Annotated[Runtime, Depends(get_runtime)]) -> Settings:
    """The settings the app was built with."""
    return runtime.settings


async def get_session(runtime: Annotated[Runtime, Depends(get_runtime)]) -> AsyncIterator[AsyncSession]:
    """A session for the request; the service using it owns the transaction (``async with session.begin()``)."""
    async with runtime.session_factory() as session:
        yield session


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]
