"""The only span attributes Souverain ever sets: a closed list of names, each holding a number or a short label.

Traces leave the service (an OTLP collector, often run by another team), so what they may carry is decided
here, once: identifiers, routes, model and job names, counts and durations. Prompt, answer, document or
transcript text, user names, emails and keys have no attribute name to go under, and a value that is not a
number or a bool is cut to a short label, so that even a mistake in a caller cannot ship a paragraph.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

__all__ = ["ALLOWED_ATTRIBUTES", "AttributeValue", "safe_attributes"]

logger = logging.getLogger(__name__)

AttributeValue = str | bool | int | float

ALLOWED_ATTRIBUTES = frozenset(
    {
        # The HTTP request (server span) and the upstream call (client span), OpenTelemetry semantic conventions.
        "http.request.method",
        "http.route",
        "http.response.status_code",
        "url.full",
        "server.address",
        "server.port",
        "error.type",
        # The request id the service gives every request (X-Request-ID), to go from a trace to the logs.
        "souverain.request_id",
        # The gateway: which (upstream) model, on which backend and replica, at which priority, at what cost.
        "souverain.backend.kind",
        "souverain.replica",
        "souverain.priority",
        "souverain.outcome",
        "souverain.time_to_first_token_ms",
        "gen_ai.request.model",
        "gen_ai.usage.input_tokens",
        "gen_ai.usage.output_tokens",
        # Background jobs.
        "souverain.job.id",
        "souverain.job.kind",
        "souverain.job.attempt",
    }
)

# Long enough for a URL without its query or a job kind, far too short for a passage of text.
_MAX_LABEL = 200


def safe_attributes(attributes: Mapping[str, AttributeValue | None]) -> dict[str, AttributeValue]:
    """The attributes a span may carry: allowed names only, ``None`` dropped, labels cut to 200 characters."""
    safe: dict[str, AttributeValue] = {}
    for name, value in attributes.items():
        if value is None:
            continue
        if name not in ALLOWED_ATTRIBUTES:
            # A programming error, never user input: dropped rather than failing the request it describes.
            logger.warning("span attribute %r is not in the allowed list; dropped", name)
            continue
        safe[name] = value if isinstance(value, bool | int | float) else str(value)[:_MAX_LABEL]
    return safe
