"""Audio input: formats decoded with PyAV, windows, and the specific error for each bad input."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from tests.transcription.factories import RATE, convert, silence, tone, video_without_audio, write_wav
from transcription import SAMPLE_RATE, iter_audio_windows, load_audio, probe_audio
from transcription.errors import (
    AudioTooLongError,
    CorruptAudioError,
    EmptyAudioError,
    UnsupportedAudioError,
)


@pytest.fixture(scope="module")
def tone_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three seconds of a 440 Hz tone at 16 kHz."""
    return write_wav(tone(440, 3.0), tmp_path_factory.mktemp("tone") / "tone.wav")


@pytest.mark.parametrize("extension", ["mp3", "ogg", "webm", "m4a", "mp4", "flac"])
def test_each_supported_format_decodes_to_16k_mono(tone_wav: Path, tmp_path: Path, extension: str) -> None:
    encoded = convert(tone_wav, tmp_path / f"tone.{extension}")
    info = probe_audio(encoded, max_duration_s=10)
    assert info.duration == pytest.approx(3.0, abs=0.1)
    samples = load_audio(encoded)
    assert samples.dtype == np.float32
    assert len(samples) / SAMPLE_RATE == pytest.approx(3.0, abs=0.1)
    # the tone survives lossy coding: its spectrum peaks at 440 Hz
    spectrum = np.abs(np.fft.rfft(samples[RATE // 2 : RATE // 2 + RATE]))
    assert np.argmax(spectrum) == pytest.approx(440, abs=3)


def test_probe_describes_a_wav(tone_wav: Path) -> None:
    info = probe_audio(tone_wav)
    assert (info.format_name, info.codec, info.sample_rate, info.channels) == ("wav", "pcm_s16le", RATE, 1)
    assert info.duration == pytest.approx(3.0, abs=0.01)


def test_empty_file(tmp_path: Path) -> None:
    empty = tmp_path / "vide.wav"
    empty.touch()
    with pytest.raises(EmptyAudioError, match="vide"):
        probe_audio(empty)


def test_wav_without_samples(tmp_path: Path) -> None:
    header_only = write_wav(np.zeros(0, dtype=np.float32), tmp_path / "rien.wav")
    with pytest.raises(EmptyAudioError, match="aucun son"):
        load_audio(header_only)


def test_text_file_is_the_wrong_type(tmp_path: Path) -> None:
    text = tmp_path / "notes.mp3"
    text.write_text("Ceci est un compte rendu, pas un enregistrement.\n" * 20, encoding="utf-8")
    with pytest.raises(UnsupportedAudioError, match="pas un fichier audio"):
        probe_audio(text)


def test_image_is_the_wrong_type(tmp_path: Path) -> None:
    import zlib

    raw = b"\x00" + b"\xff\x00\x00" * 4
    chunk = b"IHDR" + (4).to_bytes(4, "big") + (1).to_bytes(4, "big") + b"\x08\x02\x00\x00\x00"
    png = (
        b"\x89PNG\r\n\x1a\n"
        + (13).to_bytes(4, "big") + chunk + zlib.crc32(chunk).to_bytes(4, "big")
        + len(zlib.compress(raw)).to_bytes(4, "big") + b"IDAT" + zlib.compress(raw)
        + zlib.crc32(b"IDAT" + zlib.compress(raw)).to_bytes(4, "big")
        + (0).to_bytes(4, "big") + b"IEND" + zlib.crc32(b"IEND").to_bytes(4, "big")
    )  # fmt: skip
    image = tmp_path / "photo.png"
    image.write_bytes(png)
    with pytest.raises(UnsupportedAudioError):
        probe_audio(image)


def test_video_without_audio_track(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedAudioError, match="aucune piste audio"):
        probe_audio(video_without_audio(tmp_path / "muet.mp4"))


def test_damaged_recording_is_corrupt_not_unsupported(tone_wav: Path, tmp_path: Path) -> None:
    damaged = tmp_path / "abime.ogg"
    good = convert(tone_wav, tmp_path / "tone.ogg").read_bytes()
    # keep the Ogg signature, scramble everything after it
    rng = np.random.default_rng(0)
    damaged.write_bytes(good[:4] + rng.integers(0, 256, len(good) - 4, dtype=np.uint8).tobytes())
    with pytest.raises(CorruptAudioError, match="endommagé"):
        load_audio(damaged)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedAudioError, match="introuvable"):
        probe_audio(tmp_path / "absent.wav")


def test_too_long_is_refused_before_decoding(tone_wav: Path) -> None:
    with pytest.raises(AudioTooLongError) as caught:
        probe_audio(tone_wav, max_duration_s=1.0)
    assert caught.value.duration_s == pytest.approx(3.0, abs=0.01)
    assert caught.value.max_duration_s == 1.0
    assert "limite" in str(caught.value)


def test_too_long_is_also_enforced_while_decoding(tone_wav: Path) -> None:
    with pytest.raises(AudioTooLongError):
        load_audio(tone_wav, max_duration_s=1.0)


def test_windows_cover_the_recording_and_cut_in_silence(tmp_path: Path) -> None:
    # 8 s of tone, a 0.4 s pause at 8.0-8.4 s, then tone until 20 s; windows of 10 s.
    samples = np.concatenate([tone(300, 8.0), silence(0.4), tone(300, 11.6)])
    path = write_wav(samples, tmp_path / "pause.wav")
    windows = list(iter_audio_windows(path, window_s=10.0))
    assert len(windows) == 3
    assert windows[0].start == 0.0
    # the first cut falls in the pause, not in the middle of "speech"
    assert 8.0 <= windows[0].end <= 8.4
    for before, after in itertools.pairwise(windows):
        assert after.start == pytest.approx(before.end)
    decoded = np.concatenate([w.samples for w in windows])
    assert len(decoded) == len(samples)
    assert np.allclose(decoded, load_audio(path))
    assert windows[0].peak_dbfs == pytest.approx(20 * np.log10(0.3), abs=0.1)


def test_window_peak_of_digital_silence_is_minus_infinity(tmp_path: Path) -> None:
    (window,) = iter_audio_windows(write_wav(silence(1.0), tmp_path / "s.wav"), window_s=10.0)
    assert window.peak_dbfs == -np.inf
