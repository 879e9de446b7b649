"""M1 — behind the ingress, clients are told apart by X-Forwarded-For, believed from trusted proxies only.

Before: the proxy's header was believed from 127.0.0.1 alone, so behind an ingress every client had the
ingress's address: one person's wrong passwords locked everyone out (the per-IP lockout became global) and the
audit log's addresses were all the same. And a client reaching the pod directly could not be allowed to forge it.
"""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from assistant.app import create_app
from assistant.errors import ConfigurationError
from assistant.services.governance.audit_log import search_events
from tests.factories import run, runtime_of

INGRESS = ("10.42.0.7", 44321)
OUTSIDER = ("198.51.100.9", 50000)


@pytest.fixture
def app(settings_factory) -> FastAPI:  # type: ignore[no-untyped-def]
    return create_app(
        settings_factory(trusted_proxies="10.42.0.0/16", login_max_failures_per_ip=3, login_lockout_seconds=600)
    )


def _login(client: TestClient, name: str, forwarded_for: str | None = None) -> int:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    body = {"username": name, "password": "pas-le-bon-mot-de-passe"}
    return client.post("/api/auth/login", json=body, headers=headers).status_code


def test_the_lockout_is_per_real_client_behind_the_ingress(app: FastAPI) -> None:
    with TestClient(app, client=INGRESS, raise_server_exceptions=False) as client:
        # One client guesses through the ingress until its address is locked...
        assert [_login(client, f"compte.{n}", "203.0.113.5") for n in range(4)] == [401, 401, 401, 429]
        # ...another client through the same ingress is not.
        assert _login(client, "compte.autre", "192.0.2.44") == 401
        events = run(client, search_events(runtime_of(app), action_prefix="login"))
        addresses = {event.ip for event in events}
        assert addresses == {"203.0.113.5", "192.0.2.44"}, "the audit log names the real clients"


def test_a_client_outside_the_trusted_proxies_cannot_forge_its_address(app: FastAPI) -> None:
    with TestClient(app, client=OUTSIDER, raise_server_exceptions=False) as client:
        statuses = [_login(client, f"compte.{n}", f"192.0.2.{n}") for n in range(4)]
        assert statuses == [401, 401, 401, 429], "a new forged address each time does not escape the lockout"
        events = run(client, search_events(runtime_of(app), action_prefix="login"))
        assert {event.ip for event in events} == {OUTSIDER[0]}


def test_the_setting_refuses_what_is_not_an_address(settings_factory) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigurationError, match="neither an IP address nor a network"):
        settings_factory(trusted_proxies="10.0.0.0/8,ingress-nginx")
    assert settings_factory(trusted_proxies=" 10.0.0.0/8 , ::1 ").trusted_proxies == "10.0.0.0/8,::1"
