"""API keys checked once are remembered ``api_key_cache_seconds`` per process — but never past a revocation here."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import update

from assistant.app import create_app
from assistant.security import CachedKey, Permission, Principal, PrincipalCache, hash_secret
from assistant.store import utcnow
from assistant.store.models import ApiKey, Role
from tests.factories import Account, make_account, run, runtime_of


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def app(settings_factory) -> FastAPI:  # type: ignore[no-untyped-def]
    return create_app(settings_factory(api_key_use_log_interval_seconds=300))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def client(app: FastAPI, clock: Clock) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        runtime_of(app).principal_cache = PrincipalCache(ttl_seconds=30, timer=clock)
        yield test_client


def _me(client: TestClient, account: Account):  # type: ignore[no-untyped-def]
    return client.get("/api/me", headers=account.bearer)


def _key_id(client: TestClient, app: FastAPI, account: Account) -> uuid.UUID:
    key = runtime_of(app).principal_cache.get(hash_secret(account.key))
    assert key is not None and key.principal.api_key_id is not None, "the key was checked, so it is cached"
    return key.principal.api_key_id


async def _change_behind_our_back(app: FastAPI, key_id: uuid.UUID, **values: object) -> None:
    """What another replica does: the database changes, this process is not told."""
    async with runtime_of(app).session_factory.begin() as session:
        await session.execute(update(ApiKey).where(ApiKey.id == key_id).values(**values))


def test_a_change_made_elsewhere_applies_here_once_the_entry_expires(
    client: TestClient, app: FastAPI, clock: Clock
) -> None:
    agent = make_account(client, app, "agent.cache", Role.AGENT)
    assert _me(client, agent).status_code == 200
    run(client, _change_behind_our_back(app, _key_id(client, app, agent), revoked_at=utcnow()))
    assert _me(client, agent).status_code == 200, "served from the cache: the documented delay"
    clock.now += 29
    assert _me(client, agent).status_code == 200
    clock.now += 2
    refused = _me(client, agent)
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "api_key_revoked"


def test_a_key_revoked_in_this_process_is_refused_at_once(client: TestClient, app: FastAPI) -> None:
    referent = make_account(client, app, "referent.cache", Role.REFERENT)
    agent = make_account(client, app, "agent.revoked", Role.AGENT)
    assert _me(client, agent).status_code == 200
    key_id = _key_id(client, app, agent)
    assert client.delete(f"/api/admin/keys/{key_id}", headers=referent.bearer).status_code == 200
    refused = _me(client, agent)
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "api_key_revoked"


def test_disabling_or_demoting_an_account_applies_at_once_to_its_keys(client: TestClient, app: FastAPI) -> None:
    referent = make_account(client, app, "referent.roles", Role.REFERENT)
    colleague = make_account(client, app, "referent.demoted", Role.REFERENT)
    assert client.get("/api/admin/users", headers=colleague.bearer).status_code == 200
    demoted = client.patch(f"/api/admin/users/{colleague.id}", json={"role": "agent"}, headers=referent.bearer)
    assert demoted.status_code == 200
    assert client.get("/api/admin/users", headers=colleague.bearer).status_code == 403
    disabled = client.patch(f"/api/admin/users/{colleague.id}", json={"is_active": False}, headers=referent.bearer)
    assert disabled.status_code == 200
    refused = _me(client, colleague)
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "account_disabled"


def test_an_expired_key_is_refused_even_while_cached(client: TestClient, app: FastAPI) -> None:
    agent = make_account(client, app, "agent.expiring", Role.AGENT)
    assert _me(client, agent).status_code == 200
    key_id = _key_id(client, app, agent)
    run(client, _change_behind_our_back(app, key_id, expires_at=utcnow() + timedelta(milliseconds=300)))
    runtime_of(app).principal_cache.forget_key(key_id)  # re-read, so that the cached entry knows the new expiry
    assert _me(client, agent).status_code == 200
    assert runtime_of(app).principal_cache.get(hash_secret(agent.key)) is not None
    time.sleep(0.4)
    refused = _me(client, agent)
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "api_key_expired"


async def _key_uses(app: FastAPI) -> int:
    from assistant.store.audit import query_events

    async with runtime_of(app).session_factory() as session:
        return sum(event.action == "api_key.use" for event in await query_events(session=session))


def test_key_use_is_still_logged_once_per_interval(settings_factory) -> None:  # type: ignore[no-untyped-def]
    app = create_app(settings_factory(api_key_use_log_interval_seconds=0))
    with TestClient(app, raise_server_exceptions=False) as client:
        agent = make_account(client, app, "agent.logged", Role.AGENT)
        for _ in range(3):
            assert _me(client, agent).status_code == 200
        assert run(client, _key_uses(app)) == 3, "an interval of 0 logs every use: the cache must not hide one"


def _principal(user_id: uuid.UUID, key_id: uuid.UUID) -> Principal:
    return Principal(
        user_id=user_id,
        username="u",
        role=Role.AGENT,
        method="api_key",
        permissions=frozenset({Permission.CHAT}),
        api_key_id=key_id,
    )


def _entry(user_id: uuid.UUID, key_id: uuid.UUID) -> CachedKey:
    return CachedKey(principal=_principal(user_id, key_id), expires_at=None, logged_at=None)


def test_cache_forgets_by_key_and_by_user_and_expires(clock: Clock) -> None:
    cache = PrincipalCache(ttl_seconds=30, timer=clock)
    alice, bob = uuid.uuid4(), uuid.uuid4()
    keys = [uuid.uuid4() for _ in range(3)]
    cache.put("a1", _entry(alice, keys[0]), generation=cache.generation)
    cache.put("a2", _entry(alice, keys[1]), generation=cache.generation)
    cache.put("b1", _entry(bob, keys[2]), generation=cache.generation)
    cache.forget_key(keys[0])
    assert cache.get("a1") is None and cache.get("a2") is not None
    cache.forget_user(alice)
    assert cache.get("a2") is None and cache.get("b1") is not None
    clock.now += 30.5
    assert cache.get("b1") is None


def test_an_entry_read_before_a_revocation_is_not_put_back(clock: Clock) -> None:
    cache = PrincipalCache(ttl_seconds=30, timer=clock)
    user, key = uuid.uuid4(), uuid.uuid4()
    generation = cache.generation  # a request starts reading the key from the database…
    cache.forget_key(key)  # …the key is revoked meanwhile…
    cache.put("k", _entry(user, key), generation=generation)  # …its stale answer must not be remembered
    assert cache.get("k") is None


def test_a_zero_delay_turns_the_cache_off() -> None:
    cache = PrincipalCache(ttl_seconds=0)
    cache.put("k", _entry(uuid.uuid4(), uuid.uuid4()), generation=cache.generation)
    assert cache.get("k") is None
