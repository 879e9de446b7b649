"""Speaker diarization on CPU: Resemblyzer voice embeddings over speech, then our clustering.

Each transcribed segment is cut into overlapping 1.6 s voice windows (a new one every 0.4 s),
each window becomes a d-vector, the vectors are clustered into speakers (spectral clustering,
:mod:`transcription._spectral`), and a re-segmentation pass turns the window labels into speaker
turns on a 0.1 s grid (:mod:`transcription._resegmentation`). Every word (or segment, when there
are no word timings) then takes the speaker of the turn it falls in; a segment spoken by two
people is split where the speaker changes. ``method="legacy"`` keeps the first version (windows
every 0.8 s, agglomerative clustering, nearest window per word) to measure against
(``benchmarks/diarization.py``).

Resemblyzer and torch are optional: without them :class:`ResemblyzerEmbedder` raises
:class:`DiarizationUnavailableError` and transcription still works, without speakers.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal, Protocol

import numpy as np
import numpy.typing as npt

from transcription._audio import SAMPLE_RATE, Samples, iter_audio_windows
from transcription._clustering import cluster_speakers
from transcription._resegmentation import SpeakerTurn, resegment
from transcription._types import CancelEvent, ProgressCallback, Segment, Word
from transcription.errors import DiarizationError, DiarizationUnavailableError, TranscriptionCancelled

__all__ = [
    "DiarizationMethod",
    "ResemblyzerEmbedder",
    "SpeakerDiarizer",
    "SpeakerEmbedder",
    "SpeakerTurn",
    "diarization_available",
]

logger = logging.getLogger(__name__)

DiarizationMethod = Literal["resegment", "legacy"]
# Windows per second of speech: a 1.6 s window every 0.4 s, so turn changes are seen four times
# over; the first version used 1.25 (every 0.8 s).
_RESEGMENT_RATE = 2.5
_LEGACY_RATE = 1.25
# Clusters whose centroids are nearer than this are one voice when the count is estimated. Measured on
# espeak-ng voices (benchmarks/diarization.py): two halves of one speaker's windows lie 0.04-0.07 apart,
# two different voices 0.11-0.38; the first version's 0.2 merged real speakers.
_MERGE_DISTANCE = 0.1


def diarization_available() -> bool:
    """Whether the optional speaker-embedding dependencies (Resemblyzer, torch) are installed."""
    import importlib.util

    return all(importlib.util.find_spec(name) is not None for name in ("resemblyzer", "torch"))


class SpeakerEmbedder(Protocol):
    """Turns a stretch of 16 kHz mono speech into voice embeddings, one per short window.

    Example::

        vectors, spans = embedder.embed(samples)  # vectors: (n, d); spans: [(start_s, end_s)]
    """

    def embed(self, samples: Samples) -> tuple[npt.NDArray[np.float32], list[tuple[float, float]]]:
        """Return L2-normalised embeddings and the (start, end) seconds each one covers."""
        ...


class ResemblyzerEmbedder:
    """:class:`SpeakerEmbedder` backed by Resemblyzer's bundled GE2E voice encoder (CPU).

    ``rate`` is the number of 1.6 s windows per second of speech (at least 0.625).
    """

    def __init__(self, *, rate: float = 1.25, device: str = "cpu") -> None:
        try:
            with warnings.catch_warnings():
                # Resemblyzer 0.1.4 imports scipy.ndimage.morphology, deprecated since SciPy 1.8.
                warnings.filterwarnings("ignore", message=r".*scipy\.ndimage\.morphology", category=DeprecationWarning)
                from resemblyzer import VoiceEncoder  # type: ignore[import-untyped]
        except ImportError as exc:
            raise DiarizationUnavailableError(
                "L'identification des intervenants n'est pas installée sur ce serveur (Resemblyzer)."
            ) from exc
        try:
            self._encoder: Any = VoiceEncoder(device=device, verbose=False)
        except Exception as exc:  # torch raises many unrelated types on a broken install
            raise DiarizationError("Le modèle d'identification des intervenants ne peut pas être chargé.") from exc
        self.rate = rate

    def embed(self, samples: Samples) -> tuple[npt.NDArray[np.float32], list[tuple[float, float]]]:
        from resemblyzer.audio import normalize_volume  # type: ignore[import-untyped]

        # The encoder was trained on speech normalised to -30 dBFS; quieter takes are raised.
        wav = normalize_volume(samples, -30, increase_only=True).astype(np.float32)
        try:
            _, partials, slices = self._encoder.embed_utterance(
                wav, return_partials=True, rate=self.rate, min_coverage=0.5
            )
        except Exception as exc:
            raise DiarizationError("L'analyse des voix a échoué sur ce fichier.") from exc
        spans = [(s.start / SAMPLE_RATE, min(s.stop, len(wav)) / SAMPLE_RATE) for s in slices]
        return np.asarray(partials, dtype=np.float32), spans


@dataclass(frozen=True, slots=True)
class _VoiceWindow:
    segment: int
    start: float
    end: float

    @property
    def center(self) -> float:
        return (self.start + self.end) / 2


def _segment_audio(source: str | os.PathLike[str], segments: Sequence[Segment]) -> Iterator[tuple[int, Samples]]:
    """Yield (index, samples) for each segment, decoding the recording once, window by window."""
    order = sorted(range(len(segments)), key=lambda i: segments[i].start)
    buffer = np.zeros(0, dtype=np.float32)
    buffer_start = 0.0
    pending = iter(order)
    current = next(pending, None)
    for window in iter_audio_windows(source, window_s=300.0):
        buffer = np.concatenate([buffer, window.samples])
        buffer_end = buffer_start + len(buffer) / SAMPLE_RATE
        while current is not None and segments[current].end <= buffer_end:
            seg = segments[current]
            lo = max(0, int((seg.start - buffer_start) * SAMPLE_RATE))
            hi = max(lo, int((seg.end - buffer_start) * SAMPLE_RATE))
            yield current, buffer[lo:hi]
            current = next(pending, None)
        # Keep only what the next segments may still need.
        keep_from = segments[current].start if current is not None else buffer_end
        drop = max(0, int((keep_from - buffer_start) * SAMPLE_RATE))
        buffer, buffer_start = buffer[drop:], buffer_start + drop / SAMPLE_RATE
    while current is not None:  # segments running past the decoded end
        seg = segments[current]
        lo = max(0, int((seg.start - buffer_start) * SAMPLE_RATE))
        yield current, buffer[lo:]
        current = next(pending, None)


def _smooth(labels: list[int], min_run: int) -> list[int]:
    """Absorb runs shorter than ``min_run`` words into their neighbours (speaker flicker)."""
    if len(labels) <= min_run:
        return [Counter(labels).most_common(1)[0][0]] * len(labels)
    smoothed = list(labels)
    i = 0
    while i < len(smoothed):
        j = i
        while j < len(smoothed) and smoothed[j] == smoothed[i]:
            j += 1
        if j - i < min_run:
            neighbour = smoothed[i - 1] if i > 0 else (smoothed[j] if j < len(smoothed) else smoothed[i])
            smoothed[i:j] = [neighbour] * (j - i)
        i = j
    return smoothed


class SpeakerDiarizer:
    """Labels the speakers of transcribed segments.

    Keyword arguments:
        embedder: a :class:`SpeakerEmbedder`; ``None`` loads :class:`ResemblyzerEmbedder`.
        max_speakers: upper bound when the number of speakers is estimated.
        speaker_prefix: labels are ``f"{speaker_prefix} {n}"``, numbered by first appearance.
        min_turn_words: a speaker change inside a segment must last this many words.
        method: ``"resegment"`` (default) or ``"legacy"``, the first version, kept for comparison.

    Example::

        diarizer = SpeakerDiarizer()
        segments = diarizer.assign_speakers("reunion.wav", transcript.segments)
    """

    def __init__(
        self,
        *,
        embedder: SpeakerEmbedder | None = None,
        max_speakers: int = 8,
        speaker_prefix: str = "Intervenant",
        min_turn_words: int = 3,
        method: DiarizationMethod = "resegment",
    ) -> None:
        if embedder is None:
            embedder = ResemblyzerEmbedder(rate=_LEGACY_RATE if method == "legacy" else _RESEGMENT_RATE)
        self.embedder: SpeakerEmbedder = embedder
        self.max_speakers = max_speakers
        self.speaker_prefix = speaker_prefix
        self.min_turn_words = min_turn_words
        self.method: DiarizationMethod = method

    def assign_speakers(
        self,
        source: str | os.PathLike[str],
        segments: Iterable[Segment],
        *,
        num_speakers: int | None = None,
        on_progress: ProgressCallback | None = None,
        cancel: CancelEvent | None = None,
    ) -> list[Segment]:
        """Return the segments with ``speaker`` set, split at speaker changes, in time order.

        ``num_speakers`` fixes how many speakers come out (as long as there are as many voice
        windows); ``None`` estimates it. ``on_progress`` receives the fraction of segments
        analysed; setting ``cancel`` raises :class:`TranscriptionCancelled` at the next segment.
        """
        items = sorted(segments, key=lambda s: (s.start, s.end))
        if not items:
            return []
        vectors, windows = self._embed(source, items, on_progress, cancel)
        if not windows:
            label = f"{self.speaker_prefix} 1"
            return [segment.with_speaker(label) for segment in items]
        if self.method == "legacy":
            labels = cluster_speakers(
                vectors, num_speakers=num_speakers, max_speakers=self.max_speakers, method="agglomerative"
            )
            logger.info("Diarization: %d voice windows, %d speakers", len(windows), len(set(labels.tolist())))
            return self._label(items, windows, labels.tolist())
        turns = self._turns(items, vectors, windows, num_speakers)
        return self._label_from_turns(items, [t for t in turns if not t.overlap], exact=num_speakers is not None)

    def diarize(
        self,
        source: str | os.PathLike[str],
        segments: Iterable[Segment],
        *,
        num_speakers: int | None = None,
        on_progress: ProgressCallback | None = None,
        cancel: CancelEvent | None = None,
    ) -> list[SpeakerTurn]:
        """Who speaks when over the segments' time spans, without the words: speaker turns.

        Turns marked ``overlap`` are a second voice heard over another speaker's turn; the
        others do not overlap. Speakers are numbered from 0 by first appearance.
        """
        items = sorted(segments, key=lambda s: (s.start, s.end))
        if not items:
            return []
        vectors, windows = self._embed(source, items, on_progress, cancel)
        if not windows:
            return [SpeakerTurn(segment.start, segment.end, 0) for segment in items]
        if self.method == "legacy":
            labelled = self._label(items, windows, cluster_speakers(
                vectors, num_speakers=num_speakers, max_speakers=self.max_speakers, method="agglomerative"
            ).tolist())  # fmt: skip
            names = {name: i for i, name in enumerate(dict.fromkeys(s.speaker for s in labelled))}
            return [SpeakerTurn(s.start, s.end, names[s.speaker]) for s in labelled]
        turns = self._turns(items, vectors, windows, num_speakers)
        order = {speaker: i for i, speaker in enumerate(dict.fromkeys(t.speaker for t in turns))}
        return [replace(turn, speaker=order[turn.speaker]) for turn in turns]

    def _embed(
        self,
        source: str | os.PathLike[str],
        items: list[Segment],
        on_progress: ProgressCallback | None,
        cancel: CancelEvent | None,
    ) -> tuple[npt.NDArray[np.float32], list[_VoiceWindow]]:
        vectors: list[npt.NDArray[np.float32]] = []
        windows: list[_VoiceWindow] = []
        for done, (index, samples) in enumerate(_segment_audio(source, items), start=1):
            if cancel is not None and cancel.is_set():
                raise TranscriptionCancelled("La transcription a été annulée.")
            if len(samples) >= SAMPLE_RATE // 4:  # shorter carries no usable voice print
                embedded, spans = self.embedder.embed(samples)
                vectors.append(embedded)
                offset = items[index].start
                windows.extend(_VoiceWindow(index, offset + lo, offset + hi) for lo, hi in spans)
            if on_progress is not None:
                on_progress(done / len(items))
        stacked = np.concatenate(vectors) if vectors else np.zeros((0, 1), dtype=np.float32)
        return stacked, windows

    def _turns(
        self,
        items: list[Segment],
        vectors: npt.NDArray[np.float32],
        windows: list[_VoiceWindow],
        num_speakers: int | None,
    ) -> list[SpeakerTurn]:
        labels = cluster_speakers(
            vectors, num_speakers=num_speakers, max_speakers=self.max_speakers, merge_distance=_MERGE_DISTANCE
        )
        turns = resegment(
            [(segment.start, segment.end) for segment in items],
            [(w.segment, w.start, w.end) for w in windows],
            vectors,
            labels,
            exact=num_speakers is not None,
        )
        logger.info(
            "Diarization: %d voice windows, %d speakers, %d turns",
            len(windows),
            len({t.speaker for t in turns}),
            len(turns),
        )
        return turns

    def _label_from_turns(self, items: list[Segment], turns: list[SpeakerTurn], *, exact: bool) -> list[Segment]:
        starts = np.array([t.start for t in turns])
        ends = np.array([t.end for t in turns])
        speakers = [t.speaker for t in turns]

        def speaker_at(lo: float, hi: float) -> int:
            # The turn sharing most time with [lo, hi], else the nearest one (a word in a pause).
            shared = np.minimum(ends, hi) - np.maximum(starts, lo)
            if shared.max() > 0:
                return speakers[int(np.argmax(shared))]
            gap = np.maximum(starts - hi, lo - ends)
            return speakers[int(np.argmin(gap))]

        raw: list[list[int]] = [[speaker_at(w.start, w.end) for w in segment.words] for segment in items]
        smoothed = [_smooth(labels, self.min_turn_words) if labels else labels for labels in raw]
        if exact and len({s for labels in smoothed for s in labels}) < len({s for labels in raw for s in labels}):
            smoothed = raw  # smoothing must not make a requested speaker disappear
        pieces: list[tuple[Segment, int]] = []
        for segment, word_labels in zip(items, smoothed, strict=True):
            if word_labels:
                pieces.extend(_split(segment, word_labels))
            else:
                pieces.append((segment, speaker_at(segment.start, segment.end)))
        return self._name(pieces)

    def _name(self, pieces: list[tuple[Segment, int]]) -> list[Segment]:
        names: dict[int, str] = {}
        result = []
        for segment, label in pieces:
            name = names.setdefault(label, f"{self.speaker_prefix} {len(names) + 1}")
            result.append(segment.with_speaker(name))
        return result

    def _label(self, items: list[Segment], windows: list[_VoiceWindow], labels: list[int]) -> list[Segment]:
        centers = np.array([w.center for w in windows])
        by_segment: dict[int, list[int]] = {}
        for k, window in enumerate(windows):
            by_segment.setdefault(window.segment, []).append(k)

        def nearest(time: float, candidates: list[int] | None) -> int:
            pool = np.array(candidates) if candidates else np.arange(len(windows))
            return labels[int(pool[np.argmin(np.abs(centers[pool] - time))])]

        pieces: list[tuple[Segment, int]] = []
        for index, segment in enumerate(items):
            own = by_segment.get(index)
            if not segment.words:
                votes = [labels[k] for k in own] if own else [nearest((segment.start + segment.end) / 2, None)]
                pieces.append((segment, Counter(votes).most_common(1)[0][0]))
                continue
            word_labels = _smooth([nearest((w.start + w.end) / 2, own) for w in segment.words], self.min_turn_words)
            pieces.extend(_split(segment, word_labels))
        return self._name(pieces)


def _split(segment: Segment, word_labels: list[int]) -> list[tuple[Segment, int]]:
    """Cut a segment into runs of words that share a speaker."""
    runs: list[tuple[list[Word], int]] = []
    for word, label in zip(segment.words, word_labels, strict=True):
        if runs and runs[-1][1] == label:
            runs[-1][0].append(word)
        else:
            runs.append(([word], label))
    if len(runs) == 1:
        return [(segment, runs[0][1])]
    return [
        (
            replace(
                segment,
                start=words[0].start,
                end=words[-1].end,
                text=" ".join(w.text for w in words),
                words=tuple(words),
            ),
            label,
        )
        for words, label in runs
    ]
