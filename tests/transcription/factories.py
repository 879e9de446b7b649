"""Test audio made on the fly: French speech with espeak-ng, other formats encoded with PyAV."""

from __future__ import annotations

import shutil
import subprocess
import wave
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt

from transcription import Segment, Transcript, Word

RATE = 16_000


def speak(text: str, path: Path, *, voice: str = "fr", speed: int = 150) -> Path:
    """Synthesise ``text`` with Debian's espeak-ng into a WAV file."""
    if shutil.which("espeak-ng") is None:
        raise RuntimeError("espeak-ng is required by these tests: apt-get install -y espeak-ng")
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(path), text], check=True)
    return path


def write_wav(samples: npt.NDArray[np.float32], path: Path, rate: int = RATE) -> Path:
    pcm = np.clip(samples * 32767, -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm.tobytes())
    return path


def tone(freq: float, seconds: float, *, amplitude: float = 0.3) -> npt.NDArray[np.float32]:
    t = np.arange(int(seconds * RATE)) / RATE
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def silence(seconds: float) -> npt.NDArray[np.float32]:
    return np.zeros(int(seconds * RATE), dtype=np.float32)


_CODECS = {
    "mp3": ("mp3", "libmp3lame", 44_100),
    "ogg": ("ogg", "libopus", 48_000),
    "opus": ("ogg", "libopus", 48_000),
    "webm": ("webm", "libopus", 48_000),
    "m4a": ("ipod", "aac", 44_100),
    "mp4": ("mp4", "aac", 44_100),
    "flac": ("flac", "flac", 16_000),
}


def convert(source: Path, target: Path) -> Path:
    """Re-encode ``source`` into the container/codec implied by ``target``'s extension."""
    container_format, codec, rate = _CODECS[target.suffix.lstrip(".")]
    resampler = av.AudioResampler(format="fltp" if codec != "flac" else "s16", layout="mono", rate=rate)
    with av.open(str(source)) as src, av.open(str(target), "w", format=container_format) as dst:
        stream = dst.add_stream(codec, rate=rate)
        assert isinstance(stream, av.AudioStream)
        stream.layout = "mono"
        if codec == "libmp3lame":
            stream.format = "fltp"
        fifo = av.AudioFifo()
        for frame in src.decode(audio=0):
            for out in resampler.resample(frame):
                out.pts = None
                fifo.write(out)
        for out in resampler.resample(None):
            out.pts = None
            fifo.write(out)
        frame_size = stream.codec_context.frame_size or 1024
        pts = 0
        while fifo.samples:
            chunk = fifo.read(frame_size, partial=True)
            assert chunk is not None
            chunk.pts = pts
            chunk.time_base = Fraction(1, rate)
            pts += chunk.samples
            for packet in stream.encode(chunk):
                dst.mux(packet)
        for packet in stream.encode(None):
            dst.mux(packet)
    return target


def video_without_audio(path: Path) -> Path:
    """A one-second MP4 holding only a video track."""
    with av.open(str(path), "w", format="mp4") as dst:
        stream = dst.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(10):
            image = np.full((48, 64, 3), i * 20, dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            for packet in stream.encode(frame):
                dst.mux(packet)
        for packet in stream.encode(None):
            dst.mux(packet)
    return path


def transcript(*lines: tuple[float, float, str, str | None]) -> Transcript:
    """A transcript from (start, end, text, speaker) tuples, each word evenly timed."""
    segments = []
    for start, end, text, speaker in lines:
        tokens = text.split()
        step = (end - start) / len(tokens)
        words = tuple(
            Word(start=round(start + i * step, 3), end=round(start + (i + 1) * step, 3), text=tok)
            for i, tok in enumerate(tokens)
        )
        segments.append(Segment(start=start, end=end, text=text, words=words, speaker=speaker))
    duration = max((s.end for s in segments), default=0.0)
    return Transcript(segments=tuple(segments), language="fr", duration=duration, model="test")


class BandEnergyEmbedder:
    """A voice print for tests: the energy in eight frequency bands of 0.5 s windows.

    Tones of different pitch land in different bands, so it separates "speakers" made of tones.
    """

    def embed(self, samples: npt.NDArray[np.float32]) -> tuple[npt.NDArray[np.float32], list[tuple[float, float]]]:
        size, step = RATE // 2, RATE // 4
        vectors, spans = [], []
        for start in range(0, max(1, len(samples) - size + 1), step):
            spectrum = np.abs(np.fft.rfft(samples[start : start + size], n=size)) ** 2
            bands = np.array([band.sum() for band in np.array_split(spectrum[: size // 4], 8)])
            vectors.append(bands / (np.linalg.norm(bands) or 1.0))
            spans.append((start / RATE, min(start + size, len(samples)) / RATE))
        return np.asarray(vectors, dtype=np.float32), spans


SENTENCE_1 = "Bonjour à tous. La séance du conseil municipal est ouverte."
SENTENCE_2 = "Nous avons décidé de rénover la bibliothèque avant le mois de juin."
#: What the ``long_french_wav`` fixture says, one sentence after the other with a second of silence between.
LONG_FRENCH_SENTENCES = (SENTENCE_1, SENTENCE_2, "Le budget de la commune sera présenté au mois de septembre.")
