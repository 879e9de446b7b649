"""The application factory: the JSON API (``assistant.api``) and the web pages (``assistant.web``) mounted on one
FastAPI app, with the runtime opened in its lifespan. It sits above both so neither imports the other's assembly."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from fastapi import FastAPI
from prometheus_client import CollectorRegistry
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from assistant import __version__
from assistant.api.body_limits import BodyLimitMiddleware, BodyLimits
from assistant.api.errors import install_error_handlers
from assistant.api.llm_metrics import ReplicaCollector
from assistant.api.middleware import HttpMetrics, RequestContextMiddleware, SecurityHeadersMiddleware, TracingMiddleware
from assistant.api.routes import (
    admin,
    audit,
    auth,
    batches,
    charter,
    collections,
    comparisons,
    conversations,
    docs,
    documents,
    files,
    glossary,
    governance,
    health,
    incidents,
    live_transcriptions,
    me,
    openai,
    projects,
    prompts,
    provenance,
    search,
    shares,
    sources,
    tasks,
    transcriptions,
    usage,
)
from assistant.api.schema import install_openapi
from assistant.core.config import Settings, get_settings
from assistant.core.logging import configure_logging
from assistant.llm import ModelRegistry
from assistant.runtime import open_runtime
from assistant.services.governance.retention import retention_schedule
from assistant.services.knowledge.source_sync import sync_schedule
from assistant.telemetry import open_tracing
from assistant.web import install_web

if TYPE_CHECKING:
    from opentelemetry.sdk.trace.export import SpanExporter

__all__ = ["create_app"]


def _models_of(app: FastAPI) -> ModelRegistry | None:
    """The running registry, once the lifespan opened the runtime (scrapes before start-up see none)."""
    runtime = getattr(app.state, "runtime", None)
    return runtime.models if runtime is not None else None


def create_app(settings: Settings | None = None, *, span_exporter: SpanExporter | None = None) -> FastAPI:
    """Build the service. Resources open in the lifespan, so building the app itself is cheap and side-effect free.

    ``span_exporter`` replaces the OTLP exporter when telemetry is on (tests collect spans in memory).
    """
    settings = settings or get_settings()
    configure_logging(level=settings.log_level, fmt=settings.log_format)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with (
            open_tracing(settings, exporter=span_exporter) as tracing,
            open_runtime(
                settings, with_worker=settings.run_worker_in_process, start_models=True, tracing=tracing
            ) as runtime,
        ):
            app.state.tracing = tracing
            app.state.runtime = runtime
            if settings.run_worker_in_process:
                async with retention_schedule(runtime), sync_schedule(runtime):
                    yield
            else:
                yield

    app = FastAPI(
        title="Souverain",
        summary="Assistant IA souverain pour les agents publics",
        version=__version__,
        lifespan=lifespan,
        # Served by routes.docs instead, so that they declare a policy like every other route.
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        # FastAPI's own OpenTelemetry support stays off (even with FASTAPI_OTEL_AUTO_CONFIGURE): it would record
        # exception messages and bodies; our spans (assistant.telemetry) carry only a closed list of attributes.
        telemetry={"tracing": False, "metrics": False, "logs": False, "auto_configure": False},
    )
    registry = CollectorRegistry()
    app.state.metrics_registry = registry
    registry.register(
        ReplicaCollector(lambda: runtime.models if (runtime := getattr(app.state, "runtime", None)) else None)
    )
    # Innermost of the three: a refused body still gets a request id, metrics and the security headers.
    app.add_middleware(BodyLimitMiddleware, limits=BodyLimits(settings))
    if settings.otel_enabled:  # not installed at all when off: the request path pays nothing
        app.add_middleware(TracingMiddleware, tracing=lambda: getattr(app.state, "tracing", None))
    app.add_middleware(RequestContextMiddleware, metrics=HttpMetrics(registry))
    app.add_middleware(SecurityHeadersMiddleware, always_hsts=settings.environment == "production")
    # Outermost: everything inside (lockouts, rate limits, the audit log, HSTS) sees the real client and scheme,
    # taken from X-Forwarded-* only when the connection comes from a trusted proxy.
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    install_error_handlers(app)
    routers = (
        health.router,
        docs.router,
        auth.router,
        me.router,
        usage.router,
        admin.router,
        audit.router,
        incidents.router,
        governance.router,
        charter.router,
        openai.router,
        files.router,
        batches.router,
        conversations.router,
        projects.router,
        shares.router,
        prompts.router,
        comparisons.router,
        comparisons.governance_router,
        tasks.router,
        provenance.router,
        collections.router,
        documents.router,
        search.router,
        sources.router,
        glossary.router,
        transcriptions.router,
        live_transcriptions.router,
    )
    for router in routers:
        app.include_router(router)
    install_web(app, settings)
    install_openapi(app)
    return app
