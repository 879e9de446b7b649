"""Resuming a transcription from its checkpoint: finished windows are replayed, not transcribed again.

The kill is simulated at a window boundary by a checkpoint that raises once it has recorded N windows (the
process dies right after the fsync); the re-run reads the same file. ``tests/faults/test_transcription_resume.py``
kills a real worker process instead.
"""

from __future__ import annotations

import itertools
import json
import threading
from pathlib import Path

import numpy as np
import pytest

from tests.transcription.factories import convert, silence, tone, write_wav
from transcription import (
    AudioWindow,
    FileCheckpoint,
    Segment,
    Transcriber,
    Transcript,
    WindowRecord,
    WindowResult,
    Word,
    iter_audio_windows,
)
from transcription.errors import TranscriptionCancelled

WINDOW_S = 6.0  # the 15 s recording is cut into four windows (cuts fall in pauses)


class _Killed(Exception):
    """Stands for the process dying."""


class CountingTranscriber(Transcriber):
    """The real Whisper engine, noting the start of every window it transcribes."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.transcribed: list[float] = []

    def transcribe_window(self, window: AudioWindow, *, language: str | None, prompt: str | None) -> WindowResult:
        self.transcribed.append(window.start)
        return super().transcribe_window(window, language=language, prompt=prompt)


class KilledAfter(FileCheckpoint):
    """A file checkpoint whose process "dies" right after recording ``windows`` windows."""

    def __init__(self, path: Path, windows: int) -> None:
        super().__init__(path)
        self.windows = windows

    def append(self, key: str, record: WindowRecord) -> None:
        super().append(key, record)
        if record.index + 1 == self.windows:
            raise _Killed


@pytest.fixture(scope="module")
def counting(model_dir: Path) -> CountingTranscriber:
    return CountingTranscriber(
        model_dir=model_dir, device="cpu", beam_size=1, cpu_threads=2, temperature=0.0, window_s=WINDOW_S
    )


@pytest.fixture(scope="module")
def in_one_go(counting: CountingTranscriber, long_french_wav: Path) -> tuple[Transcript, list[float]]:
    """The transcript made without a checkpoint, and the start of each window transcribed."""
    counting.transcribed.clear()
    # French forced, as the service does when the user says so: a 1 s first window is too short to detect it.
    whole = counting.transcribe(long_french_wav, language="fr")
    assert "bibliothèque" in whole.text.lower()
    assert len(counting.transcribed) >= 3, counting.transcribed
    return whole, list(counting.transcribed)


def test_a_resumed_transcription_skips_finished_windows_and_equals_one_made_in_one_go(
    counting: CountingTranscriber, in_one_go: tuple[Transcript, list[float]], long_french_wav: Path, tmp_path: Path
) -> None:
    whole, windows = in_one_go

    path = tmp_path / "seance.checkpoint.jsonl"
    counting.transcribed.clear()
    with pytest.raises(_Killed):
        counting.transcribe(long_french_wav, language="fr", checkpoint=KilledAfter(path, windows=2))
    assert counting.transcribed == windows[:2]
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1 + 2  # header and two windows
    stopped_at = json.loads(lines[-1])["end"]

    counting.transcribed.clear()
    progress: list[float] = []
    resumed = counting.transcribe(
        long_french_wav, language="fr", checkpoint=FileCheckpoint(path), on_progress=progress.append
    )
    assert counting.transcribed == windows[2:], "only the window the kill interrupted is transcribed again"
    assert resumed == whole
    # The replayed windows report their progress at once, up to where the first run stopped.
    assert progress[1] == pytest.approx(stopped_at / whole.duration, abs=1e-3) and progress[-1] == 1.0, progress
    assert _recorded(path) == pytest.approx(whole.duration, abs=0.01)


def _recorded(path: Path) -> float:
    """Where the windows recorded in a checkpoint file end, checking they follow each other from 0."""
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()[1:]]
    assert [r["index"] for r in records] == list(range(len(records)))
    assert all(a["end"] == pytest.approx(b["start"]) for a, b in itertools.pairwise(records))
    return float(records[-1]["end"])


def test_a_checkpoint_made_with_other_options_is_not_replayed(
    counting: CountingTranscriber, in_one_go: tuple[Transcript, list[float]], long_french_wav: Path, tmp_path: Path
) -> None:
    windows = in_one_go[1]
    path = tmp_path / "seance.checkpoint.jsonl"
    with pytest.raises(_Killed):
        counting.transcribe(long_french_wav, language="fr", checkpoint=KilledAfter(path, windows=1))

    counting.transcribed.clear()
    counting.transcribe(long_french_wav, language=None, checkpoint=FileCheckpoint(path))
    assert counting.transcribed == windows, "language now detected: the window made in French is redone"
    assert _recorded(path) == pytest.approx(in_one_go[0].duration, abs=0.01), "the old records were replaced"


class CancelledAfter(FileCheckpoint):
    """A file checkpoint that sets ``cancel`` (as the job's watcher does) once ``windows`` windows are recorded."""

    def __init__(self, path: Path, windows: int, cancel: threading.Event) -> None:
        super().__init__(path)
        self.windows, self.cancel = windows, cancel

    def append(self, key: str, record: WindowRecord) -> None:
        super().append(key, record)
        if record.index + 1 == self.windows:
            self.cancel.set()


def test_cancelling_mid_recording_stops_at_once_and_keeps_the_finished_windows(
    counting: CountingTranscriber, in_one_go: tuple[Transcript, list[float]], long_french_wav: Path, tmp_path: Path
) -> None:
    windows = in_one_go[1]
    cancel = threading.Event()
    path = tmp_path / "seance.checkpoint.jsonl"
    counting.transcribed.clear()
    with pytest.raises(TranscriptionCancelled):
        counting.transcribe(long_french_wav, language="fr", cancel=cancel, checkpoint=CancelledAfter(path, 2, cancel))
    assert counting.transcribed == windows[:2], "no window is started after the cancellation"
    assert len(path.read_text(encoding="utf-8").splitlines()) == 1 + 2


def _record(index: int, text: str) -> WindowRecord:
    word = Word(start=index + 0.1, end=index + 0.5, text=text, probability=0.9)
    segment = Segment(start=index + 0.1, end=index + 0.5, text=text, words=(word,))
    return WindowRecord(index, float(index), index + 1.0, (segment,), "fr", 0.98, text)


def test_the_file_checkpoint_survives_a_torn_write_and_refuses_another_key(tmp_path: Path) -> None:
    path = tmp_path / "a.checkpoint.jsonl"
    checkpoint = FileCheckpoint(path)
    assert checkpoint.load("k1") == []
    checkpoint.append("k1", _record(0, "bonjour"))
    checkpoint.append("k1", _record(1, "séance"))
    with path.open("a", encoding="utf-8") as handle:  # killed in the middle of the third line
        handle.write('{"index":2,"start":2.0,"end"')
    assert checkpoint.load("k1") == [_record(0, "bonjour"), _record(1, "séance")]
    checkpoint.append("k1", _record(2, "levée"))
    assert [r.prompt for r in FileCheckpoint(path).load("k1")] == ["bonjour", "séance", "levée"]

    assert checkpoint.load("k2") == [], "made under another key"
    assert not path.exists()
    checkpoint.append("k2", _record(0, "autre"))
    checkpoint.clear()
    assert list(tmp_path.iterdir()) == []


@pytest.fixture(scope="module")
def tones_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Forty seconds of 4 s tones and 1 s pauses: eight windows of about 5 s with ``window_s=6``."""
    parts = []
    for n in range(8):
        parts += [tone(220 + 40 * n, 4.0), silence(1.0)]
    return write_wav(np.concatenate(parts), tmp_path_factory.mktemp("seek") / "seance.wav")


# Lossless and Opus/AAC containers land on the very sample; MP3's encoder delay shifts a seek by ~20 ms.
@pytest.mark.parametrize(("suffix", "tolerance_s"), [(".wav", 0.0), (".flac", 0.0), (".ogg", 0.0), (".mp3", 0.03)])
def test_decoding_resumes_by_seeking_to_the_last_window_and_cuts_the_rest_alike(
    tones_wav: Path, tmp_path: Path, suffix: str, tolerance_s: float
) -> None:
    recording = tones_wav if suffix == ".wav" else convert(tones_wav, tmp_path / f"seance{suffix}")
    whole = list(iter_audio_windows(recording, window_s=WINDOW_S))
    assert len(whole) >= 6, [w.start for w in whole]
    resumed = list(iter_audio_windows(recording, window_s=WINDOW_S, start_s=whole[2].end))
    assert resumed[0].start == whole[3].start
    assert len(resumed) == len(whole) - 3
    for mine, reference in zip(resumed, whole[3:], strict=True):
        # A cut may move by one 50 ms frame when the samples are shifted, never more: it stays in the pause.
        assert mine.start == pytest.approx(reference.start, abs=tolerance_s + 0.05 * (tolerance_s > 0))
    if tolerance_s == 0.0:
        assert all(np.array_equal(a.samples, b.samples) for a, b in zip(resumed, whole[3:], strict=True))
    # Killed after the last window, before the transcript was stored: nothing (or MP3's padding) is left to decode.
    left = sum(w.duration for w in iter_audio_windows(recording, window_s=WINDOW_S, start_s=whole[-1].end))
    assert left <= tolerance_s
