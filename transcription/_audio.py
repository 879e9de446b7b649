"""Audio input: check, decode and cut recordings into windows with PyAV (what faster-whisper uses).

Recordings are decoded to 16 kHz mono float32 as a stream of windows, so a three-hour meeting
never sits whole in memory and its transcription can report progress window by window.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import av.error
import numpy as np
import numpy.typing as npt

from transcription.errors import (
    AudioTooLongError,
    CorruptAudioError,
    EmptyAudioError,
    UnsupportedAudioError,
)

__all__ = [
    "SAMPLE_RATE",
    "AudioInfo",
    "AudioWindow",
    "iter_audio_windows",
    "load_audio",
    "probe_audio",
]

logger = logging.getLogger(__name__)

SAMPLE_RATE = 16_000
_SUPPORTED_FORMATS = frozenset({"wav", "mp3", "mov", "mp4", "m4a", "ogg", "matroska", "webm", "flac"})
_FORMATS_FOR_USERS = "WAV, MP3, M4A, OGG/Opus, WebM, MP4, FLAC"
# How far back from a window's end we look for a quiet instant to cut at, and the frame used.
_CUT_SEARCH_S = 5.0
_CUT_FRAME_S = 0.05
_CUT_SMOOTH_FRAMES = 7
# The duration limit tolerates container rounding.
_DURATION_SLACK_S = 0.5

Samples = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class AudioInfo:
    """What :func:`probe_audio` learnt about a file without decoding it."""

    path: Path
    format_name: str
    codec: str
    duration: float
    sample_rate: int
    channels: int


@dataclass(frozen=True, slots=True)
class AudioWindow:
    """A slice of decoded audio: 16 kHz mono float32 samples starting at ``start`` seconds."""

    start: float
    samples: Samples

    @property
    def duration(self) -> float:
        return len(self.samples) / SAMPLE_RATE

    @property
    def end(self) -> float:
        return self.start + self.duration

    @property
    def peak_dbfs(self) -> float:
        """Peak level in dBFS (``-inf`` for digital silence)."""
        peak = float(np.max(np.abs(self.samples))) if len(self.samples) else 0.0
        return 20 * math.log10(peak) if peak > 0 else -math.inf


def _looks_like_audio(header: bytes) -> bool:
    """Recognise the signatures of the accepted containers.

    This only decides which error to raise when PyAV cannot open a file: a known signature
    means a damaged recording, anything else a file of the wrong type.
    """
    return (
        (header[:4] == b"RIFF" and header[8:12] == b"WAVE")
        or header[:3] == b"ID3"
        or (len(header) > 1 and header[0] == 0xFF and header[1] & 0xE0 == 0xE0)
        or header[4:8] == b"ftyp"
        or header[:4] in (b"OggS", b"fLaC", b"\x1a\x45\xdf\xa3")
    )


def _open(path: Path) -> av.container.InputContainer:
    try:
        with path.open("rb") as handle:
            header = handle.read(16)
    except OSError as exc:  # missing, a directory, unreadable
        raise UnsupportedAudioError(f"Le fichier « {path.name} » est introuvable ou illisible.") from exc
    if not header:
        raise EmptyAudioError(f"Le fichier « {path.name} » est vide.")
    try:
        container = av.open(str(path), mode="r")
    except (av.error.FFmpegError, UnicodeDecodeError) as exc:
        if _looks_like_audio(header):
            raise CorruptAudioError(f"Le fichier « {path.name} » est endommagé : il ne peut pas être décodé.") from exc
        raise UnsupportedAudioError(
            f"Le fichier « {path.name} » n'est pas un fichier audio ou vidéo pris en charge ({_FORMATS_FOR_USERS})."
        ) from exc
    names = set(container.format.name.split(","))
    if not names & _SUPPORTED_FORMATS:
        container.close()
        raise UnsupportedAudioError(
            f"Le format « {container.format.name} » du fichier « {path.name} » n'est pas pris en charge "
            f"({_FORMATS_FOR_USERS})."
        )
    if not container.streams.audio:
        container.close()
        raise UnsupportedAudioError(f"Le fichier « {path.name} » ne contient aucune piste audio.")
    return container


def _container_duration(container: av.container.InputContainer) -> float | None:
    stream = container.streams.audio[0]
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return None


def _demuxed_duration(container: av.container.InputContainer) -> float:
    # Some recorders (browser MediaRecorder WebM) write no duration: sum packet durations,
    # which reads the file without decoding it.
    stream = container.streams.audio[0]
    total = 0.0
    try:
        for packet in container.demux(stream):
            if packet.duration is not None and packet.time_base is not None:
                total += float(packet.duration * packet.time_base)
    except av.error.FFmpegError as exc:
        raise CorruptAudioError("Le fichier audio est endommagé : sa lecture a échoué.") from exc
    return total


def _too_long(name: str, duration: float, max_duration_s: float) -> AudioTooLongError:
    return AudioTooLongError(
        f"Le fichier « {name} » dure {duration / 60:.1f} minutes, au-delà de la limite de "
        f"{max_duration_s / 60:.1f} minutes.",
        duration_s=duration,
        max_duration_s=max_duration_s,
    )


def probe_audio(source: str | os.PathLike[str], *, max_duration_s: float | None = None) -> AudioInfo:
    """Open ``source``, check its type and duration, and describe it without decoding samples.

    Raises :class:`EmptyAudioError`, :class:`UnsupportedAudioError`, :class:`CorruptAudioError`
    or :class:`AudioTooLongError`.
    """
    path = Path(source)
    with _open(path) as container:
        stream = container.streams.audio[0]
        duration = _container_duration(container)
        if duration is None:
            duration = _demuxed_duration(container)
        info = AudioInfo(
            path=path,
            format_name=container.format.name,
            codec=stream.codec_context.name,
            duration=duration,
            sample_rate=stream.codec_context.sample_rate or 0,
            channels=stream.codec_context.channels or 0,
        )
    if max_duration_s is not None and info.duration > max_duration_s + _DURATION_SLACK_S:
        raise _too_long(path.name, info.duration, max_duration_s)
    return info


def _seek(container: av.container.InputContainer, start_s: float) -> None:
    """Put the demuxer at or before ``start_s``; the samples decoded before it are dropped by the caller."""
    stream = container.streams.audio[0]
    if stream.time_base is None:
        container.seek(int(start_s * av.time_base), backward=True)
    else:
        container.seek(int(start_s / stream.time_base), backward=True, stream=stream)


def _iter_samples(path: Path, max_duration_s: float | None, start_s: float = 0.0) -> Iterator[Samples]:
    """Decode ``path`` to 16 kHz mono float32 chunks from ``start_s``, skipping undecodable packets.

    A start past 0 seeks the container (a resumed hour-long job does not decode the windows it already has); the
    demuxer lands on a packet at or before it, and the decoded samples before ``start_s`` are dropped, using the
    first frame's timestamp. Without timestamps, the file is decoded from its beginning and the samples dropped.
    """
    resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
    start = round(start_s * SAMPLE_RATE)
    decoded = start
    bad_packets = 0
    limit = None if max_duration_s is None else (max_duration_s + _DURATION_SLACK_S) * SAMPLE_RATE
    # Samples still to drop before ``start_s``: unknown (None) until the first frame says where the seek landed.
    to_skip: int | None = 0 if start == 0 else None

    def convert(frames: list[av.AudioFrame]) -> Iterator[Samples]:
        nonlocal decoded, to_skip
        for out in frames:
            chunk = out.to_ndarray().reshape(-1).astype(np.float32) / np.float32(32768.0)
            if to_skip:
                dropped = min(to_skip, len(chunk))
                chunk, to_skip = chunk[dropped:], to_skip - dropped
            if not len(chunk):
                continue
            decoded += len(chunk)
            if limit is not None and decoded > limit:
                raise _too_long(path.name, decoded / SAMPLE_RATE, max_duration_s or 0.0)
            yield chunk

    with _open(path) as container:
        stream = container.streams.audio[0]
        try:
            if start:
                _seek(container, start_s)
            for packet in container.demux(stream):
                try:
                    frames = packet.decode()
                except av.error.InvalidDataError:
                    # Like ffmpeg, tolerate a few damaged packets in an otherwise sound file.
                    bad_packets += 1
                    continue
                for frame in frames:
                    if to_skip is None:
                        landed = frame.time
                        if landed is None or landed > start_s + 1 / SAMPLE_RATE:
                            # No timestamp to trust, or the seek overshot: decode from the start instead.
                            container.close()
                            yield from _decode_skipping(path, max_duration_s, start)
                            return
                        to_skip = round((start_s - landed) * SAMPLE_RATE)
                    yield from convert(resampler.resample(frame))
            yield from convert(resampler.resample(None))
        except av.error.FFmpegError as exc:
            raise CorruptAudioError(f"Le fichier « {path.name} » est endommagé : décodage interrompu.") from exc
    # A resumed job may seek to the very end (killed after its last window): nothing left is not an error there.
    if decoded == 0:
        if bad_packets:
            raise CorruptAudioError(f"Le fichier « {path.name} » est endommagé : aucun son décodable.")
        raise EmptyAudioError(f"Le fichier « {path.name} » ne contient aucun son.")
    if bad_packets:
        logger.warning("Skipped %d undecodable packets in %s", bad_packets, path.name)


def _decode_skipping(path: Path, max_duration_s: float | None, start: int) -> Iterator[Samples]:
    """Decode from the beginning and drop the first ``start`` samples (the slow, exact way to a position)."""
    for chunk in _iter_samples(path, max_duration_s):
        if start >= len(chunk):
            start -= len(chunk)
            continue
        yield chunk[start:]
        start = 0


def _quietest_cut(buffer: Samples, window: int) -> int:
    """Index near ``window`` where the audio is quietest, so a cut does not split a word.

    Frame energies are smoothed over ~350 ms so that the cut lands inside a pause, away from
    its edges, rather than on the first quiet frame after a sound.
    """
    frame = int(_CUT_FRAME_S * SAMPLE_RATE)
    lo = max(window - int(_CUT_SEARCH_S * SAMPLE_RATE), frame)
    region = buffer[lo:window]
    n_frames = len(region) // frame
    if n_frames == 0:
        return window
    energy = np.square(region[: n_frames * frame].reshape(n_frames, frame)).mean(axis=1)
    width = min(_CUT_SMOOTH_FRAMES, n_frames)
    smoothed = np.convolve(energy, np.ones(width) / width, mode="same")
    return lo + int(np.argmin(smoothed)) * frame + frame // 2


def iter_audio_windows(
    source: str | os.PathLike[str],
    *,
    window_s: float = 600.0,
    max_duration_s: float | None = None,
    start_s: float = 0.0,
) -> Iterator[AudioWindow]:
    """Yield consecutive windows of about ``window_s`` seconds covering the recording from ``start_s``.

    Each cut is placed at the quietest 50 ms within the last five seconds of the window. Only one window (and
    the decoder's few frames) is in memory at a time. ``start_s`` (the end of the last window a resumed job has)
    seeks there instead of decoding what comes before. Errors are those of :func:`probe_audio`, raised when met
    while decoding.
    """
    if window_s <= _CUT_SEARCH_S:
        raise ValueError("window_s must exceed the cut search span (5 s)")
    if start_s < 0:
        raise ValueError("start_s must not be negative")
    path = Path(source)
    window = int(window_s * SAMPLE_RATE)
    pending: list[Samples] = []
    pending_len = 0
    offset = round(start_s * SAMPLE_RATE)
    for chunk in _iter_samples(path, max_duration_s, start_s):
        pending.append(chunk)
        pending_len += len(chunk)
        if pending_len < window:
            continue
        buffer = np.concatenate(pending)
        while len(buffer) >= window:
            cut = _quietest_cut(buffer, window)
            yield AudioWindow(start=offset / SAMPLE_RATE, samples=buffer[:cut])
            offset += cut
            buffer = buffer[cut:]
        pending, pending_len = [buffer], len(buffer)
    if pending_len:
        yield AudioWindow(start=offset / SAMPLE_RATE, samples=np.concatenate(pending))


def load_audio(source: str | os.PathLike[str], *, max_duration_s: float | None = None) -> Samples:
    """Decode the whole recording to 16 kHz mono float32 (for short files and tests)."""
    return np.concatenate(list(_iter_samples(Path(source), max_duration_s)))
