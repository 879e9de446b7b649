"""Building batch input files for the tests."""

from __future__ import annotations

import json
from typing import Any

__all__ = ["chat_line", "jsonl", "parse_jsonl"]


def chat_line(custom_id: str, question: str, *, model: str = "vllm-model", **body: Any) -> dict[str, Any]:
    """One input line asking ``model`` the ``question``."""
    return {
        "custom_id": custom_id,
        "method": "POST",
        "url": "/v1/chat/completions",
        "body": {"model": model, "messages": [{"role": "user", "content": question}], **body},
    }


def jsonl(lines: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines).encode()


def parse_jsonl(content: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in content.decode().splitlines() if line.strip()]
