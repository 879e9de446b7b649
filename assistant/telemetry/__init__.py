"""OpenTelemetry traces (off by default): API request → gateway → model server, and background jobs.

Turned on by ``SOUVERAIN_OTEL_ENABLED``; spans go to an OTLP/HTTP collector. With telemetry off, OpenTelemetry
is never imported and every helper here returns at once. What spans may carry is a closed list of attribute
names (:data:`ALLOWED_ATTRIBUTES`): ids, routes, model and job names, counts, durations, error codes; never the
text of a prompt, an answer, a document or a transcript, nor user names, emails or keys.
"""

from typing import TYPE_CHECKING

from assistant.telemetry._attributes import ALLOWED_ATTRIBUTES, safe_attributes
from assistant.telemetry._context import current_tracing, tracing_scope
from assistant.telemetry._generation import error_code, note_replica, trace_stream
from assistant.telemetry._jobs import JobSpan, job_span, job_trace_context, note_job
from assistant.telemetry._server import ServerSpan, server_span
from assistant.telemetry._setup import open_tracing
from assistant.telemetry._upstream import UpstreamCall, upstream_call

if TYPE_CHECKING:
    from assistant.telemetry._provider import Tracing

__all__ = [
    "ALLOWED_ATTRIBUTES",
    "JobSpan",
    "ServerSpan",
    "Tracing",
    "UpstreamCall",
    "current_tracing",
    "error_code",
    "job_span",
    "job_trace_context",
    "note_job",
    "note_replica",
    "open_tracing",
    "safe_attributes",
    "server_span",
    "trace_stream",
    "tracing_scope",
    "upstream_call",
]


def __getattr__(name: str) -> object:
    # Tracing needs OpenTelemetry: loaded on first use, so that importing this package never loads it.
    if name == "Tracing":
        from assistant.telemetry._provider import Tracing

        return Tracing
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
