"""Opening and closing a process's tracer from the settings: off by default, at no cost when off."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from assistant.errors import ConfigurationError

if TYPE_CHECKING:
    from opentelemetry.sdk.trace.export import SpanExporter

    from assistant.core.config import Settings
    from assistant.telemetry._provider import Tracing

__all__ = ["open_tracing"]

logger = logging.getLogger(__name__)


@asynccontextmanager
async def open_tracing(settings: Settings, *, exporter: SpanExporter | None = None) -> AsyncIterator[Tracing | None]:
    """The process's tracer for the block, flushed and shut down at its end; None when telemetry is off.

    Spans go to the OTLP/HTTP collector of ``settings.otel_endpoint``, batched off the request path, unless an
    ``exporter`` is given (tests collect them in memory; it then exports each span as it ends).
    """
    if not settings.otel_enabled:
        yield None
        return
    # Imported here, not at the top: with telemetry off, OpenTelemetry is never loaded.
    try:
        from assistant.telemetry._provider import Tracing, otlp_exporter
    except ImportError as exc:
        raise ConfigurationError(
            "SOUVERAIN_OTEL_ENABLED=true demande les paquets OpenTelemetry : installez l'extra « telemetry » "
            f"(pip install 'souverain[telemetry]') ou désactivez les traces ({exc})."
        ) from exc

    tracing = Tracing(
        exporter=exporter or otlp_exporter(settings.otel_endpoint),
        service_name=settings.otel_service_name,
        sampling_ratio=settings.otel_sampling_ratio,
        batch=exporter is None,
    )
    logger.info(
        "OpenTelemetry traces on: service %s, sampling %.0f %%, to %s",
        settings.otel_service_name,
        settings.otel_sampling_ratio * 100,
        "a local exporter" if exporter is not None else settings.otel_endpoint,
    )
    try:
        yield tracing
    finally:
        # The last batch goes out over the network (bounded by the exporter's timeout): off the event loop.
        await asyncio.to_thread(tracing.shutdown)
