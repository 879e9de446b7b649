"""Translation of the transcription library's errors into the service's errors, at the one seam."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from assistant.errors import (
    InvalidRequestError,
    OperationCancelledError,
    PayloadTooLargeError,
    ServiceUnavailableError,
    UnsupportedMediaTypeError,
)
from transcription import errors as stt

__all__ = ["speech_errors"]

logger = logging.getLogger(__name__)


@contextmanager
def speech_errors() -> Iterator[None]:
    """Re-raise :mod:`transcription` errors as ours; the library's French messages are kept as they are.

    Audio problems are the caller's to fix (400/413/415); model and engine failures are ours and may pass with
    a retry (503, and a job is retried by the worker).
    """
    try:
        yield
    except stt.AudioTooLongError as exc:
        raise PayloadTooLargeError(str(exc), code="audio_too_long") from exc
    except stt.UnsupportedAudioError as exc:
        raise UnsupportedMediaTypeError(str(exc), code="unsupported_audio") from exc
    except stt.SilentAudioError as exc:
        raise InvalidRequestError(str(exc), code="silent_audio") from exc
    except stt.EmptyAudioError as exc:
        raise InvalidRequestError(str(exc), code="empty_audio") from exc
    except stt.CorruptAudioError as exc:
        raise InvalidRequestError(str(exc), code="corrupt_audio") from exc
    except stt.UnsupportedLanguageError as exc:
        raise InvalidRequestError(str(exc), code="unsupported_language") from exc
    except stt.TranscriptionCancelled as exc:
        raise OperationCancelledError(str(exc)) from exc
    except stt.DiarizationUnavailableError as exc:
        raise InvalidRequestError(str(exc), code="diarization_unavailable") from exc
    except stt.ExportError as exc:
        raise InvalidRequestError(str(exc), code="export_failed") from exc
    except stt.MinutesError as exc:
        raise ServiceUnavailableError(str(exc), code="minutes_failed") from exc
    except (stt.ModelError, stt.BackendError, stt.DiarizationError) as exc:
        logger.warning("speech engine failure: %s", exc, exc_info=exc.__cause__ is not None)
        raise ServiceUnavailableError(str(exc), code="transcription_unavailable") from exc
