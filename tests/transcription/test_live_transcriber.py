"""LiveTranscriber's commit logic, on an engine whose output depends on the audio it is given.

The scripted engine "hears" a word once its audio has fully arrived in the window, and mis-hears the word being
spoken at the window's end (as Whisper does with a cut word), so confirmation has to wait for a second decode.
A last test runs the real Whisper base on espeak-ng speech fed in quarter-second chunks.
"""

from __future__ import annotations

import copy
import difflib
import itertools
import re
from pathlib import Path

import ctranslate2
import numpy as np
import pytest

from tests.transcription.factories import LONG_FRENCH_SENTENCES, RATE, silence
from transcription import AudioWindow, BaseTranscriber, Segment, Transcriber, WindowResult, Word, load_audio
from transcription._live import LiveTranscriber, pcm16_to_float

REFERENCE = " ".join(LONG_FRENCH_SENTENCES)

# (start, end, text) in seconds from the start of the meeting.
SCRIPT = [
    (0.2 + 0.6 * i, 0.7 + 0.6 * i, word)
    for i, word in enumerate(["la", "séance", "est", "ouverte", ".", "nous", "votons"])
]


class ScriptedEngine(BaseTranscriber):
    """Answers with the script's words heard in the window: whole ones right, the one cut at the end wrong."""

    model_name = "scripted"

    def __init__(self, script: list[tuple[float, float, str]]) -> None:
        super().__init__()
        self.script = script
        self.windows: list[tuple[float, float]] = []
        self.prompts: list[str | None] = []

    def transcribe_window(self, window: AudioWindow, *, language: str | None, prompt: str | None) -> WindowResult:
        self.windows.append((window.start, window.end))
        self.prompts.append(prompt)
        words = []
        for start, end, text in self.script:
            if start < window.start - 0.05 or start >= window.end:
                continue
            heard = text if end <= window.end else text[:2] + "#"  # cut mid-word: mis-heard
            words.append(Word(start - window.start, min(end, window.end) - window.start, heard))
        segments = (
            [Segment(words[0].start, words[-1].end, " ".join(w.text for w in words), tuple(words))] if words else []
        )
        return WindowResult(segments=iter(segments), language=language or "fr")


def _feed_and_step(live: LiveTranscriber, seconds: float, chunk: float = 0.25) -> list:  # type: ignore[type-arg]
    updates = []
    for _ in range(round(seconds / chunk)):
        live.feed(silence(chunk))
        update = live.step()
        if update is not None:
            updates.append(update)
    return updates


def test_a_word_is_final_only_once_two_decodes_agree_on_it() -> None:
    engine = ScriptedEngine(SCRIPT)
    live = LiveTranscriber(engine, language="fr", min_new_s=0.5)
    live.feed(silence(1.0))  # "la" (0.2-0.7) whole, "séance" (0.8-1.3) cut
    first = live.step()
    assert first is not None and first.final == () and first.partial == "la sé#"
    live.feed(silence(0.5))  # "la" heard again: agreed; "séance" now whole, but seen whole once only
    second = live.step()
    assert second is not None
    assert second.partial.startswith("la séance"), "confirmed words of an open sentence stay in the partial text"
    assert second.final == ()
    assert engine.windows[1][0] == 0.0, "the tail keeps the open sentence's audio, for context"


def test_sentences_close_into_final_segments_without_gap_or_repeat() -> None:
    engine = ScriptedEngine(SCRIPT)
    live = LiveTranscriber(engine, language="fr", min_new_s=0.5)
    updates = _feed_and_step(live, 4.5)
    finals = [segment for update in updates for segment in update.final]
    assert [s.text for s in finals] == ["la séance est ouverte ."]
    assert finals[0].start == pytest.approx(0.2) and finals[0].end == pytest.approx(3.1)
    # The tail is cut at the quietest instant between the sentence's end (3.1 s) and the next word (3.2 s).
    assert 3.1 <= engine.windows[-1][0] < 3.2, "a closed sentence's audio is cut from the tail"
    last = live.finish()
    texts = [s.text for s in finals + list(last.final)]
    assert " ".join(texts).split() == [text for _, _, text in SCRIPT], "every word once, in order"
    assert last.partial == ""


def test_nothing_happens_until_enough_new_audio_arrived() -> None:
    engine = ScriptedEngine(SCRIPT)
    live = LiveTranscriber(engine, min_new_s=1.0)
    live.feed(silence(0.5))
    assert live.step() is None and engine.windows == []
    live.feed(silence(0.5))
    assert live.step() is not None and live.language == "fr", "a detected language is locked"


def test_the_tail_stays_bounded_when_nothing_ever_agrees() -> None:
    class Babbling(ScriptedEngine):
        def transcribe_window(self, window: AudioWindow, *, language: str | None, prompt: str | None) -> WindowResult:
            self.windows.append((window.start, window.end))
            n = len(self.windows)
            words = tuple(Word(t, t + 0.3, f"mot{n}-{t:.0f}") for t in np.arange(0.0, window.duration - 0.3, 1.0))
            return WindowResult(segments=iter([Segment(0.0, window.duration, "…", words)]), language="fr")

    engine = Babbling([])
    live = LiveTranscriber(engine, tail_s=6.0, min_new_s=1.0)
    _feed_and_step(live, 30.0)
    assert max(end - start for start, end in engine.windows) <= 6.0 + 1.0 + 1e-6


def test_pcm16_is_read_as_little_endian_samples() -> None:
    samples = pcm16_to_float(np.array([0, 16384, -32768], dtype="<i2").tobytes())
    assert samples.tolist() == [0.0, 0.5, -1.0]
    with pytest.raises(ValueError, match="impair"):
        pcm16_to_float(b"\x00")


def _similarity(reference: str, hypothesis: str) -> float:
    """Share of the reference's words found in order in the hypothesis (difflib's matching blocks)."""
    ref, hyp = re.findall(r"\w+", reference.lower()), re.findall(r"\w+", hypothesis.lower())
    matched = sum(block.size for block in difflib.SequenceMatcher(a=ref, b=hyp, autojunk=False).get_matching_blocks())
    return matched / len(ref)


def test_real_whisper_partial_then_final_text(transcriber: Transcriber, long_french_wav: Path) -> None:
    samples = load_audio(long_french_wav)
    # With the temperature fallback the service uses: greedy decoding alone can loop on a short tail. The
    # fallback samples, so the generator is seeded for a run that repeats.
    ctranslate2.set_random_seed(7)
    engine = copy.copy(transcriber)
    engine.temperature = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
    live = LiveTranscriber(engine, language="fr")
    partials, finals = [], []
    for i in range(0, len(samples), RATE // 4):
        live.feed(samples[i : i + RATE // 4])
        update = live.step()
        if update is not None:
            partials.append(update.partial)
            finals.extend(update.final)
    finals.extend(live.finish().final)
    text = " ".join(s.text for s in finals).lower()
    assert any(partials), "partial text shows up before the end"
    for word in ("conseil", "bibliothèque"):
        assert word in text, text
    # Whisper base mis-hears espeak-ng's voice offline too (« Rebut à de la commune »): the live text is held to
    # the offline one on the same audio, not to a perfect one.
    offline = " ".join(s.text for s in engine.transcribe(long_french_wav, language="fr").segments)
    assert _similarity(REFERENCE, text) >= _similarity(REFERENCE, offline) - 0.15, (text, offline)
    starts = [s.start for s in finals]
    assert starts == sorted(starts) and all(a.end <= b.start + 0.1 for a, b in itertools.pairwise(finals))
