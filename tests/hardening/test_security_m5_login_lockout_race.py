"""M5 — the login lockout holds under concurrent guesses, and argon2 runs off the event loop.

Before: each attempt read the failure counter, checked the password, then incremented: guesses sent at once all
read the same count and were all checked. Now each attempt takes its number atomically before the check.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from assistant.app import create_app
from assistant.security import passwords
from assistant.store.models import Role
from tests.factories import PASSWORD, make_account, runtime_of

GUESSES = 12
MAX_FAILURES = 3


@pytest.fixture
def app(settings_factory) -> FastAPI:  # type: ignore[no-untyped-def]
    return create_app(settings_factory(login_max_failures_per_account=MAX_FAILURES, login_lockout_seconds=600))


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def test_concurrent_guesses_get_no_more_tries_than_the_lockout_allows(
    client: TestClient, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_account(client, app, "agent.cible", Role.AGENT)
    # Counters count in windows aligned on the epoch: pin the clock mid-window, or a run that straddles a
    # window's end sees the last attempt counted in a fresh window.
    runtime_of(app).counters._now = lambda: 1_800_000_300.0
    # Every guess waits inside the password check until all have started: the widest possible race.
    barrier = threading.Barrier(GUESSES, timeout=2)
    checked = []
    real_verify = passwords.verify_password

    def slow_verify(password_hash: str, password: str) -> bool:
        checked.append(password)
        with contextlib.suppress(threading.BrokenBarrierError):  # fewer got this far: what the fix ensures
            barrier.wait()
        return real_verify(password_hash, password)

    monkeypatch.setattr("assistant.services.identity.login.verify_password", slow_verify)

    def guess(n: int) -> int:
        body = {"username": "agent.cible", "password": f"essai-numero-{n}"}
        return client.post("/api/auth/login", json=body).status_code

    with ThreadPoolExecutor(max_workers=GUESSES) as pool:
        statuses = sorted(pool.map(guess, range(GUESSES)))
    assert len(checked) == MAX_FAILURES, f"{len(checked)} passwords checked, {MAX_FAILURES} allowed"
    assert statuses == [401] * MAX_FAILURES + [429] * (GUESSES - MAX_FAILURES)
    # Even the right password waits for the end of the window now.
    assert client.post("/api/auth/login", json={"username": "agent.cible", "password": PASSWORD}).status_code == 429


def test_the_password_check_does_not_hold_the_event_loop(
    client: TestClient, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_account(client, app, "agent.lent", Role.AGENT)
    started, release = threading.Event(), threading.Event()
    real_verify = passwords.verify_password

    def held_verify(password_hash: str, password: str) -> bool:
        started.set()
        release.wait(timeout=30)
        return real_verify(password_hash, password)

    monkeypatch.setattr("assistant.services.identity.login.verify_password", held_verify)
    with ThreadPoolExecutor(max_workers=2) as pool:
        login = pool.submit(client.post, "/api/auth/login", json={"username": "agent.lent", "password": PASSWORD})
        assert started.wait(timeout=30)
        # While a sign-in is being checked, another request is served (with the loop held, it would wait 30 s).
        probe = pool.submit(client.get, "/healthz")
        try:
            assert probe.result(timeout=10).status_code == 200
            assert not login.done()
        finally:
            release.set()
        assert login.result(timeout=30).status_code == 200
