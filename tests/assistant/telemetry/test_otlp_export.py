"""Spans reach a real OTLP/HTTP collector: a tiny server on 127.0.0.1 that decodes the protobuf it receives."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fastapi.testclient import TestClient
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from assistant.app import create_app


@dataclass
class _Received:
    paths: list[str] = field(default_factory=list)
    content_types: list[str] = field(default_factory=list)
    requests: list[ExportTraceServiceRequest] = field(default_factory=list)


@pytest.fixture
def collector() -> Iterator[tuple[str, _Received]]:
    received = _Received()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.paths.append(self.path)
            received.content_types.append(self.headers.get("Content-Type", ""))
            received.requests.append(ExportTraceServiceRequest.FromString(body))  # fails the test if undecodable
            answer = ExportTraceServiceResponse().SerializeToString()
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.timeout = 5
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_spans_are_exported_over_otlp_http_protobuf_and_flushed_at_shutdown(
    settings_factory, collector: tuple[str, _Received], monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    url, received = collector
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")  # the exporter's HTTP client honours proxy variables
    settings = settings_factory(otel_enabled=True, otel_endpoint=url, otel_service_name="souverain-essai")
    with TestClient(create_app(settings)) as client:
        response = client.get("/healthz", headers={"x-request-id": "export-1"})
        assert response.status_code == 200
    # Leaving the lifespan shut the provider down, which flushed the batch.
    assert received.paths and set(received.paths) == {"/v1/traces"}
    assert set(received.content_types) == {"application/x-protobuf"}
    spans = [
        (resource_spans.resource, span)
        for request in received.requests
        for resource_spans in request.resource_spans
        for scope_spans in resource_spans.scope_spans
        for span in scope_spans.spans
    ]
    served = [(resource, span) for resource, span in spans if span.name == "GET /healthz"]
    assert len(served) == 1
    resource, span = served[0]
    resource_attributes = {a.key: a.value.string_value for a in resource.attributes}
    assert resource_attributes["service.name"] == "souverain-essai"
    attributes = {a.key: a.value for a in span.attributes}
    assert attributes["souverain.request_id"].string_value == "export-1"
    assert attributes["http.response.status_code"].int_value == 200
    assert len(span.trace_id) == 16 and len(span.span_id) == 8
