"""Transcription jobs: upload, follow (SSE), read, export, cancel, delete; minutes drawn from the transcript."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Query, Security, UploadFile, status
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from assistant.api.deps import ClientDep, RequirePermission, RuntimeDep
from assistant.api.routes._streaming import EventStream
from assistant.api.routes._transcription_models import MinutesOut, MinutesRequest, TranscriptionOut
from assistant.security import Permission, Principal
from assistant.services.meetings import minutes as minutes_service
from assistant.services.meetings import transcriptions as service
from assistant.services.meetings.audio import kept_audio
from assistant.services.meetings.edits import edit_transcript
from assistant.services.meetings.speakers import set_speaker_names, speaker_proposals
from assistant.services.meetings.transcriptions import ExportedFile, TranscriptionOptions

__all__ = ["router"]

router = APIRouter(prefix="/api/transcriptions", tags=["transcriptions"])

Transcriber = Annotated[Principal, Security(RequirePermission(Permission.TRANSCRIPTIONS))]
_FILE_HELP = "Enregistrement : WAV, MP3, M4A, OGG/Opus, WebM, MP4 ou FLAC."


def _download(exported: ExportedFile) -> Response:
    disposition = f'attachment; filename="{exported.filename}"'
    return Response(
        exported.content,
        media_type=exported.media_type,
        headers={**exported.headers, "Content-Disposition": disposition},
    )


@router.post(
    "",
    response_model=TranscriptionOut,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Déposer un enregistrement à transcrire (tâche de fond)",
    responses={413: {"description": "Fichier trop gros ou trop long"}, 415: {"description": "Type non pris en charge"}},
)
async def create_transcription(
    principal: Transcriber,
    runtime: RuntimeDep,
    client: ClientDep,
    file: Annotated[UploadFile, File(description=_FILE_HELP)],
    language: Annotated[str, Form(description="« auto » ou un code ISO (« fr »).")] = "auto",
    diarize: Annotated[bool, Form(description="Identifier les intervenants.")] = False,
    num_speakers: Annotated[int | None, Form(ge=1, le=8, description="Nombre d'intervenants, s'il est connu.")] = None,
    keep_audio: Annotated[bool | None, Form(description="Garder l'audio après transcription.")] = None,
    title: Annotated[str | None, Form(max_length=200)] = None,
    sensitivity: Annotated[
        Literal["public", "internal", "sensitive"] | None,
        Form(description="« public » pour confier l'enregistrement à un serveur de transcription non souverain."),
    ] = None,
) -> TranscriptionOut:
    options = TranscriptionOptions(
        language=language,
        diarize=diarize,
        num_speakers=num_speakers,
        keep_audio=keep_audio,
        title=title,
        sensitivity=sensitivity,
    )
    view = await service.create_transcription(
        runtime,
        principal=principal,
        client=client,
        source=file.file,
        filename=file.filename or "enregistrement",
        content_type=file.content_type,
        options=options,
    )
    return TranscriptionOut.of(view)


@router.get("", response_model=list[TranscriptionOut], summary="Mes transcriptions")
async def list_transcriptions(
    principal: Transcriber,
    runtime: RuntimeDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[TranscriptionOut]:
    views = await service.list_transcriptions(runtime, owner_id=principal.user_id, limit=limit, offset=offset)
    return [TranscriptionOut.of(view) for view in views]


@router.get("/{transcription_id}", response_model=TranscriptionOut, summary="État et progression")
async def get_transcription(
    transcription_id: uuid.UUID, principal: Transcriber, runtime: RuntimeDep
) -> TranscriptionOut:
    return TranscriptionOut.of(
        await service.get_transcription(runtime, owner_id=principal.user_id, transcription_id=transcription_id)
    )


@router.get(
    "/{transcription_id}/events",
    summary="Progression en direct (SSE) ; le flux se termine avec la tâche",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def transcription_events(transcription_id: uuid.UUID, principal: Transcriber, runtime: RuntimeDep) -> EventStream:
    stream = await service.transcription_events(runtime, owner_id=principal.user_id, transcription_id=transcription_id)
    return EventStream(stream, headers={})


@router.get("/{transcription_id}/result", summary="Transcription (segments, intervenants, mots), étiquetée")
async def transcription_result(
    transcription_id: uuid.UUID, principal: Transcriber, runtime: RuntimeDep
) -> JSONResponse:
    body, provenance = await service.transcription_result(
        runtime, owner_id=principal.user_id, transcription_id=transcription_id
    )
    return JSONResponse(body, headers={"X-AI-Generated": "true", "X-AI-Model": provenance.model_id})


@router.get(
    "/{transcription_id}/audio",
    response_class=FileResponse,
    summary="Écouter l'enregistrement conservé (lecture partielle : en-tête Range)",
    responses={200: {"content": {"audio/*": {}}}, 206: {"description": "Partie demandée (Range)"}},
)
async def transcription_audio(transcription_id: uuid.UUID, principal: Transcriber, runtime: RuntimeDep) -> FileResponse:
    audio = await kept_audio(runtime, owner_id=principal.user_id, transcription_id=transcription_id)
    # Inline, so that the page's player streams it; private, so that no shared cache keeps someone's meeting.
    return FileResponse(
        audio.path,
        media_type=audio.media_type,
        filename=audio.filename,
        content_disposition_type="inline",
        headers={"Cache-Control": "private, no-cache"},
    )


class TranscriptEdit(BaseModel):
    """Corrections: speakers to rename (current name → new name) and segments to fix (index → text)."""

    model_config = ConfigDict(extra="forbid")

    speakers: dict[str, str] = Field(default_factory=dict, max_length=50)
    segments: dict[int, str] = Field(default_factory=dict, max_length=2000)


@router.patch(
    "/{transcription_id}/result",
    summary="Corriger la transcription (renommer les intervenants, corriger un segment) ; reste étiquetée",
)
async def edit_transcription(
    transcription_id: uuid.UUID, body: TranscriptEdit, principal: Transcriber, runtime: RuntimeDep, client: ClientDep
) -> JSONResponse:
    result = await edit_transcript(
        runtime,
        principal=principal,
        client=client,
        transcription_id=transcription_id,
        speakers=body.speakers,
        texts=body.segments,
    )
    return JSONResponse(result, headers={"X-AI-Generated": "true", "X-AI-Model": result["provenance"]["model_id"]})


class SpeakerNames(BaseModel):
    """The names to give the speakers: label as in the transcript (« SPEAKER_1 ») → name (« Marie Kerdraon »)."""

    model_config = ConfigDict(extra="forbid")

    names: dict[str, str] = Field(min_length=1, max_length=50)


@router.get(
    "/{transcription_id}/speakers",
    summary="Intervenants et noms proposés d'après les présentations (« je m'appelle … »), à confirmer",
)
async def get_speakers(transcription_id: uuid.UUID, principal: Transcriber, runtime: RuntimeDep) -> JSONResponse:
    body = await speaker_proposals(runtime, owner_id=principal.user_id, transcription_id=transcription_id)
    return JSONResponse(body, headers={"X-AI-Generated": "true"})


@router.put(
    "/{transcription_id}/speakers",
    summary="Nommer les intervenants (étiquette → nom) ; la transcription est re-signée comme relue",
)
async def put_speakers(
    transcription_id: uuid.UUID, body: SpeakerNames, principal: Transcriber, runtime: RuntimeDep, client: ClientDep
) -> JSONResponse:
    result = await set_speaker_names(
        runtime, principal=principal, client=client, transcription_id=transcription_id, names=body.names
    )
    return JSONResponse(result, headers={"X-AI-Generated": "true", "X-AI-Model": result["provenance"]["model_id"]})


@router.get("/{transcription_id}/export", summary="Exporter la transcription (TXT, SRT, VTT, JSON, MD, DOCX)")
async def export_transcription(
    transcription_id: uuid.UUID,
    principal: Transcriber,
    runtime: RuntimeDep,
    format: Annotated[Literal["txt", "srt", "vtt", "json", "md", "docx"], Query()] = "txt",
) -> Response:
    exported = await service.export_transcription(
        runtime, owner_id=principal.user_id, transcription_id=transcription_id, fmt=format
    )
    return _download(exported)


@router.post("/{transcription_id}/cancel", response_model=TranscriptionOut, summary="Annuler la transcription")
async def cancel_transcription(
    transcription_id: uuid.UUID, principal: Transcriber, runtime: RuntimeDep, client: ClientDep
) -> TranscriptionOut:
    view = await service.cancel_transcription(
        runtime, principal=principal, client=client, transcription_id=transcription_id
    )
    return TranscriptionOut.of(view)


@router.delete(
    "/{transcription_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Supprimer la transcription, son audio et son compte rendu",
)
async def delete_transcription(
    transcription_id: uuid.UUID, principal: Transcriber, runtime: RuntimeDep, client: ClientDep
) -> Response:
    await service.delete_transcription(runtime, principal=principal, client=client, transcription_id=transcription_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{transcription_id}/minutes",
    response_model=MinutesOut,
    status_code=status.HTTP_201_CREATED,
    summary="Rédiger le compte rendu (synthèse, décisions, actions) avec le modèle de langue",
)
async def create_minutes(
    transcription_id: uuid.UUID,
    principal: Transcriber,
    runtime: RuntimeDep,
    client: ClientDep,
    body: MinutesRequest | None = None,
) -> JSONResponse:
    view = await minutes_service.create_minutes(
        runtime,
        principal=principal,
        client=client,
        transcription_id=transcription_id,
        model_id=body.model if body else None,
    )
    out = MinutesOut.of(view)
    headers = {"X-AI-Generated": "true", "X-AI-Model": str(view.provenance.get("model_id", ""))}
    return JSONResponse(out.model_dump(mode="json"), status_code=status.HTTP_201_CREATED, headers=headers)


@router.get("/{transcription_id}/minutes", response_model=MinutesOut, summary="Compte rendu enregistré")
async def get_minutes(transcription_id: uuid.UUID, principal: Transcriber, runtime: RuntimeDep) -> MinutesOut:
    view = await minutes_service.get_minutes(runtime, owner_id=principal.user_id, transcription_id=transcription_id)
    return MinutesOut.of(view)


@router.get("/{transcription_id}/minutes/export", summary="Exporter le compte rendu (MD, DOCX, JSON)")
async def export_minutes(
    transcription_id: uuid.UUID,
    principal: Transcriber,
    runtime: RuntimeDep,
    format: Annotated[Literal["md", "docx", "odt", "json"], Query()] = "md",
) -> Response:
    exported = await minutes_service.export_transcription_minutes(
        runtime, owner_id=principal.user_id, transcription_id=transcription_id, fmt=format
    )
    return _download(exported)
