"""The « Transcription en direct » page: a meeting's audio (microphone or a shared tab) streamed while it happens.

The page only renders the form and the live view; its script (``static/live_transcription.js``) does the rest
through the JSON API and the WebSocket of ``/api/live-transcriptions``, then links to the finished transcription.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request, Security
from fastapi.responses import Response

from assistant.api.deps import RuntimeDep
from assistant.security import Permission
from assistant.web._auth import RequirePage, WebCaller
from assistant.web._pages_transcriptions import LANGUAGES
from assistant.web._templates import PageRenderer

__all__ = ["LIVE_PATH", "live_pages_router"]

LIVE_PATH = "/transcription-en-direct"

# Module-level: FastAPI resolves the routes' (postponed) annotations in this module's globals.
Transcriber = Annotated[WebCaller, Security(RequirePage(Permission.TRANSCRIPTIONS))]


def live_pages_router(renderer: PageRenderer) -> APIRouter:
    """The live transcription page, rendered by ``renderer``."""
    router = APIRouter(include_in_schema=False)

    @router.get(LIVE_PATH)
    async def live_transcription(request: Request, runtime: RuntimeDep, caller: Transcriber) -> Response:
        settings = runtime.settings.transcription
        return renderer.render(
            request,
            "live_transcription.html",
            title="Transcription en direct",
            caller=caller,
            active="transcription-direct",
            languages=LANGUAGES,
            diarization=runtime.speech.diarization_enabled,
            speech_model=runtime.speech.model,
            max_hours=settings.max_duration_seconds / 3600,
        )

    return router
