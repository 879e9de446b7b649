"""The OpenTelemetry side of the package: a tracer provider of our own, its exporter, and span primitives.

Imported only when ``SOUVERAIN_OTEL_ENABLED`` is true (by :func:`assistant.telemetry.open_tracing`): with
telemetry off the OpenTelemetry packages are never loaded. The provider is an object passed around, never
installed as OpenTelemetry's global one, so two apps in one process (the tests) keep their spans apart and
nothing another library does with the global provider reaches our exporter.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Literal

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from assistant import __version__
from assistant.telemetry._attributes import AttributeValue, safe_attributes
from assistant.telemetry._context import tracing_scope

__all__ = ["SpanKindName", "Tracing", "otlp_exporter"]

logger = logging.getLogger(__name__)

SpanKindName = Literal["server", "client", "internal", "consumer"]
_KINDS: dict[SpanKindName, SpanKind] = {
    "server": SpanKind.SERVER,
    "client": SpanKind.CLIENT,
    "internal": SpanKind.INTERNAL,
    "consumer": SpanKind.CONSUMER,
}


def otlp_exporter(endpoint: str, *, timeout_seconds: float = 10.0) -> SpanExporter:
    """OTLP over HTTP/protobuf to ``endpoint`` (the collector's base URL; ``/v1/traces`` is added)."""
    url = endpoint.rstrip("/")
    if not url.endswith("/v1/traces"):
        url += "/v1/traces"
    return OTLPSpanExporter(endpoint=url, timeout=timeout_seconds)


class Tracing:
    """One process's tracer: spans go through ``exporter`` (batched for a network exporter).

    Usage::

        tracing = Tracing(exporter=otlp_exporter("http://collector:4318"), service_name="souverain")
        span = tracing.start_span("job", kind="consumer", attributes={"souverain.job.kind": "documents.ingest"})
        with tracing.use(span):
            ...  # spans started here are its children; code below finds ``tracing`` as the current tracer
        tracing.finish(span)
        tracing.shutdown()  # flushes what is still queued
    """

    def __init__(
        self,
        *,
        exporter: SpanExporter,
        service_name: str,
        sampling_ratio: float = 1.0,
        batch: bool = True,
    ) -> None:
        # Resource(...) rather than Resource.create(): the latter reads OTEL_* variables, and our configuration
        # comes from Settings only.
        resource = Resource({"service.name": service_name, "service.version": __version__})
        # Parent-based: a request whose caller sampled it is kept whole; our own roots follow the ratio.
        # No exit hook: the owner shuts the provider down (flushing), and tests build many of them.
        self._provider = TracerProvider(
            resource=resource,
            sampler=ParentBased(TraceIdRatioBased(sampling_ratio)),
            shutdown_on_exit=False,
        )
        processor = BatchSpanProcessor(exporter) if batch else SimpleSpanProcessor(exporter)
        self._provider.add_span_processor(processor)
        self._tracer = self._provider.get_tracer("souverain", __version__)
        self._propagator = TraceContextTextMapPropagator()

    def start_span(
        self,
        name: str,
        *,
        kind: SpanKindName,
        attributes: Mapping[str, AttributeValue | None],
        parent: Mapping[str, str] | None = None,
    ) -> Span:
        """A started span, child of ``parent`` (W3C trace-context headers) or, when None, of the current span.

        Exceptions are never recorded on their own: their messages may quote what a user wrote.
        """
        context = self._propagator.extract(dict(parent)) if parent is not None else None
        return self._tracer.start_span(
            name,
            context=context,
            kind=_KINDS[kind],
            attributes=safe_attributes(attributes),
            record_exception=False,
            set_status_on_exception=False,
        )

    @contextmanager
    def use(self, span: Span) -> Iterator[None]:
        """Make ``span`` the current span, and this tracer the current tracer, for the block."""
        with (
            trace.use_span(span, end_on_exit=False, record_exception=False, set_status_on_exception=False),
            tracing_scope(self),
        ):
            yield

    def carrier(self, span: Span | None = None) -> dict[str, str]:
        """W3C ``traceparent`` (and ``tracestate``) of ``span``, or of the current span: what goes to vLLM or a job."""
        headers: dict[str, str] = {}
        context = trace.set_span_in_context(span) if span is not None else None
        self._propagator.inject(headers, context=context)
        return headers

    def annotate(self, span: Span, attributes: Mapping[str, AttributeValue | None]) -> None:
        """Add attributes (through the allowed list) to a running span."""
        span.set_attributes(safe_attributes(attributes))

    def finish(self, span: Span, *, error: str | None = None, name: str | None = None) -> None:
        """End ``span``; ``error`` is a stable code (``upstream_timeout``), never a message."""
        if name is not None:
            span.update_name(name)
        if error is not None:
            span.set_attributes(safe_attributes({"error.type": error}))
            span.set_status(Status(StatusCode.ERROR, error))
        span.end()

    def force_flush(self, timeout_seconds: float = 10.0) -> bool:
        """Export what is queued now; False when the exporter did not finish in time."""
        return self._provider.force_flush(int(timeout_seconds * 1000))

    def shutdown(self) -> None:
        """Flush and stop the exporter; spans ended afterwards are dropped."""
        self._provider.shutdown()
