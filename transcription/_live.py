"""Live transcription: partial text while a meeting is being recorded, final text once it is stable.

A :class:`LiveTranscriber` is fed 16 kHz mono PCM as it arrives (:meth:`LiveTranscriber.feed`) and, from a
worker thread, re-decodes the *unconfirmed tail* of the recording (:meth:`LiveTranscriber.step`) with any
:class:`~transcription.BaseTranscriber`. A word becomes final when two consecutive decodes of a growing tail
agree on it (the "local agreement" policy of Macháček et al., *Turning Whisper into Real-Time Transcription
System*, 2023): Whisper revises the last words of a window as more audio arrives, rarely the earlier ones.
Confirmed audio is cut from the tail, so each decode sees at most ``tail_s`` seconds and costs the same after an
hour as after a minute; the tail is also cut when nothing agrees for that long (music, crosstalk), so a decode
never grows without bound.

The library knows nothing of sockets: the caller decides when to call :meth:`step` and drops updates it has
no time to show. :meth:`finish` confirms whatever is left when the meeting ends.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from transcription._audio import SAMPLE_RATE, AudioWindow
from transcription._base import BaseTranscriber
from transcription._types import Segment, Word

__all__ = ["LiveTranscriber", "LiveUpdate", "pcm16_to_float"]

Samples = npt.NDArray[np.float32]

# A word whose start falls this close before the last confirmed end is the same word decoded again.
_OVERLAP_S = 0.1
# Two decodes agree on a word heard at the same place, give or take this much.
_SAME_TIME_S = 0.5
# Longest run of confirmed words matched against the start of a new decode to drop a repeated word.
_MAX_NGRAM = 5
# A final segment closes at a sentence end, after a pause this long, or past this many words.
_PAUSE_S = 1.0
_MAX_SEGMENT_WORDS = 40
# After a forced cut (nothing agreed for ``tail_s``), this much recent audio is kept for the next decode.
_KEEP_AFTER_FORCED_CUT_S = 4.0
# Where the tail is cut after a sentence: the quietest 50 ms within this much after its last word's end.
_QUIET_SEARCH_S = 0.8
_QUIET_FRAME_S = 0.05
# Fast French speech is about 4 words a second.
_MAX_WORDS_PER_S = 5.0
_SENTENCE_END = re.compile(r"[.!?…]$")
_NOT_WORD = re.compile(r"[^\w]+")


def pcm16_to_float(pcm: bytes) -> Samples:
    """16-bit little-endian PCM (what browsers send) as float32 samples in [-1, 1]."""
    if len(pcm) % 2:
        raise ValueError("PCM 16 bits : nombre d'octets impair.")
    return np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0


def _key(word: Word) -> str:
    """What two decodes must agree on: the word without case or punctuation."""
    return _NOT_WORD.sub("", word.text.lower())


@dataclass(frozen=True, slots=True)
class LiveUpdate:
    """What changed after one decode.

    ``final``: segments confirmed since the previous update (times in seconds from the start of the meeting);
    ``partial``: the text after them, still subject to change (confirmed words of an unfinished sentence, then
    the unconfirmed hypothesis); ``audio_end``: how much audio (seconds) this decode had received;
    ``decode_seconds``: how long the decode took; ``partial_words``: the partial text's words, timed.
    """

    final: tuple[Segment, ...]
    partial: str
    audio_end: float
    decode_seconds: float
    partial_words: tuple[Word, ...] = ()


class LiveTranscriber:
    """Partial and final text of a recording that is still going on.

    Keyword arguments:
        transcriber: the engine (local Whisper, or a remote server) that decodes each tail.
        language: ISO code, or ``None`` to let the engine detect it (it is then locked after the first decode
            that detects one, so that the tail is not decoded in another language halfway).
        tail_s: longest tail decoded at once; past it, audio is cut even when nothing was confirmed.
        min_new_s: :meth:`step` does nothing until this much new audio arrived since the previous decode.
        start_s: where the fed audio starts in the meeting (a transcriber resumed after a lost connection).

    :meth:`feed` may be called from any thread while :meth:`step` runs in another one; :meth:`step` and
    :meth:`finish` must not run concurrently with each other. Example::

        live = LiveTranscriber(transcriber, language="fr")
        live.feed(pcm16_to_float(chunk))          # as audio arrives
        update = live.step()                       # in a worker thread, about once a second
        if update: show(update.final, update.partial)
        last = live.finish()                       # when the meeting ends
    """

    def __init__(
        self,
        transcriber: BaseTranscriber,
        *,
        language: str | None = None,
        tail_s: float = 12.0,
        min_new_s: float = 1.0,
        start_s: float = 0.0,
    ) -> None:
        if tail_s <= _KEEP_AFTER_FORCED_CUT_S:
            raise ValueError(f"tail_s must exceed {_KEEP_AFTER_FORCED_CUT_S} s")
        self.transcriber = transcriber
        self.language = language
        self.tail_s = tail_s
        self.min_new_s = min_new_s
        self._lock = threading.Lock()
        self._chunks: list[Samples] = []
        start = round(start_s * SAMPLE_RATE)
        self._received = start  # samples fed since the start of the meeting
        self._tail_start = start  # sample index where the unconfirmed tail begins
        self._tail: Samples = np.zeros(0, dtype=np.float32)
        self._decoded_until = start  # samples received when the previous decode started
        self._confirmed_end = start / SAMPLE_RATE  # end time of the last confirmed word
        self._closed_end = start / SAMPLE_RATE  # end time of the last final segment
        self._confirmed: list[Word] = []  # confirmed words not yet closed into a final segment
        self._history: list[Word] = []  # the last confirmed words, to recognise a word decoded again
        self._hypothesis: list[Word] = []  # the previous decode's unconfirmed words

    @property
    def received_seconds(self) -> float:
        """Seconds of audio fed so far."""
        return self._received / SAMPLE_RATE

    def feed(self, samples: Samples) -> None:
        """Append audio (16 kHz mono float32); cheap, never decodes."""
        if len(samples):
            with self._lock:
                self._chunks.append(np.asarray(samples, dtype=np.float32))
                self._received += len(samples)

    def step(self) -> LiveUpdate | None:
        """Decode the tail if enough new audio arrived (blocking); ``None`` when there was nothing to do."""
        with self._lock:
            if (self._received - self._decoded_until) / SAMPLE_RATE < self.min_new_s:
                return None
        return self._decode(final=False)

    def finish(self) -> LiveUpdate:
        """Decode what is left and confirm all of it: the meeting is over (blocking)."""
        return self._decode(final=True)

    # ---- Decoding --------------------------------------------------------------------------------------------

    def _take_audio(self) -> AudioWindow:
        with self._lock:
            chunks, self._chunks = self._chunks, []
            self._decoded_until = self._received
        if chunks:
            self._tail = np.concatenate([self._tail, *chunks])
        return AudioWindow(start=self._tail_start / SAMPLE_RATE, samples=self._tail)

    def _decode(self, *, final: bool) -> LiveUpdate:
        started = time.perf_counter()
        window = self._take_audio()
        words = self._words(window) if len(window.samples) else []
        fresh = self._after_confirmed(words)
        if final:
            agreed, self._hypothesis = fresh, []
        else:
            agreed = self._agreement(self._hypothesis, fresh)
            self._hypothesis = fresh[len(agreed) :]
        self._confirm(agreed)
        segments = self._close_segments(final=final)
        self._cut_tail(window, forced=not final and window.duration > self.tail_s)
        pending = (*self._confirmed, *self._hypothesis)
        return LiveUpdate(
            final=segments,
            partial=" ".join(w.text for w in pending),
            audio_end=round(window.end, 3),
            decode_seconds=round(time.perf_counter() - started, 3),
            partial_words=pending,
        )

    def _words(self, window: AudioWindow) -> list[Word]:
        """The decode's words in absolute time; a segment without word times counts as one word."""
        # No prompt with the confirmed text: measured on espeak-ng French with Whisper base, the prompt made the
        # tail decode echo and drift (« La série s'y… » for « La séance du conseil… »); without it the live text
        # is as good as the offline one.
        result = self.transcriber.transcribe_window(window, language=self.language, prompt=None)
        words: list[Word] = []
        for segment in result.segments:
            parts = segment.words or (Word(segment.start, segment.end, segment.text),)
            for w in parts:
                # Clamped into the window: a hallucinated word can be timed past the audio, and a confirmed end
                # past the audio would hide the real words that come next.
                start = min(max(w.start, 0.0), window.duration) + window.start
                end = min(max(w.end, w.start), window.duration) + window.start
                if w.text.strip():
                    words.append(Word(start, end, w.text.strip(), w.probability))
        if self.language is None and result.language:
            self.language = result.language
        # A decode stuck in a loop (« de la vidéo de la vidéo… ») writes far more words than anyone says: keep
        # a plausible number, the next decodes (with more audio) rarely loop at the same place.
        return words[: max(1, int(window.duration * _MAX_WORDS_PER_S))]

    def _after_confirmed(self, words: list[Word]) -> list[Word]:
        """Drop what was confirmed already: words before the confirmed end, and a repeat of its last words."""
        fresh = [w for w in words if w.start >= self._confirmed_end - _OVERLAP_S]
        if fresh and self._history and abs(fresh[0].start - self._confirmed_end) < 1.0:
            for n in range(min(_MAX_NGRAM, len(self._history), len(fresh)), 0, -1):
                if [_key(w) for w in self._history[-n:]] == [_key(w) for w in fresh[:n]]:
                    return fresh[n:]
        return fresh

    @staticmethod
    def _agreement(previous: list[Word], current: list[Word]) -> list[Word]:
        """The longest run of words both decodes start with (the current decode's timing is kept)."""
        count = 0
        for before, now in zip(previous, current, strict=False):
            # Same word at about the same time: a looping decode repeats words, but never where they were.
            if _key(before) != _key(now) or abs(before.start - now.start) > _SAME_TIME_S:
                break
            count += 1
        return current[:count]

    def _confirm(self, words: list[Word]) -> None:
        if not words:
            return
        self._confirmed.extend(words)
        self._history = (self._history + words)[-50:]
        self._confirmed_end = max(self._confirmed_end, words[-1].end)

    def _cut_tail(self, window: AudioWindow, *, forced: bool) -> None:
        """Drop the audio of the final segments from the tail; when forced, also the confirmed words of the open
        sentence, and what stayed unconfirmed for too long.

        The tail starts at a sentence's start rather than at the last confirmed word: Whisper, given the whole
        sentence so far, hears its next words much better than from a cut in the middle of it.
        """
        cut = self._closed_end if not forced else self._confirmed_end
        if forced and cut < window.end - self.tail_s / 2:
            # Nothing agreed for a whole tail: confirm the older half of the hypothesis rather than decode an
            # ever longer tail (and lose latency); with no words at all the audio was silence or noise.
            limit = window.end - _KEEP_AFTER_FORCED_CUT_S
            older = [w for w in self._hypothesis if w.end <= limit]
            self._confirm(older)
            self._hypothesis = self._hypothesis[len(older) :]
            cut = max(self._confirmed_end, limit if not self._hypothesis else min(limit, self._hypothesis[0].start))
        if not forced and cut > self._tail_start / SAMPLE_RATE:
            # Only a sentence closed by this decode moves the cut; nothing closed means nothing to cut.
            cut = self._quiet_point(cut, window)
        index = round(cut * SAMPLE_RATE) - self._tail_start
        if index > 0:
            self._tail = self._tail[index:]
            self._tail_start += index

    def _quiet_point(self, cut: float, window: AudioWindow) -> float:
        """The quietest instant just after ``cut`` (before the next word): Whisper often ends a sentence's last word
        a little early, and a tail starting on the rest of that word makes it invent a phrase out of it."""
        limit = min(cut + _QUIET_SEARCH_S, window.end)
        if self._hypothesis:
            limit = min(limit, self._hypothesis[0].start)
        first = round(cut * SAMPLE_RATE) - self._tail_start
        last = round(limit * SAMPLE_RATE) - self._tail_start
        frame = round(_QUIET_FRAME_S * SAMPLE_RATE)
        if first < 0 or last - first < 2 * frame:
            return cut
        samples = window.samples[first:last]
        count = len(samples) // frame
        energy = np.square(samples[: count * frame].reshape(count, frame)).mean(axis=1)
        return cut + (int(np.argmin(energy)) + 0.5) * _QUIET_FRAME_S

    def _close_segments(self, *, final: bool) -> tuple[Segment, ...]:
        """Group confirmed words into final segments: at a sentence end, a pause, or a length limit."""
        segments: list[Segment] = []
        start = 0
        for i, word in enumerate(self._confirmed):
            following = self._confirmed[i + 1] if i + 1 < len(self._confirmed) else None
            ends = (
                _SENTENCE_END.search(word.text) is not None
                or (following is not None and following.start - word.end >= _PAUSE_S)
                or i + 1 - start >= _MAX_SEGMENT_WORDS
            )
            if ends:
                segments.append(_segment(self._confirmed[start : i + 1]))
                start = i + 1
        if final and start < len(self._confirmed):
            segments.append(_segment(self._confirmed[start:]))
            start = len(self._confirmed)
        if segments:
            self._closed_end = segments[-1].end
        self._confirmed = self._confirmed[start:]
        return tuple(segments)


def _segment(words: list[Word]) -> Segment:
    return Segment(
        start=round(words[0].start, 3),
        end=round(words[-1].end, 3),
        text=" ".join(w.text for w in words),
        words=tuple(words),
    )
