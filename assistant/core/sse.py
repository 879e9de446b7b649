"""Server-sent events as the service writes them: one named event with a JSON payload (French kept as is)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

__all__ = ["sse_event"]


def sse_event(name: str, payload: Mapping[str, Any]) -> str:
    """``event: <name>`` and one ``data:`` line of compact JSON, then the blank line that ends the event."""
    return f"event: {name}\ndata: {json.dumps(payload, ensure_ascii=False)}\n\n"
