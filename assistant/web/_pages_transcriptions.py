"""The transcription pages: « Mes transcriptions » (upload, follow, cancel, delete) and one transcription
(transcript with speakers and times, audio player, corrections, exports, minutes).

The pages render what the transcription services return; their script (``static/transcriptions.js``) calls the
same JSON API as any client for everything that changes (upload, progress, corrections, minutes).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Request, Security
from fastapi.responses import Response

from assistant.api.deps import RuntimeDep
from assistant.errors import NotFoundError
from assistant.security import Permission
from assistant.services.meetings.glossary import applied_glossary
from assistant.services.meetings.transcriptions import TranscriptionView, get_transcription, list_transcriptions
from assistant.web._auth import RequirePage, WebCaller
from assistant.web._templates import PageRenderer

__all__ = ["LANGUAGES", "format_duration", "language_label", "transcription_pages_router"]

# Module-level: FastAPI resolves the routes' (postponed) annotations in this module's globals.
Transcriber = Annotated[WebCaller, Security(RequirePage(Permission.TRANSCRIPTIONS))]

# The languages offered in the upload form (Whisper knows many more; the API takes any ISO code).
LANGUAGES = {
    "fr": "français",
    "en": "anglais",
    "de": "allemand",
    "es": "espagnol",
    "it": "italien",
    "pt": "portugais",
    "nl": "néerlandais",
    "ar": "arabe",
}
# Status -> (French label, DSFR badge variant).
STATUSES = {
    "queued": ("En attente", "new"),
    "running": ("En cours", "info"),
    "succeeded": ("Terminée", "success"),
    "failed": ("Échec", "error"),
    "cancelled": ("Annulée", "warning"),
}
# Most recent first; older ones stay reachable through the API (and are purged by the retention rules).
_LISTED = 200


def format_duration(seconds: float | None) -> str:
    """« 01:02:03 » (hours, minutes, seconds, as in the transcript); « — » when unknown."""
    if seconds is None:
        return "—"
    whole = max(0, round(seconds))
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def language_label(view: TranscriptionView) -> str:
    """The language asked for, or the one detected (said so), or « automatique » while it is not known."""
    if view.language:
        return LANGUAGES.get(view.language, view.language)
    if view.detected_language:
        return f"{LANGUAGES.get(view.detected_language, view.detected_language)} (détectée)"
    return "automatique"


def transcription_pages_router(renderer: PageRenderer) -> APIRouter:
    """The transcription pages, rendered by ``renderer``."""
    router = APIRouter(include_in_schema=False)
    helpers: dict[str, Any] = {
        "duree": format_duration,
        "langue": language_label,
        "statuts": STATUSES,
        "languages": LANGUAGES,
    }

    @router.get("/transcriptions")
    async def transcriptions(request: Request, runtime: RuntimeDep, caller: Transcriber) -> Response:
        views = await list_transcriptions(runtime, owner_id=caller.principal.user_id, limit=_LISTED)
        settings = runtime.settings
        return renderer.render(
            request,
            "transcriptions.html",
            title="Transcriptions",
            caller=caller,
            active="transcriptions",
            transcriptions=views,
            diarization=runtime.speech.diarization_enabled,
            keep_audio_default=settings.transcription.keep_audio,
            max_bytes=settings.transcription.max_upload_bytes,
            max_hours=settings.transcription.max_duration_seconds / 3600,
            speech_model=runtime.speech.model,
            deleted=request.query_params.get("supprimee") == "1",
            **helpers,
        )

    @router.get("/transcriptions/{transcription_id}")
    async def transcription(
        request: Request, runtime: RuntimeDep, caller: Transcriber, transcription_id: str
    ) -> Response:
        try:
            view = await get_transcription(
                runtime, owner_id=caller.principal.user_id, transcription_id=uuid.UUID(transcription_id)
            )
        except (ValueError, NotFoundError):
            # Someone else's transcription and a mistyped address look the same: nothing to show.
            return renderer.render(
                request,
                "error.html",
                title="Transcription introuvable",
                caller=caller,
                active="transcriptions",
                heading="Transcription introuvable",
                message="Cette transcription n'existe pas ou a été supprimée. Retrouvez les vôtres dans la liste "
                "des transcriptions.",
                status_code=404,
            )
        glossary_terms, glossary_corrections = await applied_glossary(runtime, transcription_id=view.id)
        return renderer.render(
            request,
            "transcription.html",
            title=view.title,
            caller=caller,
            active="transcriptions",
            transcription=view,
            glossary_terms=len(glossary_terms),
            glossary_corrections=glossary_corrections,
            **helpers,
        )

    return router
