"""The real Whisper base model on synthetic French speech: key words, timings, progress, cancel."""

from __future__ import annotations

import threading
import unicodedata
from pathlib import Path

import ctranslate2
import pytest

from tests.transcription.factories import convert, silence, tone, write_wav
from transcription import Transcriber, Transcript
from transcription.errors import (
    AudioTooLongError,
    DiarizationUnavailableError,
    SilentAudioError,
    TranscriptionCancelled,
    UnsupportedAudioError,
    UnsupportedLanguageError,
)

pytestmark = pytest.mark.slow


def _plain(text: str) -> str:
    """Lower case without accents, so "Bibliothèque" matches "bibliotheque"."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _assert_sane_timings(transcript: Transcript) -> None:
    previous_start = 0.0
    for segment in transcript.segments:
        assert 0.0 <= segment.start <= segment.end <= transcript.duration + 0.05
        assert segment.start >= previous_start
        previous_start = segment.start
        for word in segment.words:
            assert segment.start - 0.05 <= word.start <= word.end <= segment.end + 0.05


def test_french_speech_is_transcribed_with_timings(transcriber: Transcriber, french_wav: Path) -> None:
    progress: list[float] = []
    result = transcriber.transcribe(french_wav, on_progress=progress.append)
    text = _plain(result.text)
    for keyword in ("bonjour", "conseil municipal", "decide", "bibliotheque", "juin"):
        assert keyword in text, (keyword, result.text)
    assert result.language == "fr"
    assert result.language_probability is not None and result.language_probability > 0.5
    assert result.duration == pytest.approx(7.0, abs=1.5)
    assert result.model == "faster-whisper:" + transcriber.model_name.split(":", 1)[1]
    _assert_sane_timings(result)
    assert all(segment.words for segment in result.segments)
    assert all(segment.speaker is None for segment in result.segments)
    # "bibliothèque" is said in the second half of the recording
    (word,) = [w for s in result.segments for w in s.words if "biblioth" in _plain(w.text)]
    assert word.start > result.duration / 2
    assert progress == sorted(progress) and progress[-1] == 1.0 and len(progress) >= 2


def test_forced_language_and_unknown_language(transcriber: Transcriber, french_wav: Path) -> None:
    result = transcriber.transcribe(french_wav, language="fr")
    assert result.language == "fr"
    assert "bonjour" in _plain(result.text)
    with pytest.raises(UnsupportedLanguageError, match="xx"):
        transcriber.transcribe(french_wav, language="xx")


@pytest.mark.parametrize("extension", ["mp3", "ogg", "webm", "m4a"])
def test_compressed_formats(transcriber: Transcriber, french_wav: Path, tmp_path: Path, extension: str) -> None:
    encoded = convert(french_wav, tmp_path / f"fr.{extension}")
    text = _plain(transcriber.transcribe(encoded, language="fr").text)
    assert "bonjour" in text and "bibliotheque" in text, text


def test_long_recording_is_streamed_in_windows(model_dir: Path, long_french_wav: Path) -> None:
    # 6 s windows over ~14 s of speech: three windows, timestamps offset to the whole file. The service's
    # temperature fallback stays on: greedy decoding alone can loop on a window of synthetic speech.
    windowed = Transcriber(model_dir=model_dir, device="cpu", beam_size=1, cpu_threads=2, window_s=6.0)
    # The fallback samples: a fixed seed makes the run the same on every machine and under any load.
    ctranslate2.set_random_seed(20261202)
    stream = windowed.stream(long_french_wav, language="fr")
    assert stream.info.duration > 12
    segments = []
    for segment in stream:
        segments.append(segment)
    text = _plain(" ".join(s.text for s in segments))
    # Espeak's voice is hard on Whisper base: the first sentence sometimes comes out garbled; the windows are
    # what is tested here, through the two later sentences and the third one's position.
    assert "bibliotheque" in text and "septembre" in text, text
    (third,) = [s for s in segments if "septembre" in _plain(s.text)]
    assert third.start > 9.0, "the third sentence must keep its position in the whole file"
    assert [s.start for s in segments] == sorted(s.start for s in segments)
    assert stream.language == "fr"


def test_cancellation_stops_the_work(transcriber: Transcriber, long_french_wav: Path) -> None:
    cancel = threading.Event()
    seen: list[float] = []

    def on_progress(fraction: float) -> None:
        seen.append(fraction)
        cancel.set()  # as a user pressing "Annuler" after the first progress report

    with pytest.raises(TranscriptionCancelled, match="annulée"):
        transcriber.transcribe(long_french_wav, on_progress=on_progress, cancel=cancel)
    assert len(seen) == 1 and seen[0] < 0.6


def test_silence_and_tone_have_no_speech(transcriber: Transcriber, tmp_path: Path) -> None:
    with pytest.raises(SilentAudioError, match="Aucune parole"):
        transcriber.transcribe(write_wav(silence(5.0), tmp_path / "silence.wav"))
    with pytest.raises(SilentAudioError):
        transcriber.transcribe(write_wav(tone(1000, 3.0, amplitude=0.2), tmp_path / "bip.wav"))


def test_input_errors_are_raised_before_any_work(model_dir: Path, french_wav: Path, tmp_path: Path) -> None:
    limited = Transcriber(model_dir=model_dir, device="cpu", beam_size=1, max_duration_s=3.0)
    with pytest.raises(AudioTooLongError):
        limited.stream(french_wav)
    text = tmp_path / "reunion.wav"
    text.write_text("pas du son")
    with pytest.raises(UnsupportedAudioError):
        limited.stream(text)


def test_diarization_requires_a_diarizer(transcriber: Transcriber, french_wav: Path) -> None:
    assert transcriber.diarizer is None
    with pytest.raises(DiarizationUnavailableError, match="intervenants"):
        transcriber.transcribe(french_wav, diarize=True)
