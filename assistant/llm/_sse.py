"""Server-sent events read from an aiohttp response: the ``data`` of each event, as the upstream sent it.

Only what an OpenAI-compatible stream uses is kept: ``data:`` lines (several joined by a newline), comments and
other fields ignored, an event dispatched at its blank line; an event cut off by the end of the body is dropped,
as the SSE specification says (a truncated JSON chunk is not an event). Lines end with LF or CRLF; no line length
limit (a tool call or log-probabilities can make one event larger than aiohttp's line reader allows).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp

__all__ = ["NotAnEventStreamError", "iter_sse_data"]


class NotAnEventStreamError(Exception):
    """The response is not ``text/event-stream``."""


async def iter_sse_data(response: aiohttp.ClientResponse) -> AsyncIterator[str]:
    """The ``data`` of each event of ``response``, in order."""
    content_type = response.headers.get("Content-Type", "")
    if "text/event-stream" not in content_type:
        raise NotAnEventStreamError(f"type de contenu « {content_type or 'absent'} » au lieu de text/event-stream")
    pending = b""
    data: list[str] = []
    async for block in response.content.iter_any():
        pending += block
        if b"\n" not in block:
            continue
        *lines, pending = pending.split(b"\n")
        for raw in lines:
            line = raw.rstrip(b"\r")
            if not line:
                if data:
                    yield "\n".join(data)
                    data = []
            elif line.startswith(b"data:"):
                value = line[5:]
                data.append((value[1:] if value.startswith(b" ") else value).decode("utf-8", "replace"))
