"""The server span of one HTTP request: method, route template, status and the service's request id."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assistant.telemetry._provider import Tracing

__all__ = ["ServerSpan", "server_span"]

# The only request headers read: the caller's W3C trace context (an ingress or a client that traces).
_PROPAGATED = (b"traceparent", b"tracestate")


@dataclass
class ServerSpan:
    """What the middleware learns while the request runs; written on the span when it ends."""

    route: str | None = None
    status: int | None = None


@contextmanager
def server_span(
    tracing: Tracing, *, method: str, headers: Iterable[tuple[bytes, bytes]], request_id: str | None
) -> Iterator[ServerSpan]:
    """A server span around the block, current inside it, child of the caller's ``traceparent`` if it sent one.

    The span is named ``METHOD /route/{template}`` (never the raw path: ids in paths are not for traces) and marked
    as an error for a 5xx or an exception.
    """
    parent = {name.decode("latin-1"): value.decode("latin-1") for name, value in headers if name in _PROPAGATED}
    span = tracing.start_span(
        method,
        kind="server",
        attributes={"http.request.method": method, "souverain.request_id": request_id},
        parent=parent,
    )
    handle = ServerSpan()
    try:
        with tracing.use(span):
            yield handle
    except Exception:
        handle.status = 500 if handle.status is None else handle.status
        raise
    finally:
        tracing.annotate(span, {"http.route": handle.route, "http.response.status_code": handle.status})
        failed = handle.status is not None and handle.status >= 500
        name = f"{method} {handle.route}" if handle.route else method
        tracing.finish(span, error=str(handle.status) if failed else None, name=name)
