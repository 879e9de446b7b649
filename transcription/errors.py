"""Exceptions raised by the transcription library.

Every error carries a French message meant for the end user (``str(exc)``); the original
third-party error, when there is one, is chained as ``__cause__``.

Hierarchy::

    TranscriptionError
    ├── ModelError
    │   ├── ModelNotFoundError
    │   └── ModelIntegrityError
    ├── AudioError
    │   ├── UnsupportedAudioError
    │   ├── CorruptAudioError
    │   ├── EmptyAudioError
    │   ├── SilentAudioError
    │   └── AudioTooLongError
    ├── UnsupportedLanguageError
    ├── TranscriptionCancelled
    ├── BackendError
    │   └── RemoteTranscriptionError
    ├── DiarizationError
    │   └── DiarizationUnavailableError
    ├── ExportError
    └── MinutesError
"""

from __future__ import annotations

__all__ = [
    "AudioError",
    "AudioTooLongError",
    "BackendError",
    "CorruptAudioError",
    "DiarizationError",
    "DiarizationUnavailableError",
    "EmptyAudioError",
    "ExportError",
    "MinutesError",
    "ModelError",
    "ModelIntegrityError",
    "ModelNotFoundError",
    "RemoteTranscriptionError",
    "SilentAudioError",
    "TranscriptionCancelled",
    "TranscriptionError",
    "UnsupportedAudioError",
    "UnsupportedLanguageError",
]


class TranscriptionError(Exception):
    """Base class of every error raised by :mod:`transcription`."""


class ModelError(TranscriptionError):
    """The speech-to-text model cannot be prepared or loaded."""


class ModelNotFoundError(ModelError):
    """A model directory or the packages holding the embedded model are missing."""


class ModelIntegrityError(ModelError):
    """Model files do not match their pinned sha256, or the runtime refuses to load them."""


class AudioError(TranscriptionError):
    """The audio input cannot be transcribed; subclasses say why."""


class UnsupportedAudioError(AudioError):
    """The file is not one of the accepted audio/video formats, or has no audio track."""


class CorruptAudioError(AudioError):
    """The file looks like a supported format but cannot be decoded."""


class EmptyAudioError(AudioError):
    """The file is empty or decodes to no samples at all."""


class SilentAudioError(AudioError):
    """The audio holds no detectable speech (silence or noise only)."""


class AudioTooLongError(AudioError):
    """The audio lasts longer than the maximum duration the caller allows.

    Attributes:
        duration_s: the duration found (or decoded so far), in seconds.
        max_duration_s: the limit given by the caller, in seconds.
    """

    def __init__(self, message: str, *, duration_s: float, max_duration_s: float) -> None:
        super().__init__(message)
        self.duration_s = duration_s
        self.max_duration_s = max_duration_s


class UnsupportedLanguageError(TranscriptionError, ValueError):
    """The language asked for is not one the engine can transcribe."""


class TranscriptionCancelled(TranscriptionError):
    """The caller's cancellation event was set while the work was running."""


class BackendError(TranscriptionError):
    """The speech-to-text engine failed while transcribing."""


class RemoteTranscriptionError(BackendError):
    """An OpenAI-compatible transcription server failed, timed out or answered nonsense.

    Attributes:
        status_code: the HTTP status when the server answered, else ``None``.
    """

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class DiarizationError(TranscriptionError):
    """Speaker diarization failed on this audio."""


class DiarizationUnavailableError(DiarizationError):
    """Diarization was requested but its optional dependencies (Resemblyzer, torch) are absent."""


class ExportError(TranscriptionError):
    """A transcript or minutes export cannot be produced (bad arguments or unknown format)."""


class MinutesError(TranscriptionError):
    """The language model's answers could not be turned into minutes, even after retries."""
