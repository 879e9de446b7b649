"""The transcriber interface: one abstract method per engine, the streaming loop shared.

An engine only knows how to transcribe one window of 16 kHz mono audio
(:meth:`BaseTranscriber.transcribe_window`). The base class owns everything else, so the
local faster-whisper engine and the remote OpenAI-compatible client behave identically:
input checks, cutting long files into windows, progress, cancellation, silence, language
locking, timestamp offsets, optional diarization, and resuming from a checkpoint: with a
:class:`~transcription._checkpoint.TranscriptionCheckpoint`, each finished window is recorded and a
re-run (after a crash) replays the recorded windows instead of transcribing them again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from transcription._audio import AudioInfo, AudioWindow, iter_audio_windows, probe_audio
from transcription._checkpoint import TranscriptionCheckpoint, WindowRecord
from transcription._types import AudioSource, CancelEvent, ProgressCallback, Segment, Transcript, Word
from transcription.errors import (
    DiarizationUnavailableError,
    SilentAudioError,
    TranscriptionCancelled,
    UnsupportedLanguageError,
)

if TYPE_CHECKING:
    from transcription._diarization import SpeakerDiarizer

__all__ = ["BaseTranscriber", "SegmentStream", "WindowResult"]

logger = logging.getLogger(__name__)

# Text carried from one window to the next as Whisper's prompt, for continuity of style and names.
_PROMPT_CHARS = 200
# Share of the progress bar given to speech-to-text when diarization follows (it costs ~10-20 %).
_TRANSCRIPTION_SHARE = 0.85
# Attribute types that go into the checkpoint key as they are (engine options such as beam_size).
_PLAIN = (str, int, float, bool, type(None), tuple)


@dataclass(slots=True)
class WindowResult:
    """What an engine returns for one window: segments timed from the window's start."""

    segments: Iterator[Segment]
    language: str | None
    language_probability: float | None = None


class SegmentStream(Iterator[Segment]):
    """Segments of one recording, produced lazily; language and progress known as it goes.

    Obtained from :meth:`BaseTranscriber.stream`. Iterate it to drive the transcription; it
    raises the library's errors (see :mod:`transcription.errors`) as they are met.
    """

    def __init__(self, info: AudioInfo, *, language: str | None) -> None:
        self.info = info
        self.language = language
        self.language_probability: float | None = None
        self._iterator: Iterator[Segment] = iter(())

    def __next__(self) -> Segment:
        return next(self._iterator)

    def close(self) -> None:
        close = getattr(self._iterator, "close", None)
        if close is not None:
            close()


def _offset(segment: Segment, window: AudioWindow) -> Segment:
    """Move a window-relative segment to absolute time, clamped into the window."""

    def clamp(value: float) -> float:
        return round(min(max(value, 0.0), window.duration) + window.start, 3)

    start, end = clamp(segment.start), clamp(segment.end)
    words = tuple(
        Word(
            start=clamp(w.start),
            end=max(clamp(w.end), clamp(w.start)),
            text=w.text,
            probability=w.probability,
        )
        for w in segment.words
    )
    return replace(segment, start=start, end=max(end, start), words=words)


class BaseTranscriber(ABC):
    """Turns recordings into timed segments; subclasses plug one engine.

    Example::

        transcriber = Transcriber(model_dir=prepare_model(cache_dir))
        transcript = transcriber.transcribe("reunion.m4a", language="fr", on_progress=print)
        for segment in transcript.segments:
            ...

    Keyword arguments common to every engine:
        diarizer: used when ``diarize=True`` is asked; ``None`` makes diarization unavailable.
        max_duration_s: longer recordings raise :class:`AudioTooLongError` (``None``: no limit).
        window_s: long recordings are decoded and transcribed window by window, this long.
        silence_threshold_dbfs: windows whose peak stays below this level are skipped as silent.
    """

    #: Names the engine and model in :attr:`Transcript.model`.
    model_name: str = "unknown"
    #: ISO codes the engine accepts as ``language`` (``None``: not checked here).
    supported_languages: frozenset[str] | None = None

    def __init__(
        self,
        *,
        diarizer: SpeakerDiarizer | None = None,
        max_duration_s: float | None = None,
        window_s: float = 600.0,
        silence_threshold_dbfs: float = -45.0,
    ) -> None:
        self.diarizer = diarizer
        self.max_duration_s = max_duration_s
        self.window_s = window_s
        self.silence_threshold_dbfs = silence_threshold_dbfs

    @abstractmethod
    def transcribe_window(self, window: AudioWindow, *, language: str | None, prompt: str | None) -> WindowResult:
        """Transcribe one window of audio; ``language=None`` asks the engine to detect it.

        Segment times are relative to the window's start. ``prompt`` is the end of the
        previous window's text. Engine failures must be raised as :class:`BackendError`.

        Example::

            result = engine.transcribe_window(window, language="fr", prompt=None)
            for segment in result.segments:  # may be lazy
                ...
        """

    def stream(
        self,
        source: AudioSource,
        *,
        language: str | None = None,
        on_progress: ProgressCallback | None = None,
        cancel: CancelEvent | None = None,
        checkpoint: TranscriptionCheckpoint | None = None,
    ) -> SegmentStream:
        """Check ``source`` now, then return a lazy stream of its segments (no speakers).

        ``language``: ``None`` or ``"auto"`` to detect it on the first window that holds speech
        (later windows are then forced to it), or an ISO code such as ``"fr"``.
        ``checkpoint``: windows it holds for this recording and these options are replayed, not
        transcribed; each window finished here is appended to it.
        """
        forced = None if language in (None, "auto") else language
        if forced is not None and self.supported_languages is not None and forced not in self.supported_languages:
            raise UnsupportedLanguageError(f"La langue « {forced} » n'est pas prise en charge par la transcription.")
        info = probe_audio(source, max_duration_s=self.max_duration_s)
        stream = SegmentStream(info, language=forced)
        stream._iterator = self._generate(info, stream, forced, on_progress, cancel, checkpoint)
        return stream

    def transcribe(
        self,
        source: AudioSource,
        *,
        language: str | None = None,
        on_progress: ProgressCallback | None = None,
        cancel: CancelEvent | None = None,
        diarize: bool = False,
        num_speakers: int | None = None,
        checkpoint: TranscriptionCheckpoint | None = None,
    ) -> Transcript:
        """Transcribe a whole recording; with ``diarize=True`` label each segment's speaker.

        ``num_speakers`` fixes the number of speakers; ``None`` lets the diarizer estimate it.
        With diarization, progress reaches 0.85 when the text is done and 1.0 when speakers
        are assigned. Raises :class:`SilentAudioError` when no speech at
        all is found. ``checkpoint`` resumes the text (see :meth:`stream`); diarization, a
        tenth of the time, is redone in full on a re-run.
        """
        diarizer = self.diarizer
        if diarize and diarizer is None:
            raise DiarizationUnavailableError("L'identification des intervenants n'est pas disponible sur ce serveur.")
        if not diarize or diarizer is None or on_progress is None:
            text_progress, speaker_progress = on_progress, None
        else:
            report = on_progress

            def text_progress(fraction: float) -> None:
                report(fraction * _TRANSCRIPTION_SHARE)

            def speaker_progress(fraction: float) -> None:
                report(_TRANSCRIPTION_SHARE + fraction * (1 - _TRANSCRIPTION_SHARE))

        stream = self.stream(source, language=language, on_progress=text_progress, cancel=cancel, checkpoint=checkpoint)
        segments = list(stream)
        if diarize and diarizer is not None:
            segments = diarizer.assign_speakers(
                source, segments, num_speakers=num_speakers, on_progress=speaker_progress, cancel=cancel
            )
        return Transcript(
            segments=tuple(segments),
            language=stream.language,
            language_probability=stream.language_probability,
            duration=round(stream.info.duration, 3),
            model=self.model_name,
        )

    def checkpoint_options(self) -> dict[str, object]:
        """What, besides the recording, must be the same for a checkpoint to be replayed.

        The engine's public settings of plain types (model name, window length, beam size…);
        an engine whose text depends on anything else (a glossary prompt) adds it.
        """
        options: dict[str, object] = {"engine": type(self).__qualname__}
        for name, value in sorted(vars(self).items()):
            if not name.startswith("_") and isinstance(value, _PLAIN):
                options[name] = value
        return options

    def _checkpoint_key(self, info: AudioInfo, language: str | None) -> str:
        stat = info.path.stat()
        identity = {
            "options": self.checkpoint_options(),
            "language": language,
            "audio": [info.path.name, stat.st_size, round(info.duration, 3)],
        }
        return hashlib.sha256(json.dumps(identity, sort_keys=True, default=repr).encode()).hexdigest()

    def _generate(
        self,
        info: AudioInfo,
        stream: SegmentStream,
        language: str | None,
        on_progress: ProgressCallback | None,
        cancel: CancelEvent | None,
        checkpoint: TranscriptionCheckpoint | None = None,
    ) -> Iterator[Segment]:
        total = info.duration if info.duration > 0 else math.inf
        done = 0.0
        produced = 0
        prompt: str | None = None
        key = self._checkpoint_key(info, language) if checkpoint is not None else ""
        recorded = checkpoint.load(key) if checkpoint is not None else []
        if recorded:
            logger.info("Resuming %s after %d recorded window(s)", info.path.name, len(recorded))

        def report(position: float) -> None:
            nonlocal done
            fraction = min(max(position / total, done), 1.0)
            if on_progress is not None and fraction > done:
                on_progress(fraction)
            done = fraction

        def check_cancel() -> None:
            if cancel is not None and cancel.is_set():
                logger.info("Transcription of %s cancelled", info.path.name)
                raise TranscriptionCancelled("La transcription a été annulée.")

        # The recorded windows are replayed (text, language, prompt), then decoding seeks to where the last one
        # ends: the windows already done are neither transcribed nor decoded again.
        for record in recorded:
            check_cancel()
            produced += len(record.segments)
            yield from record.segments
            if language is None and record.language is not None:
                language = stream.language = record.language
                stream.language_probability = record.language_probability
            prompt = record.prompt
            report(record.end)
        resume_at = recorded[-1].end if recorded else 0.0
        windows = iter_audio_windows(
            info.path, window_s=self.window_s, max_duration_s=self.max_duration_s, start_s=resume_at
        )
        for index, window in enumerate(windows, start=len(recorded)):
            check_cancel()
            window_segments: list[Segment] = []
            if window.peak_dbfs < self.silence_threshold_dbfs:
                logger.debug("Skipping silent window at %.1fs", window.start)
            else:
                result = self.transcribe_window(window, language=language, prompt=prompt)
                try:
                    for raw in result.segments:
                        segment = _offset(raw, window)
                        if segment.text:
                            if language is None and result.language is not None:
                                # Lock the language detected on the first window that holds speech, so
                                # a long meeting is not split between languages (music intros, noise).
                                language = result.language
                                stream.language = result.language
                                stream.language_probability = result.language_probability
                            produced += 1
                            window_segments.append(segment)
                            yield segment
                        report(segment.end)
                        check_cancel()
                finally:
                    close = getattr(result.segments, "close", None)
                    if close is not None:
                        close()
                prompt = " ".join(segment.text for segment in window_segments)[-_PROMPT_CHARS:] or None
            if checkpoint is not None:
                checkpoint.append(
                    key,
                    WindowRecord(
                        index=index,
                        start=window.start,
                        end=window.end,
                        segments=tuple(window_segments),
                        language=language,
                        language_probability=stream.language_probability,
                        prompt=prompt,
                    ),
                )
            report(window.end)
        if produced == 0:
            raise SilentAudioError(f"Aucune parole n'a été détectée dans « {Path(info.path).name} ».")
        if on_progress is not None and done < 1.0:
            on_progress(1.0)
