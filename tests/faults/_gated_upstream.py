"""The fake upstream with a gate: a test holds one model call (embeddings, speech-to-text) while it kills the worker
that made it, so the kill lands mid-job at a known point instead of after a guessed delay.

It also answers ``/v1/audio/transcriptions`` (OpenAI ``verbose_json``) with a fixed French segment, so that a
worker configured with ``transcription_remote_url`` transcribes through it.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from tests.fakes import FakeUpstream
from tests.fakes.openai_upstream import Receive, Scope, Send

__all__ = ["SPOKEN", "GatedUpstream"]

SPOKEN = "La séance du conseil est ouverte."
_TRANSCRIPTIONS = "/v1/audio/transcriptions"


@dataclass
class GatedUpstream(FakeUpstream):
    """``gate(path, after=n)`` lets ``n`` calls to ``path`` through, then holds the next ones until :meth:`release`."""

    calls: Counter[str] = field(default_factory=Counter)
    held: threading.Event = field(default_factory=threading.Event)
    _gate: tuple[str, int] | None = None
    _open: threading.Event = field(default_factory=threading.Event)

    def gate(self, path: str, *, after: int) -> None:
        self._gate = (path, after)
        self.held.clear()
        self._open.clear()

    def release(self) -> None:
        self._gate = None
        self._open.set()

    async def _app(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and path in ("/v1/embeddings", _TRANSCRIPTIONS):
            self.calls[path] += 1
            gate = self._gate
            if gate is not None and gate[0] == path and self.calls[path] > gate[1]:
                self.held.set()
                while not self._open.is_set() and not self._closing.is_set():
                    await asyncio.sleep(0.02)
            if path == _TRANSCRIPTIONS:
                await _transcription(receive, send)
                return
        await super()._app(scope, receive, send)


async def _transcription(receive: Receive, send: Send) -> None:
    while (await receive()).get("more_body"):
        pass
    body: dict[str, Any] = {
        "text": SPOKEN,
        "language": "french",
        "duration": 3.0,
        "segments": [{"id": 0, "start": 0.2, "end": 2.8, "text": SPOKEN}],
    }
    data = json.dumps(body, ensure_ascii=False).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": data})
