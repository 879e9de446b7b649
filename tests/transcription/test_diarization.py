"""Speaker clustering, speaker assignment to words and segments, and real Resemblyzer diarization."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.transcription.factories import (
    RATE,
    BandEnergyEmbedder,
    silence,
    speak,
    tone,
    transcript,
    write_wav,
)
from transcription import (
    SpeakerDiarizer,
    Transcriber,
    cluster_speakers,
    diarization_available,
    load_audio,
)


def _blobs(centers: int, per_center: int, noise: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    means = rng.normal(size=(centers, 32))
    points = np.concatenate([m + noise * rng.normal(size=(per_center, 32)) for m in means])
    return points, np.repeat(np.arange(centers), per_center)


def _same_partition(found: np.ndarray, truth: np.ndarray) -> bool:
    pairs = set(zip(found.tolist(), truth.tolist(), strict=True))
    return len(pairs) == len(set(truth.tolist())) == len(set(found.tolist()))


@pytest.mark.parametrize("speakers", [1, 2, 3, 5])
def test_number_of_speakers_is_estimated(speakers: int) -> None:
    points, truth = _blobs(speakers, 40, noise=0.15)
    assert _same_partition(cluster_speakers(points), truth)


def test_fixed_number_of_speakers_and_edge_cases() -> None:
    points, truth = _blobs(2, 30, noise=0.15)
    assert _same_partition(cluster_speakers(points, num_speakers=2), truth)
    assert cluster_speakers(points, num_speakers=1).tolist() == [0] * 60
    assert cluster_speakers(np.zeros((0, 8))).tolist() == []
    assert cluster_speakers(points[:2]).tolist() == [0, 0]
    assert cluster_speakers(points[:2], num_speakers=2).tolist() == [0, 1]
    with pytest.raises(ValueError, match="2-D"):
        cluster_speakers(np.zeros(8))
    with pytest.raises(ValueError, match="at least 1"):
        cluster_speakers(points, num_speakers=0)


def test_large_inputs_are_clustered_on_a_sample_then_assigned() -> None:
    points, truth = _blobs(2, 2000, noise=0.15)
    labels = cluster_speakers(points, max_points=150)
    assert _same_partition(labels, truth)


@pytest.fixture
def two_tone_wav(tmp_path: Path) -> Path:
    # "speaker" A (250 Hz) 0-3 s, B (1500 Hz) 3-6 s, A again 6-9 s
    return write_wav(np.concatenate([tone(250, 3), tone(1500, 3), tone(250, 3)]), tmp_path / "tones.wav")


def test_a_segment_spoken_by_two_people_is_split(two_tone_wav: Path) -> None:
    words = " ".join(f"mot{i}" for i in range(12))
    segments = transcript((0.0, 6.0, words, None), (6.0, 9.0, "fin de la réunion", None)).segments
    diarizer = SpeakerDiarizer(embedder=BandEnergyEmbedder(), min_turn_words=2)
    result = diarizer.assign_speakers(two_tone_wav, segments)
    assert [(s.speaker, s.start, s.end) for s in result] == [
        ("Intervenant 1", 0.0, 3.0),
        ("Intervenant 2", 3.0, 6.0),
        ("Intervenant 1", 6.0, 9.0),
    ]
    assert result[0].text == "mot0 mot1 mot2 mot3 mot4 mot5"
    assert result[1].text == "mot6 mot7 mot8 mot9 mot10 mot11"


def test_segments_without_words_take_their_majority_speaker(two_tone_wav: Path) -> None:
    bare = [s.__class__(start=s.start, end=s.end, text=s.text) for s in transcript(
        (0.2, 2.8, "première intervention", None),
        (3.2, 5.8, "deuxième intervention", None),
        (6.1, 8.9, "troisième intervention", None),
    ).segments]  # fmt: skip
    result = SpeakerDiarizer(embedder=BandEnergyEmbedder()).assign_speakers(two_tone_wav, bare)
    assert [s.speaker for s in result] == ["Intervenant 1", "Intervenant 2", "Intervenant 1"]
    assert [s.text for s in result] == [s.text for s in bare]


def test_fixed_speaker_count_and_prefix(two_tone_wav: Path) -> None:
    segments = transcript((0.0, 3.0, "un deux trois", None), (3.0, 6.0, "quatre cinq six", None)).segments
    diarizer = SpeakerDiarizer(embedder=BandEnergyEmbedder(), speaker_prefix="Locuteur")
    assert {s.speaker for s in diarizer.assign_speakers(two_tone_wav, segments, num_speakers=1)} == {
        "Locuteur 1"
    }
    assert diarizer.assign_speakers(two_tone_wav, []) == []


needs_resemblyzer = pytest.mark.skipif(not diarization_available(), reason="Resemblyzer/torch not installed")

_TURNS = [
    ("fr", "Bonjour à tous, nous commençons la réunion du comité de pilotage consacrée au budget."),
    ("fr+f2", "Merci. Je propose de reporter la décision sur le budget au mois de septembre prochain."),
    ("fr", "Très bien, nous avons décidé de reporter ce point. Passons au calendrier des travaux."),
    ("fr+f2", "Les travaux commenceront en octobre. Madame Dupont enverra le planning avant vendredi."),
]


@pytest.fixture(scope="module")
def dialogue_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two espeak-ng voices (a male and a female variant) taking turns, 0.3 s apart."""
    folder = tmp_path_factory.mktemp("dialogue")
    parts = []
    for i, (voice, text) in enumerate(_TURNS):
        parts += [load_audio(speak(text, folder / f"turn{i}.wav", voice=voice, speed=160)), silence(0.3)]
    return write_wav(np.concatenate(parts), folder / "dialogue.wav")


@pytest.fixture(scope="module")
def diarizer() -> SpeakerDiarizer:
    return SpeakerDiarizer()


def _turn_bounds(files: list[Path]) -> list[tuple[float, float]]:
    bounds, start = [], 0.0
    for path in files:
        end = start + len(load_audio(path)) / RATE
        bounds.append((start, end))
        start = end + 0.3
    return bounds


@pytest.mark.slow
@needs_resemblyzer
def test_two_voices_are_found(model_dir: Path, diarizer: SpeakerDiarizer, dialogue_wav: Path) -> None:
    transcriber = Transcriber(
        model_dir=model_dir, device="cpu", beam_size=1, cpu_threads=2, temperature=0.0, diarizer=diarizer
    )
    result = transcriber.transcribe(dialogue_wav, language="fr", diarize=True)
    assert result.speakers == ["Intervenant 1", "Intervenant 2"]
    # who speaks when: the middle of each segment must fall in a turn of the expected voice
    bounds = _turn_bounds(sorted(dialogue_wav.parent.glob("turn*.wav")))
    expected = ["Intervenant 1", "Intervenant 2", "Intervenant 1", "Intervenant 2"]
    for segment in result.segments:
        middle = (segment.start + segment.end) / 2
        (turn,) = [i for i, (lo, hi) in enumerate(bounds) if lo - 0.3 <= middle <= hi + 0.3]
        assert segment.speaker == expected[turn], (segment, turn)


@pytest.mark.slow
@needs_resemblyzer
def test_one_voice_is_one_speaker(diarizer: SpeakerDiarizer, tmp_path: Path) -> None:
    files, parts = [], []
    for i, (_, text) in enumerate(_TURNS):
        files.append(speak(text, tmp_path / f"solo{i}.wav", voice="fr", speed=160))
        parts += [load_audio(files[-1]), silence(0.3)]
    solo = write_wav(np.concatenate(parts), tmp_path / "solo.wav")
    segments = transcript(
        *[
            (lo, hi, f"phrase numéro {i} de la réunion", None)
            for i, (lo, hi) in enumerate(_turn_bounds(files))
        ]
    ).segments
    labelled = diarizer.assign_speakers(solo, segments)
    assert len(labelled) >= 4
    assert {s.speaker for s in labelled} == {"Intervenant 1"}


def test_without_resemblyzer_diarization_is_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util
    import sys

    from transcription import ResemblyzerEmbedder
    from transcription.errors import DiarizationUnavailableError

    # None in sys.modules makes "import resemblyzer" fail as if the package were absent
    monkeypatch.setitem(sys.modules, "resemblyzer", None)
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "resemblyzer" else real_find_spec(name)
    )
    assert diarization_available() is False
    with pytest.raises(DiarizationUnavailableError, match="Resemblyzer"):
        ResemblyzerEmbedder()
    with pytest.raises(DiarizationUnavailableError):
        SpeakerDiarizer()
