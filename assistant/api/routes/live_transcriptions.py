"""Live transcription: start a meeting, stream its audio over a WebSocket, finish it into a transcription.

The WebSocket carries binary frames ``seq (uint32 BE) | PCM 16 kHz mono s16le`` one way and JSON messages the
other (``ready``, ``ack``, ``resend``, ``partial``, ``final``); see ``assistant.services.meetings.live``. Its
handshake is authenticated like any API call (session cookie or bearer) and, since browsers attach cookies to
cross-site WebSocket handshakes and no CSRF header can be added to them, a cookie is honoured only with an
``Origin`` of this very site. Refusals close the socket with a 44xx code and a French reason.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Security, WebSocket, WebSocketDisconnect, WebSocketException, status
from pydantic import BaseModel, ConfigDict, Field
from starlette.websockets import WebSocketState

from assistant.api.deps import ClientDep, RequirePermission, RuntimeDep
from assistant.audit import ClientInfo
from assistant.errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    SouverainError,
)
from assistant.runtime import Runtime
from assistant.security import Permission, Principal
from assistant.services.charter.usage_charter import ensure_charter_accepted
from assistant.services.gateway.quotas import enforce_request_rate
from assistant.services.identity.authentication import authenticate_bearer, authenticate_session
from assistant.services.meetings import live as service
from assistant.services.meetings.live import LiveOptions, LiveSessionView, LiveStreamClosed

__all__ = ["RequireLiveSocket", "router"]

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/api/live-transcriptions", tags=["transcriptions"])

Transcriber = Annotated[Principal, Security(RequirePermission(Permission.TRANSCRIPTIONS))]

# Close codes (RFC 6455 leaves 4000-4999 to applications): the HTTP status they mirror, plus 4000.
_CLOSE_CODES: list[tuple[type[SouverainError], int]] = [
    (AuthenticationError, 4401),
    (PermissionDeniedError, 4403),
    (NotFoundError, 4404),
    (ConflictError, 4409),
    (RateLimitedError, 4429),
]
_STREAM_CLOSE_CODES = {"superseded": 4409, "finished": 4410, "too_long": 4413, "too_big": 1009, "bad_frame": 1003}
_MAX_REASON_BYTES = 123  # what a close frame can carry


def _reason(text: str) -> str:
    encoded = text.encode("utf-8")[:_MAX_REASON_BYTES]
    return encoded.decode("utf-8", errors="ignore")


def _same_origin(websocket: WebSocket, runtime: Runtime) -> bool | None:
    """Whether the handshake's ``Origin`` is this site (``None``: no Origin, i.e. not a browser)."""
    origin = websocket.headers.get("origin")
    if origin is None:
        return None
    scheme = "https" if websocket.url.scheme in ("wss", "https") else "http"
    allowed = {f"{scheme}://{websocket.headers.get('host', '')}"}
    if runtime.settings.public_url:
        public = runtime.settings.public_url.rstrip("/")
        allowed.add("/".join(public.split("/", 3)[:3]))
    return origin.rstrip("/") in allowed


class RequireLiveSocket(RequirePermission):
    """A WebSocket's policy: a caller holding ``permission`` (as :class:`RequirePermission`), from this site.

    A foreign ``Origin`` is refused at the handshake (no connection is opened); other refusals accept the
    connection first, so that the browser's script can read the French reason of the close frame.
    """

    def __repr__(self) -> str:
        return f"RequireLiveSocket({self.permission.value!r})"

    async def __call__(self, websocket: WebSocket) -> Principal:  # type: ignore[override]
        runtime: Runtime = websocket.app.state.runtime
        same_origin = _same_origin(websocket, runtime)
        if same_origin is False:
            logger.warning("Refused a cross-origin live transcription handshake")
            raise WebSocketException(code=4403, reason="Origine refusée : connexion depuis un autre site.")
        client = ClientInfo(
            ip=websocket.client.host if websocket.client else None,
            user_agent=websocket.headers.get("user-agent"),
            request_id=None,
        )
        try:
            principal = await self._authenticate(websocket, runtime, client, browser=same_origin is True)
            principal.require(self.permission)
            await ensure_charter_accepted(runtime, principal)
            await enforce_request_rate(runtime, principal)
        except SouverainError as exc:
            await websocket.accept()
            code = next((code for kind, code in _CLOSE_CODES if isinstance(exc, kind)), 4000)
            raise WebSocketException(code=code, reason=_reason(exc.message)) from exc
        return principal

    @staticmethod
    async def _authenticate(websocket: WebSocket, runtime: Runtime, client: ClientInfo, *, browser: bool) -> Principal:
        authorization = websocket.headers.get("authorization", "")
        scheme, _, credential = authorization.partition(" ")
        if scheme.lower() == "bearer" and credential.strip():
            return await authenticate_bearer(runtime, credential.strip(), client=client)
        cookie = websocket.cookies.get(runtime.settings.session_cookie_name)
        if cookie and browser:
            principal, _ = await authenticate_session(runtime, cookie, client=client)
            return principal
        if cookie:
            raise PermissionDeniedError("Connexion par cookie refusée sans en-tête Origin de ce site.")
        raise AuthenticationError("Authentification requise : reconnectez-vous.")


LiveCaller = Annotated[Principal, Security(RequireLiveSocket(Permission.TRANSCRIPTIONS))]


class LiveSessionIn(BaseModel):
    """A meeting to transcribe live; the options of an upload."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(default=None, max_length=200)
    language: str = Field(default="auto", description="« auto » ou un code ISO (« fr »).")
    diarize: bool = Field(default=False, description="Identifier les intervenants (à la fin de la réunion).")
    num_speakers: int | None = Field(default=None, ge=1, le=8)
    keep_audio: bool | None = None
    sensitivity: Literal["public", "internal", "sensitive"] | None = None


class LiveSessionOut(BaseModel):
    """Where a live session stands: the audio stored so far, and its transcription once finished."""

    id: uuid.UUID
    title: str
    language: str | None
    diarize: bool
    num_speakers: int | None
    status: Literal["open", "finished"]
    seconds: float = Field(description="Audio reçu et enregistré (secondes).")
    last_seq: int = Field(description="Dernière trame enregistrée (-1 : aucune).")
    transcription_id: uuid.UUID | None
    websocket_path: str
    created_at: str

    @classmethod
    def of(cls, view: LiveSessionView) -> LiveSessionOut:
        return cls(
            id=view.id,
            title=view.title,
            language=view.language,
            diarize=view.diarize,
            num_speakers=view.num_speakers,
            status=view.status,
            seconds=view.seconds,
            last_seq=view.last_seq,
            transcription_id=view.transcription_id,
            websocket_path=f"{router.prefix}/{view.id}/ws",
            created_at=view.created_at.isoformat(),
        )


@router.post(
    "",
    response_model=LiveSessionOut,
    status_code=status.HTTP_201_CREATED,
    summary="Démarrer une transcription en direct",
)
async def create_live_session(
    body: LiveSessionIn, principal: Transcriber, runtime: RuntimeDep, client: ClientDep
) -> LiveSessionOut:
    options = LiveOptions(**body.model_dump())
    view = await service.create_live_session(runtime, principal=principal, client=client, options=options)
    return LiveSessionOut.of(view)


@router.get("/{session_id}", response_model=LiveSessionOut, summary="État d'une transcription en direct")
async def get_live_session(session_id: uuid.UUID, principal: Transcriber, runtime: RuntimeDep) -> LiveSessionOut:
    return LiveSessionOut.of(await service.get_live_session(runtime, owner_id=principal.user_id, session_id=session_id))


@router.post(
    "/{session_id}/finish",
    response_model=LiveSessionOut,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Terminer la réunion : transcription complète (intervenants) en tâche de fond",
)
async def finish_live_session(
    session_id: uuid.UUID, principal: Transcriber, runtime: RuntimeDep, client: ClientDep
) -> LiveSessionOut:
    view = await service.finish_live_session(runtime, principal=principal, client=client, session_id=session_id)
    return LiveSessionOut.of(view)


@router.websocket("/{session_id}/ws", name="live_transcription_stream")
async def live_stream(websocket: WebSocket, session_id: uuid.UUID, principal: LiveCaller) -> None:
    runtime: Runtime = websocket.app.state.runtime
    if websocket.client_state == WebSocketState.CONNECTING:
        await websocket.accept()

    async def receive() -> bytes:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                raise WebSocketDisconnect(message.get("code", 1000))
            if message.get("bytes") is not None:
                data: bytes = message["bytes"]
                return data
            # Text messages (keep-alives) carry nothing to store.

    async def send(message: dict[str, object]) -> None:
        await websocket.send_json(message)

    try:
        await service.run_live_stream(
            runtime, owner_id=principal.user_id, session_id=session_id, receive=receive, send=send
        )
    except (WebSocketDisconnect, OSError):  # the client left (its frames up to the last ack are on disk)
        return
    except LiveStreamClosed as exc:
        await _close(websocket, _STREAM_CLOSE_CODES[exc.kind], exc.reason)
    except SouverainError as exc:
        await _close(websocket, next((code for kind, code in _CLOSE_CODES if isinstance(exc, kind)), 1011), exc.message)


async def _close(websocket: WebSocket, code: int, reason: str) -> None:
    if websocket.application_state != WebSocketState.DISCONNECTED:
        with contextlib.suppress(RuntimeError, OSError):  # the client may be gone already
            await websocket.close(code=code, reason=_reason(reason))
