"""Client for an OpenAI-compatible ``/v1/audio/transcriptions`` server (vLLM serving Whisper).

It plugs into :class:`BaseTranscriber` like the local engine: the recording is checked and cut
into windows here, each window is uploaded as 16 kHz mono WAV, so long meetings get progress,
cancellation between windows and requests of bounded size.
"""

from __future__ import annotations

import io
import logging
import wave
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import httpx
import numpy as np

from transcription._audio import SAMPLE_RATE, AudioWindow
from transcription._base import BaseTranscriber, WindowResult
from transcription._types import Segment, Word
from transcription.errors import RemoteTranscriptionError

if TYPE_CHECKING:
    from transcription._diarization import SpeakerDiarizer

__all__ = ["RemoteTranscriber"]

logger = logging.getLogger(__name__)

# OpenAI's verbose_json names the language in English ("french"); vLLM may give the ISO code.
_LANGUAGE_NAMES = {
    "french": "fr",
    "english": "en",
    "german": "de",
    "spanish": "es",
    "italian": "it",
    "dutch": "nl",
    "portuguese": "pt",
    "arabic": "ar",
    "breton": "br",
    "occitan": "oc",
    "basque": "eu",
    "catalan": "ca",
}


def _to_wav(window: AudioWindow) -> bytes:
    pcm = np.clip(window.samples * 32768.0, -32768, 32767).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(pcm.tobytes())
    return buffer.getvalue()


@contextmanager
def _http_errors(base_url: str) -> Iterator[None]:
    """Translate httpx failures into :class:`RemoteTranscriptionError` with a French message."""
    try:
        yield
    except httpx.TimeoutException as exc:
        raise RemoteTranscriptionError("Le serveur de transcription n'a pas répondu à temps.") from exc
    except httpx.HTTPStatusError as exc:
        status = exc.response.status_code
        raise RemoteTranscriptionError(
            f"Le serveur de transcription a refusé la demande (HTTP {status}).", status_code=status
        ) from exc
    except httpx.HTTPError as exc:
        raise RemoteTranscriptionError(f"Le serveur de transcription ({base_url}) est injoignable.") from exc


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RemoteTranscriptionError(f"Réponse du serveur de transcription invalide ({what}).")
    return float(value)


def _parse_words(payload: list[Any]) -> list[Word]:
    words = []
    for item in payload:
        if not isinstance(item, dict):
            raise RemoteTranscriptionError("Réponse du serveur de transcription invalide (mots).")
        words.append(
            Word(
                start=_number(item.get("start"), "début de mot"),
                end=_number(item.get("end"), "fin de mot"),
                text=str(item.get("word", "")).strip(),
                probability=item.get("probability"),
            )
        )
    return words


def _parse(body: Any) -> tuple[list[Segment], str | None]:
    """Read a ``verbose_json`` body; words listed at top level are given to their segment."""
    if not isinstance(body, dict):
        raise RemoteTranscriptionError("Réponse du serveur de transcription invalide (JSON attendu).")
    language = body.get("language")
    language = _LANGUAGE_NAMES.get(language.lower(), language.lower()) if isinstance(language, str) else None
    top_words = _parse_words(body.get("words") or [])
    raw_segments = body.get("segments")
    if raw_segments is None:  # plain "json" answer: one segment over the window
        text = str(body.get("text", "")).strip()
        end = max((w.end for w in top_words), default=_number(body.get("duration", 0.0), "durée"))
        return ([Segment(start=0.0, end=end, text=text, words=tuple(top_words))] if text else []), language
    segments = []
    for item in raw_segments:
        if not isinstance(item, dict):
            raise RemoteTranscriptionError("Réponse du serveur de transcription invalide (segments).")
        start, end = _number(item.get("start"), "début"), _number(item.get("end"), "fin")
        own = _parse_words(item["words"]) if isinstance(item.get("words"), list) else []
        if not own:
            own = [w for w in top_words if start <= (w.start + w.end) / 2 < end]
        segments.append(
            Segment(start=start, end=end, text=str(item.get("text", "")).strip(), words=tuple(own))
        )
    return segments, language


class RemoteTranscriber(BaseTranscriber):
    """Transcribes through an OpenAI-compatible server, interface-compatible with ``Transcriber``.

    Keyword arguments (besides those of :class:`BaseTranscriber`):
        base_url: the server's API root, e.g. ``"http://vllm-whisper:8000/v1"``.
        model: the model id the server serves (``"openai/whisper-large-v3"`` on vLLM).
        api_key: sent as a bearer token when given.
        timeout_s: per request (one window).
        client: an ``httpx.Client`` to reuse (tests pass one with a mock transport).

    Example::

        transcriber = RemoteTranscriber(base_url="http://vllm:8000/v1", model="openai/whisper-large-v3")
        transcript = transcriber.transcribe("audition.mp3", language="fr")
    """

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key: str | None = None,
        timeout_s: float = 600.0,
        client: httpx.Client | None = None,
        diarizer: SpeakerDiarizer | None = None,
        max_duration_s: float | None = None,
        window_s: float = 600.0,
        silence_threshold_dbfs: float = -45.0,
    ) -> None:
        super().__init__(
            diarizer=diarizer,
            max_duration_s=max_duration_s,
            window_s=window_s,
            silence_threshold_dbfs=silence_threshold_dbfs,
        )
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.model_name = f"openai-compatible:{model}"
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = client if client is not None else httpx.Client(timeout=timeout_s)
        self._headers = headers
        self._timeout = timeout_s

    def close(self) -> None:
        self._client.close()

    def transcribe_window(
        self, window: AudioWindow, *, language: str | None, prompt: str | None
    ) -> WindowResult:
        data: dict[str, Any] = {
            "model": self.model,
            "response_format": "verbose_json",
            "timestamp_granularities[]": ["segment", "word"],
            "temperature": "0",
        }
        if language is not None:
            data["language"] = language
        if prompt:
            data["prompt"] = prompt
        files = {"file": ("window.wav", _to_wav(window), "audio/wav")}
        url = f"{self.base_url}/audio/transcriptions"
        with _http_errors(self.base_url):
            response = self._client.post(
                url, data=data, files=files, headers=self._headers, timeout=self._timeout
            )
            response.raise_for_status()
        try:
            body = response.json()
        except ValueError as exc:
            raise RemoteTranscriptionError(
                "Réponse du serveur de transcription invalide (JSON attendu)."
            ) from exc
        segments, detected = _parse(body)
        logger.debug("Remote window at %.1fs: %d segments", window.start, len(segments))
        return WindowResult(segments=iter(segments), language=language or detected)
