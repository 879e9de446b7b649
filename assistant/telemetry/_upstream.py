"""The client span of a call to a model server, and the W3C ``traceparent`` header that carries it to vLLM.

Usage, in a backend::

    with upstream_call("POST", url) as call:
        response = await client.send(client.build_request("POST", url, json=body, headers=call.headers))
        call.responded(response.status_code)

With telemetry off, ``call`` is a shared object whose methods do nothing and whose ``headers`` are empty.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from assistant.telemetry._context import current_tracing
from assistant.telemetry._generation import error_code

if TYPE_CHECKING:
    from opentelemetry.trace import Span

    from assistant.telemetry._provider import Tracing

__all__ = ["UpstreamCall", "upstream_call"]


class UpstreamCall:
    """A call in progress: the headers to send with it, and what to record of its answer."""

    headers: dict[str, str]

    def __init__(self, tracing: Tracing | None = None, span: Span | None = None) -> None:
        self._tracing = tracing
        self._span = span
        self.headers = tracing.carrier(span) if tracing is not None and span is not None else {}

    def responded(self, status_code: int) -> None:
        """The status line came back."""
        if self._tracing is not None and self._span is not None:
            self._tracing.annotate(self._span, {"http.response.status_code": status_code})


_OFF = UpstreamCall()
# Reused for every call with telemetry off: no generator-based context manager to build (a microsecond each).
_OFF_CONTEXT = nullcontext(_OFF)


def upstream_call(method: str, url: str) -> AbstractContextManager[UpstreamCall]:
    """A client span around the block, child of the current span (the gateway's); see the module docstring.

    ``url`` is the URL without credentials (a backend's ``display_url``); its query, if any, is not kept.
    """
    tracing = current_tracing()
    if tracing is None:
        return _OFF_CONTEXT
    return _traced_call(tracing, method, url)


@contextmanager
def _traced_call(tracing: Tracing, method: str, url: str) -> Iterator[UpstreamCall]:
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    span = tracing.start_span(
        f"{method} {parts.path or '/'}",
        kind="client",
        attributes={
            "http.request.method": method,
            # Rebuilt from host and port: user:password@ in a configured URL never reaches a trace.
            "url.full": f"{parts.scheme}://{parts.hostname}{port}{parts.path}",
            "server.address": parts.hostname,
            "server.port": parts.port,
        },
    )
    error = None
    try:
        yield UpstreamCall(tracing, span)
    except Exception as exc:  # a consumer closing the stream early (GeneratorExit) is no upstream error
        error = error_code(exc)
        raise
    finally:
        tracing.finish(span, error=error)
