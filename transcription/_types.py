"""Value types shared by the transcription library: words, segments, transcripts."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from os import PathLike
from typing import Any

__all__ = [
    "AudioSource",
    "CancelEvent",
    "ProgressCallback",
    "Segment",
    "Transcript",
    "Word",
]

#: A path to an audio or video file.
AudioSource = str | PathLike[str]

#: Called with the fraction of the audio processed so far, from 0.0 to 1.0, never decreasing.
ProgressCallback = Callable[[float], None]

#: Set it (from any thread) to stop a running transcription at the next segment boundary.
CancelEvent = threading.Event


@dataclass(frozen=True, slots=True)
class Word:
    """One recognised word with its timing in seconds from the start of the audio."""

    start: float
    end: float
    text: str
    probability: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "word": self.text, "probability": self.probability}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Word:
        """The inverse of :meth:`to_dict`."""
        probability = data.get("probability")
        return cls(
            start=float(data["start"]),
            end=float(data["end"]),
            text=str(data["word"]),
            probability=None if probability is None else float(probability),
        )


@dataclass(frozen=True, slots=True)
class Segment:
    """A stretch of speech: its timing, text, optional words and speaker label."""

    start: float
    end: float
    text: str
    words: tuple[Word, ...] = ()
    speaker: str | None = None

    def with_speaker(self, speaker: str | None) -> Segment:
        return replace(self, speaker=speaker)

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "speaker": self.speaker,
            "words": [word.to_dict() for word in self.words],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Segment:
        """The inverse of :meth:`to_dict` (e.g. a segment read back from a checkpoint)."""
        speaker = data.get("speaker")
        return cls(
            start=float(data["start"]),
            end=float(data["end"]),
            text=str(data["text"]),
            words=tuple(Word.from_dict(word) for word in data.get("words", ())),
            speaker=None if speaker is None else str(speaker),
        )


@dataclass(frozen=True, slots=True)
class Transcript:
    """The full result of a transcription.

    ``duration`` is the duration of the audio in seconds; ``language`` the ISO code used
    (detected or forced); ``model`` names the engine and model that produced the text.
    """

    segments: tuple[Segment, ...]
    language: str | None
    duration: float
    model: str
    language_probability: float | None = None

    @property
    def text(self) -> str:
        return " ".join(segment.text for segment in self.segments if segment.text)

    @property
    def speakers(self) -> list[str]:
        """Speaker labels in order of first appearance (empty without diarization)."""
        seen: dict[str, None] = {}
        for segment in self.segments:
            if segment.speaker is not None:
                seen.setdefault(segment.speaker, None)
        return list(seen)

    def to_dict(self) -> dict[str, Any]:
        return {
            "language": self.language,
            "language_probability": self.language_probability,
            "duration": self.duration,
            "model": self.model,
            "speakers": self.speakers,
            "text": self.text,
            "segments": [segment.to_dict() for segment in self.segments],
        }
