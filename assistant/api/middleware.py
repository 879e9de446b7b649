"""ASGI middleware: request id, Prometheus metrics and security headers (pure ASGI, so streams pass untouched)."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant.core.context import request_id_var
from assistant.telemetry import server_span

if TYPE_CHECKING:
    from assistant.telemetry import Tracing

__all__ = ["HttpMetrics", "RequestContextMiddleware", "SecurityHeadersMiddleware", "TracingMiddleware"]

_INCOMING_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class HttpMetrics:
    """Request counters and latency histograms, on a registry owned by one app (no global state)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "souverain_http_requests",
            "HTTP requests served",
            ["method", "route", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "souverain_http_request_duration_seconds",
            "Time to the end of the response",
            ["method", "route"],
            registry=registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
        )


class RequestContextMiddleware:
    """Gives every request an id (kept from a sane ``X-Request-ID`` header), echoes it, and measures it."""

    def __init__(self, app: ASGIApp, *, metrics: HttpMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_request_id(scope) or uuid.uuid4().hex
        started = time.perf_counter()
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        state["started"] = started
        token = request_id_var.set(request_id)
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                if not any(name.lower() == b"x-request-id" for name, _ in headers):
                    headers.append((b"x-request-id", request_id.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            route = _route_template(scope)
            self.metrics.requests.labels(scope["method"], route, str(status)).inc()
            self.metrics.latency.labels(scope["method"], route).observe(time.perf_counter() - started)
            request_id_var.reset(token)


class TracingMiddleware:
    """The server span of each request (installed only with telemetry on), inside :class:`RequestContextMiddleware`
    so that it carries the request's id; everything the request runs below it is traced as its children."""

    def __init__(self, app: ASGIApp, *, tracing: Callable[[], Tracing | None]) -> None:
        self.app = app
        # Read per request: the tracer opens in the lifespan, after the middleware stack is built.
        self.tracing = tracing

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        tracing = self.tracing() if scope["type"] == "http" else None
        if tracing is None:
            await self.app(scope, receive, send)
            return
        request_id = scope.get("state", {}).get("request_id")
        with server_span(tracing, method=scope["method"], headers=scope["headers"], request_id=request_id) as span:

            async def send_with_status(message: Message) -> None:
                if message["type"] == "http.response.start":
                    span.status = message["status"]
                await send(message)

            try:
                await self.app(scope, receive, send_with_status)
            finally:
                span.route = _route_template(scope)


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            candidate = value.decode("latin-1")
            return candidate if _INCOMING_ID.match(candidate) else None
    return None


def _route_template(scope: Scope) -> str:
    # The template, not the raw path, keeps label cardinality bounded (ids in paths).
    route: Any = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"


# API answers are data, never documents to render: a CSP that allows nothing keeps a browser from running
# anything in one (a JSON body full of user text opened directly in a tab). Web pages set their own, richer CSP.
_API_CSP = b"default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
_HSTS = b"max-age=63072000; includeSubDomains"


class SecurityHeadersMiddleware:
    """Adds the headers every response needs, without overriding those a route chose itself.

    ``X-Content-Type-Options``, ``Referrer-Policy`` and ``X-Frame-Options`` everywhere; a deny-all CSP on
    non-HTML responses; HSTS when the request came over TLS (directly, or per the proxy's
    ``X-Forwarded-Proto`` that uvicorn's ``proxy_headers`` turns into the scheme) or in production, where
    TLS terminates in front of us by definition.
    """

    def __init__(self, app: ASGIApp, *, always_hsts: bool = False) -> None:
        self.app = app
        self.always_hsts = always_hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        hsts = self.always_hsts or scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                content_type = next((value for name, value in headers if name.lower() == b"content-type"), b"")
                wanted = [
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"same-origin"),
                    (b"x-frame-options", b"DENY"),
                    (b"cross-origin-opener-policy", b"same-origin"),
                ]
                if not content_type.startswith(b"text/html"):
                    wanted.append((b"content-security-policy", _API_CSP))
                if hsts:
                    wanted.append((b"strict-transport-security", _HSTS))
                headers.extend((name, value) for name, value in wanted if name not in present)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
