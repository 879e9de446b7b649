"""A real JWKS/OpenID-configuration server on 127.0.0.1, in a thread, with keys generated per test."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey


class IdentityProvider:
    """Publishes ``keys`` at /jwks and signs tokens; ``down`` makes it answer 503, ``slow`` makes it hang."""

    def __init__(self) -> None:
        self.keys: list[RSAKey | ECKey] = [
            RSAKey.generate_key(2048, parameters={"kid": "rsa-1", "use": "sig"}),
            ECKey.generate_key("P-256", parameters={"kid": "ec-1", "use": "sig"}),
        ]
        self.down = False
        self.slow = 0.0
        self.jwks_requests = 0
        self.issuer = ""
        self.audience = "souverain"

    def jwks(self) -> dict[str, Any]:
        return {"keys": [key.as_dict(private=False) for key in self.keys]}

    def key(self, kid: str) -> RSAKey | ECKey:
        return next(key for key in self.keys if key.kid == kid)

    def token(
        self, *, kid: str = "rsa-1", alg: str = "RS256", key: Any = None, lifetime: int = 300, **claims: Any
    ) -> str:
        now = int(time.time())
        payload = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": "sub-marie",
            "iat": now,
            "nbf": now,
            "exp": now + lifetime,
            "preferred_username": "marie.curie",
            "email": "marie.curie@example.gouv.fr",
            "name": "Marie Curie",
        }
        payload.update(claims)
        header = {"alg": alg, "kid": kid}
        return jwt.encode(header, payload, key or self.key(kid), algorithms=[alg])


@contextmanager
def serve_identity_provider() -> Iterator[IdentityProvider]:
    provider = IdentityProvider()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if provider.slow:
                time.sleep(provider.slow)
            if provider.down:
                self.send_response(503)
                self.end_headers()
                return
            if self.path == "/jwks":
                provider.jwks_requests += 1
                body = provider.jwks()
            elif self.path == "/.well-known/openid-configuration":
                body = {"issuer": provider.issuer, "jwks_uri": provider.issuer + "/jwks"}
            else:
                self.send_response(404)
                self.end_headers()
                return
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    provider.issuer = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
