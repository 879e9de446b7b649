"""Diarization quality: exact speaker counts, estimation, re-segmentation, DER on synthetic meetings.

The meetings come from the benchmark's generator (espeak-ng voices, SoX noise) and are scored with
pyannote.metrics' DER, as ``benchmarks/diarization.py`` does on longer ones.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from benchmarks.diarization_data.meetings import Meeting, make_meeting
from benchmarks.diarization_data.scoring import der, der_components
from transcription import Segment, SpeakerDiarizer, Word, cluster_speakers, diarization_available
from transcription._resegmentation import resegment

needs_resemblyzer = pytest.mark.skipif(not diarization_available(), reason="Resemblyzer/torch not installed")


def _blobs_with_outliers(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Three voices of 40 windows each, plus three windows far from everyone (coughs, crosstalk)."""
    rng = np.random.default_rng(seed)
    means = rng.normal(size=(3, 32))
    points = [m + 0.35 * rng.normal(size=(40, 32)) for m in means]
    outliers = rng.normal(size=(3, 32)) * 3
    return np.concatenate([*points, outliers]), np.repeat(np.arange(3), 40)


def test_a_given_count_is_honoured_despite_outlier_windows() -> None:
    points, truth = _blobs_with_outliers()
    labels = cluster_speakers(points, num_speakers=3)
    assert len(set(labels.tolist())) == 3
    # every real voice keeps a cluster of its own: the outliers did not take one
    voices = labels[: len(truth)]
    assert len(set(voices.tolist())) == 3
    assert all(len(set(voices[truth == k].tolist())) == 1 for k in range(3))


def test_the_first_version_lets_outliers_take_a_requested_speaker() -> None:
    # What the user saw (3 speakers asked, 2 voices found): average linkage gives the outliers a cluster.
    points, truth = _blobs_with_outliers()
    labels = cluster_speakers(points, num_speakers=3, method="agglomerative")
    assert len(set(labels[: len(truth)].tolist())) < 3


def test_resegmentation_places_a_turn_change_and_keeps_every_speaker() -> None:
    # Two voices along one 10 s region, change at 6.0 s; windows 1.6 s long every 0.4 s.
    rng = np.random.default_rng(1)
    voices = rng.normal(size=(2, 16))
    windows, vectors = [], []
    for start in np.arange(0.0, 8.5, 0.4):
        end = start + 1.6
        share = np.clip((end - 6.0) / 1.6, 0.0, 1.0)  # part of the window in the second voice
        vectors.append((1 - share) * voices[0] + share * voices[1] + 0.1 * rng.normal(size=16))
        windows.append((0, float(start), float(end)))
    points = np.asarray(vectors) / np.linalg.norm(vectors, axis=1, keepdims=True)
    labels = (np.array([w[1] + 0.8 for w in windows]) > 6.0).astype(int)
    turns = [t for t in resegment([(0.0, 10.1)], windows, points, labels, exact=True) if not t.overlap]
    assert [t.speaker for t in turns] == [0, 1]
    assert abs(turns[0].end - 6.0) <= 0.3
    # a requested third speaker with a single window still gets a turn
    labels3 = labels.copy()
    labels3[3] = 2
    assert {t.speaker for t in resegment([(0.0, 10.1)], windows, points, labels3, exact=True)} == {0, 1, 2}


def test_meetings_are_deterministic(tmp_path: Path) -> None:
    first = make_meeting(2, seed=7, duration_s=8, folder=tmp_path / "a")
    second = make_meeting(2, seed=7, duration_s=8, folder=tmp_path / "b")
    assert first.turns == second.turns
    assert hashlib.sha256(first.path.read_bytes()).digest() == hashlib.sha256(second.path.read_bytes()).digest()
    assert {t.speaker for t in first.turns} == {"S1", "S2"}


def _segments(meeting: Meeting) -> list[Segment]:
    segments = []
    for lo, hi in meeting.speech_regions():
        count = max(1, round((hi - lo) / 0.3))
        step = (hi - lo) / count
        words = tuple(Word(lo + i * step, lo + (i + 1) * step, f"mot{i}") for i in range(count))
        segments.append(Segment(start=lo, end=hi, text=" ".join(w.text for w in words), words=words))
    return segments


@pytest.fixture(scope="module")
def diarizer() -> SpeakerDiarizer:
    return SpeakerDiarizer()


@pytest.fixture(scope="module")
def meetings_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("meetings")


@pytest.mark.slow
@needs_resemblyzer
def test_three_voices_given_three_speakers(diarizer: SpeakerDiarizer, meetings_dir: Path) -> None:
    meeting = make_meeting(3, seed=2, duration_s=30, folder=meetings_dir)
    segments = _segments(meeting)
    labelled = diarizer.assign_speakers(meeting.path, segments, num_speakers=3)
    assert len({s.speaker for s in labelled}) == 3
    turns = diarizer.diarize(meeting.path, segments, num_speakers=3)
    components = der_components(
        [(t.speaker, t.start, t.end) for t in meeting.turns],
        [(t.speaker, t.start, t.end) for t in turns],
        duration=meeting.duration,
    )
    assert der(components) < 0.10, components


@pytest.mark.slow
@needs_resemblyzer
def test_two_voices_are_estimated(diarizer: SpeakerDiarizer, meetings_dir: Path) -> None:
    meeting = make_meeting(2, seed=3, duration_s=25, folder=meetings_dir)
    turns = diarizer.diarize(meeting.path, _segments(meeting))
    assert len({t.speaker for t in turns}) == 2
