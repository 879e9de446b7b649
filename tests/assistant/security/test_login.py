"""Local sign-in: session cookie flags, CSRF on cookie-authenticated writes, logout, lockout, connection log."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from assistant.app import create_app
from assistant.services.governance.audit_log import search_events
from assistant.store.models import Role
from tests.factories import PASSWORD, make_account, run, runtime_of


@pytest.fixture
def app(settings_factory) -> FastAPI:  # type: ignore[no-untyped-def]
    return create_app(settings_factory(login_max_failures_per_account=3, login_lockout_seconds=600))


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def _events(client: TestClient, app: FastAPI, action: str) -> list[tuple[str, str, dict[str, object]]]:
    events = run(client, search_events(runtime_of(app), action_prefix=action))
    return [(event.outcome, event.actor_label or "", event.details) for event in events]


def test_login_sets_a_hardened_cookie_and_csrf_guards_writes(client: TestClient, app: FastAPI) -> None:
    make_account(client, app, "agent.one", Role.AGENT)
    response = client.post(
        "/api/auth/login", json={"username": "agent.one", "password": PASSWORD}, headers={"User-Agent": "tests/1"}
    )
    assert response.status_code == 200, response.text
    cookie = next(value for value in response.headers.get_list("set-cookie") if value.startswith("souverain_session="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    csrf = response.json()["csrf_token"]
    assert client.get("/api/me").json()["auth_method"] == "session"

    refused = client.post("/api/me/keys", json={"name": "k", "scopes": ["chat"]})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "csrf_failed"
    wrong = client.post("/api/me/keys", json={"name": "k", "scopes": ["chat"]}, headers={"X-CSRF-Token": "x" * 43})
    assert wrong.status_code == 403
    created = client.post("/api/me/keys", json={"name": "k", "scopes": ["chat"]}, headers={"X-CSRF-Token": csrf})
    assert created.status_code == 201 and created.json()["key"].startswith("sk-souv-")

    assert client.post("/api/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    assert client.get("/api/me").status_code == 401
    assert [outcome for outcome, _, _ in _events(client, app, "logout")] == ["success"]
    login = _events(client, app, "login")
    assert login[0][0] == "success" and login[0][2] == {"method": "password"}


def test_secure_cookie_in_production_style_https(client: TestClient, app: FastAPI) -> None:
    make_account(client, app, "agent.two", Role.AGENT)
    https = TestClient(app, base_url="https://souverain.example", raise_server_exceptions=False)
    response = https.post("/api/auth/login", json={"username": "agent.two", "password": PASSWORD})
    assert response.status_code == 200
    assert all("Secure" in value for value in response.headers.get_list("set-cookie"))


def test_forged_session_cookie_is_refused(client: TestClient) -> None:
    client.cookies.set("souverain_session", "forged.value.sig")
    response = client.get("/api/me")
    assert response.status_code == 401 and response.json()["error"]["code"] == "session_invalid"


def test_lockout_after_repeated_failures_even_with_the_right_password(client: TestClient, app: FastAPI) -> None:
    make_account(client, app, "agent.three", Role.AGENT)
    for _ in range(3):
        bad = client.post("/api/auth/login", json={"username": "agent.three", "password": "wrong-password!"})
        assert bad.status_code == 401 and bad.json()["error"]["message"] == "Identifiant ou mot de passe incorrect."
    locked = client.post("/api/auth/login", json={"username": "agent.three", "password": PASSWORD})
    assert locked.status_code == 429
    assert 0 < int(locked.headers["Retry-After"]) <= 600
    assert locked.json()["error"]["code"] == "login_locked"
    # Another account from the same address is not locked (the per-IP limit is higher).
    make_account(client, app, "agent.four", Role.AGENT)
    assert client.post("/api/auth/login", json={"username": "agent.four", "password": PASSWORD}).status_code == 200
    assert [outcome for outcome, _, _ in _events(client, app, "lockout")] == ["failure"]
    reasons = [details.get("reason") for _, label, details in _events(client, app, "login") if label == "agent.three"]
    assert reasons == ["locked", "bad_password", "bad_password", "bad_password"]
    assert all("wrong-password" not in str(details) for _, _, details in _events(client, app, ""))


def test_unknown_user_and_disabled_account(client: TestClient, app: FastAPI) -> None:
    ghost = client.post("/api/auth/login", json={"username": "nobody", "password": PASSWORD})
    assert ghost.status_code == 401
    referent = make_account(client, app, "ref.one", Role.REFERENT)
    agent = make_account(client, app, "agent.five", Role.AGENT)
    assert client.post("/api/auth/login", json={"username": "agent.five", "password": PASSWORD}).status_code == 200
    disabled = client.patch(f"/api/admin/users/{agent.id}", json={"is_active": False}, headers=referent.bearer)
    assert disabled.status_code == 200 and disabled.json()["is_active"] is False
    assert client.get("/api/me").status_code == 401, "the session ended with the account"
    relogin = client.post("/api/auth/login", json={"username": "agent.five", "password": PASSWORD})
    assert relogin.status_code == 401 and relogin.json()["error"]["code"] == "account_disabled"
    by_key = client.get("/api/me", headers=agent.bearer)
    assert by_key.status_code == 401 and by_key.json()["error"]["code"] == "account_disabled"
