"""Building users, keys and sessions for the access-control tests through the real services."""

from __future__ import annotations

import uuid
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import FastAPI
from fastapi.testclient import TestClient

from assistant.runtime import Runtime
from assistant.security import Scope
from assistant.services.identity.api_keys import create_api_key
from assistant.services.identity.users import create_local_user
from assistant.store.models import Role

T = TypeVar("T")
PASSWORD = "un-mot-de-passe-solide"


def run(client: TestClient, coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` on the app's event loop (the runtime's engine is bound to it)."""
    portal = client.portal
    assert portal is not None

    async def wait() -> T:
        return await coroutine

    return portal.call(wait)


def runtime_of(app: FastAPI) -> Runtime:
    runtime: Runtime = app.state.runtime
    return runtime


@dataclass
class Account:
    id: uuid.UUID
    username: str
    role: Role
    key: str

    @property
    def bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


def make_account(
    client: TestClient, app: FastAPI, username: str, role: Role, scopes: list[Scope] | None = None
) -> Account:
    runtime = runtime_of(app)

    async def build() -> Account:
        user = await create_local_user(runtime, username=username, role=role, password=PASSWORD)
        created = await create_api_key(runtime, owner_id=user.id, name="test", scopes=scopes or list(Scope))
        return Account(id=user.id, username=username, role=role, key=created.secret)

    return run(client, build())


def new_key(client: TestClient, app: FastAPI, account: Account, scopes: list[Scope]) -> str:
    async def build() -> str:
        return (await create_api_key(runtime_of(app), owner_id=account.id, name="k", scopes=scopes)).secret

    return run(client, build())
