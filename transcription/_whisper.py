"""Local speech-to-text with faster-whisper (CTranslate2): int8 on CPU, float16 on CUDA."""

from __future__ import annotations

import copy
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Literal

from transcription._audio import AudioWindow
from transcription._base import BaseTranscriber, WindowResult
from transcription._glossary import Glossary
from transcription._model import check_model_dir
from transcription._types import Segment, Word
from transcription.errors import BackendError, ModelIntegrityError

if TYPE_CHECKING:
    from faster_whisper import WhisperModel  # type: ignore[import-untyped]
    from faster_whisper.transcribe import Segment as WhisperSegment  # type: ignore[import-untyped]

    from transcription._diarization import SpeakerDiarizer

__all__ = ["Transcriber"]

logger = logging.getLogger(__name__)

Device = Literal["auto", "cpu", "cuda"]


@contextmanager
def _engine_errors() -> Iterator[None]:
    """Translate CTranslate2/faster-whisper failures into :class:`BackendError`."""
    try:
        yield
    except (RuntimeError, ValueError, OSError) as exc:
        raise BackendError("Le moteur de transcription a échoué sur ce fichier.") from exc


def _pick_device(device: Device) -> tuple[str, str]:
    import ctranslate2  # type: ignore[import-untyped]

    if device == "auto":
        device = "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
    # int8 keeps CPU inference fast and small; GPUs are best served by float16.
    return device, ("float16" if device == "cuda" else "int8")


class Transcriber(BaseTranscriber):
    """Transcribes with faster-whisper from a local CTranslate2 model directory.

    Keyword arguments (besides those of :class:`BaseTranscriber`):
        model_dir: a CTranslate2 Whisper directory, e.g. :func:`prepare_model`'s result, or
            one given by ops (large-v3 in production), used as is.
        device: ``"auto"`` picks CUDA when CTranslate2 sees a GPU, else the CPU.
        compute_type: overrides the default (int8 on CPU, float16 on CUDA).
        cpu_threads: CTranslate2 threads on CPU (0: its default).
        beam_size: 1 is greedy decoding (fastest), 5 is Whisper's default quality setting.
        vad_filter: skip non-speech with the Silero VAD bundled in faster-whisper.
        word_timestamps: also time each word (needed for fine speaker turns).
        glossary_hotwords: with a glossary (:meth:`with_glossary`), also pass its terms as hotwords.
        temperature: decoding temperatures; after the first, each is a fallback used when the
            output looks wrong (sampling, so not reproducible). ``0.0`` alone is deterministic.

    Example::

        transcriber = Transcriber(model_dir=prepare_model(cache_dir), beam_size=1)
        transcript = transcriber.transcribe("conseil.mp3", language="fr")
    """

    def __init__(
        self,
        *,
        model_dir: str | os.PathLike[str],
        device: Device = "auto",
        compute_type: str | None = None,
        cpu_threads: int = 0,
        beam_size: int = 5,
        vad_filter: bool = True,
        word_timestamps: bool = True,
        temperature: float | tuple[float, ...] = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0),
        diarizer: SpeakerDiarizer | None = None,
        max_duration_s: float | None = None,
        window_s: float = 600.0,
        silence_threshold_dbfs: float = -45.0,
        glossary_hotwords: bool = False,
    ) -> None:
        super().__init__(
            diarizer=diarizer,
            max_duration_s=max_duration_s,
            window_s=window_s,
            silence_threshold_dbfs=silence_threshold_dbfs,
        )
        path = check_model_dir(model_dir)
        self.device, default_compute = _pick_device(device)
        self.compute_type = compute_type or default_compute
        self.beam_size = beam_size
        self.vad_filter = vad_filter
        self.word_timestamps = word_timestamps
        self.temperature = temperature
        self.model_name = f"faster-whisper:{path.name}"
        from faster_whisper import WhisperModel

        try:
            self._model: WhisperModel = WhisperModel(
                str(path), device=self.device, compute_type=self.compute_type, cpu_threads=cpu_threads
            )
        except (RuntimeError, ValueError, OSError) as exc:
            raise ModelIntegrityError(
                f"Le modèle de transcription « {path} » ne peut pas être chargé (fichiers altérés ?)."
            ) from exc
        self.supported_languages = frozenset(self._model.supported_languages)
        #: Terms put in Whisper's prompt; set per transcription through :meth:`with_glossary`.
        self.glossary: Glossary | None = None
        #: Also give them as faster-whisper hotwords (before every 30 s chunk). Off by default: measured on
        #: Whisper base, hotwords add nothing to the prompt and make it echo the list more often.
        self.glossary_hotwords = glossary_hotwords
        logger.info("Loaded %s on %s (%s)", path, self.device, self.compute_type)

    def with_glossary(self, glossary: Glossary | None) -> Transcriber:
        """This transcriber biased towards ``glossary``'s terms: a shallow copy sharing the loaded model, so that
        concurrent transcriptions (one thread each) can each have their own glossary."""
        clone = copy.copy(self)
        clone.glossary = glossary if glossary else None
        return clone

    def checkpoint_options(self) -> dict[str, object]:
        # The glossary goes into Whisper's prompt: a checkpoint made with another glossary holds another text.
        return {**super().checkpoint_options(), "glossary": self.glossary.to_dicts() if self.glossary else None}

    def _count_tokens(self, text: str) -> int:
        return len(self._model.hf_tokenizer.encode(text, add_special_tokens=False).ids)

    def _glossary_prompts(self, prompt: str | None) -> tuple[str | None, str | None]:
        """Whisper's initial prompt (the glossary first, then the previous window's text) and hotwords."""
        if not self.glossary:
            return prompt, None
        lead = self.glossary.initial_prompt(count_tokens=self._count_tokens)
        initial = " ".join(part for part in (lead, prompt) if part) or None
        hotwords = self.glossary.hotwords(count_tokens=self._count_tokens) if self.glossary_hotwords else None
        return initial, hotwords

    def transcribe_window(self, window: AudioWindow, *, language: str | None, prompt: str | None) -> WindowResult:
        if not self.glossary:
            return self._decode(window, language, prompt, None)
        initial_prompt, hotwords = self._glossary_prompts(prompt)
        result = self._decode(window, language, initial_prompt, hotwords)
        result.segments = self._without_echoes(result.segments, window, language, prompt)
        return result

    def _decode(
        self, window: AudioWindow, language: str | None, initial_prompt: str | None, hotwords: str | None
    ) -> WindowResult:
        with _engine_errors():
            segments, info = self._model.transcribe(
                window.samples,
                language=language,
                beam_size=self.beam_size,
                vad_filter=self.vad_filter,
                word_timestamps=self.word_timestamps,
                initial_prompt=initial_prompt,
                hotwords=hotwords,
                temperature=list(self.temperature) if isinstance(self.temperature, tuple) else self.temperature,
            )
        return WindowResult(
            segments=self._convert(segments),
            language=info.language,
            language_probability=round(float(info.language_probability), 4),
        )

    def _without_echoes(
        self, segments: Iterator[Segment], window: AudioWindow, language: str | None, prompt: str | None
    ) -> Iterator[Segment]:
        """Drop the segments where Whisper recited the glossary instead of transcribing speech; when nothing else
        came out of the window, decode it again without the glossary rather than lose its speech."""
        assert self.glossary is not None
        kept = dropped = 0
        try:
            for segment in segments:
                if self.glossary.is_echo(segment.text):
                    logger.warning("Dropped a segment at %.1fs that repeated the glossary prompt", segment.start)
                    dropped += 1
                    continue
                kept += 1
                yield segment
        finally:
            close = getattr(segments, "close", None)
            if close is not None:
                close()
        if dropped and not kept:
            yield from self._decode(window, language, prompt, None).segments

    @staticmethod
    def _convert(segments: Iterator[WhisperSegment]) -> Iterator[Segment]:
        # faster-whisper decodes lazily: each next() runs the model on the next 30 s chunk.
        try:
            while True:
                with _engine_errors():
                    try:
                        raw = next(segments)
                    except StopIteration:
                        return
                words = tuple(
                    Word(
                        start=float(w.start),
                        end=float(w.end),
                        text=w.word.strip(),
                        probability=round(float(w.probability), 4),
                    )
                    for w in raw.words or ()
                )
                yield Segment(start=float(raw.start), end=float(raw.end), text=raw.text.strip(), words=words)
        finally:
            close = getattr(segments, "close", None)
            if close is not None:
                close()
