"""Long meetings: wall time, real-time factor and peak memory of transcription + diarization by duration.

Usage:
    python benchmarks/long_meeting.py [--quick] [--minutes 5 15 60] [--window-s 600] [--beam-size 1]
                                      [--no-diarize] [--threads 2] [--folder DIR]

A synthetic meeting of the asked duration is generated first, streamed to an Ogg/Opus file (espeak-ng
French voices taking turns, with pauses; only the few synthesised utterances sit in memory, never the
meeting), then each duration runs in a fresh process, so that its peak RSS (``ru_maxrss``) is its own:

- ``model MB``: peak after loading Whisper (and the speaker encoder): the fixed cost;
- ``text MB`` / ``speakers MB``: peak after transcription / after diarization;
- ``decode s``: one decoding pass over the file, which is what a resumed job pays to reach its checkpoint;
- ``whole-PCM MB``: peak of ``load_audio`` (the whole recording decoded at once), what streaming avoids.

Flat ``text MB`` and ``speakers MB`` across durations mean memory is bounded by the window, not the meeting.
``--quick`` runs 2 and 6 minutes with 60 s windows (so both span several windows) on the greedy decoder.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

# Run as a script, this file's folder comes first on sys.path and its name would hide the `transcription` package.
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != Path(__file__).resolve().parent]

import av  # noqa: E402  (after the sys.path fix above)
import numpy as np  # noqa: E402

RATE = 16_000
# (espeak-ng voice, pitch, speed): voices the speaker encoder tells apart (benchmarks/diarization_data/meetings.py).
VOICES = (("fr+m3", 40, 150), ("fr+f3", 70, 160), ("fr-be+Andy", 55, 140))
SENTENCES = (
    "Bonjour à tous, la séance du conseil municipal est ouverte.",
    "Le premier point de l'ordre du jour concerne la rénovation de la bibliothèque.",
    "Nous avons décidé de lancer les travaux avant le mois de juin.",
    "Madame Dupont enverra le planning détaillé aux services avant vendredi.",
    "Le deuxième point porte sur le budget des écoles pour l'année prochaine.",
    "Le vote du budget est reporté à la séance du mois de septembre.",
    "Monsieur Martin présentera une note sur les effectifs des cantines.",
    "La commission des finances se réunira le quinze octobre à dix heures.",
)


def _speak(text: str, voice: tuple[str, int, int], folder: Path) -> np.ndarray:
    name, pitch, speed = voice
    path = folder / f"utt-{hashlib.sha256(repr((text, voice)).encode()).hexdigest()[:16]}.wav"
    if not path.exists():
        args = ["espeak-ng", "-v", name, "-p", str(pitch), "-s", str(speed), "-w", str(path), text]
        subprocess.run(args, check=True)
    with av.open(str(path)) as src:
        resampler = av.AudioResampler(format="flt", layout="mono", rate=RATE)
        chunks = [out.to_ndarray().reshape(-1) for frame in src.decode(audio=0) for out in resampler.resample(frame)]
        chunks += [out.to_ndarray().reshape(-1) for out in resampler.resample(None)]
    return np.concatenate(chunks).astype(np.float32)


def make_meeting(minutes: float, path: Path, folder: Path) -> tuple[Path, int]:
    """Stream a meeting of ``minutes`` to Ogg/Opus at ``path``; returns it and the number of words spoken.

    Turns of one to three sentences, voices in rotation, 0.4-1.2 s pauses: the same file on every run.
    """
    utterances = {
        (s, v): _speak(text, VOICES[v], folder) for v in range(len(VOICES)) for s, text in enumerate(SENTENCES)
    }
    target = int(minutes * 60 * RATE)
    written = words = turn = 0
    with av.open(str(path), "w", format="ogg") as dst:
        stream = dst.add_stream("libopus", rate=RATE)
        stream.layout = "mono"
        frame_size = stream.codec_context.frame_size or 960
        fifo = av.AudioFifo()

        def push(samples: np.ndarray) -> None:
            frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="flt", layout="mono")
            frame.sample_rate = RATE
            frame.pts = None
            fifo.write(frame)
            while fifo.samples >= frame_size:
                encode(fifo.read(frame_size))

        pts = 0

        def encode(chunk: av.AudioFrame | None) -> None:
            nonlocal pts
            if chunk is not None:
                chunk.pts, chunk.time_base = pts, Fraction(1, RATE)
                pts += chunk.samples
            for packet in stream.encode(chunk):
                dst.mux(packet)

        while written < target:
            voice = turn % len(VOICES)
            for k in range(1 + turn % 3):
                sentence = (turn * 3 + k) % len(SENTENCES)
                speech = utterances[(sentence, voice)]
                pause = np.zeros(int(RATE * (0.4 + 0.2 * ((turn + k) % 5))), dtype=np.float32)
                if written + len(speech) + len(pause) > target:  # the meeting ends on the asked duration
                    pause = np.zeros(max(0, target - written - len(speech)), dtype=np.float32)
                    speech = speech[: target - written]
                push(speech)
                push(pause)
                written += len(speech) + len(pause)
                words += len(SENTENCES[sentence].split())
                if written >= target:
                    break
            turn += 1
        if fifo.samples:
            encode(fifo.read())
        encode(None)
    return path, words


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def child(args: argparse.Namespace) -> dict[str, Any]:
    """One measurement in this (fresh) process."""
    from transcription import SpeakerDiarizer, Transcriber, diarization_available, iter_audio_windows, prepare_model

    audio = Path(args.audio)
    if args.measure == "pcm":
        from transcription import load_audio

        samples = load_audio(audio)
        return {"pcm_mb": _peak_mb(), "samples": len(samples)}
    started = time.perf_counter()
    windows = sum(1 for _ in iter_audio_windows(audio, window_s=args.window_s))
    decode_s = time.perf_counter() - started
    diarize = not args.no_diarize and diarization_available()
    transcriber = Transcriber(
        model_dir=prepare_model(Path(args.model_cache)),
        device="cpu",
        cpu_threads=args.threads,
        beam_size=args.beam_size,  # the service's default temperatures (fallbacks against repetition loops)
        window_s=args.window_s,
        diarizer=SpeakerDiarizer() if diarize else None,
    )
    model_mb = _peak_mb()
    started = time.perf_counter()
    transcript = transcriber.transcribe(audio, language="fr")
    text_s = time.perf_counter() - started
    text_mb = _peak_mb()
    speakers_s = speakers_mb = None
    speakers: list[str] = []
    if diarize:
        assert transcriber.diarizer is not None
        started = time.perf_counter()
        segments = transcriber.diarizer.assign_speakers(audio, transcript.segments, num_speakers=None)
        speakers_s = time.perf_counter() - started
        speakers_mb = _peak_mb()
        speakers = sorted({s.speaker for s in segments if s.speaker})
    return {
        "duration_s": transcript.duration,
        "windows": windows,
        "decode_s": decode_s,
        "model_mb": model_mb,
        "text_s": text_s,
        "text_mb": text_mb,
        "speakers_s": speakers_s,
        "speakers_mb": speakers_mb,
        "speakers": len(speakers),
        "words_out": len(transcript.text.split()),
    }


def _run_child(args: argparse.Namespace, audio: Path, measure: str) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", "--audio", str(audio), "--measure", measure]
    command += ["--window-s", str(args.window_s), "--beam-size", str(args.beam_size), "--threads", str(args.threads)]
    command += ["--model-cache", str(args.model_cache)] + (["--no-diarize"] if args.no_diarize else [])
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    done = subprocess.run(command, check=True, capture_output=True, text=True, env=env)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="2 and 6 minutes, 60 s windows")
    parser.add_argument("--minutes", type=float, nargs="+", default=[5, 15, 60])
    parser.add_argument(
        "--window-s", type=float, default=600.0, help="the service default (transcription_window_seconds)"
    )
    parser.add_argument("--beam-size", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-diarize", action="store_true")
    parser.add_argument("--folder", type=Path, default=None, help="where meetings are written (default: a temp dir)")
    parser.add_argument("--model-cache", type=Path, default=Path(tempfile.gettempdir()) / "souverain-whisper-base")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--audio", help=argparse.SUPPRESS)
    parser.add_argument("--measure", default="run", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        sys.stdout.write(json.dumps(child(args)) + "\n")
        return
    if args.quick:
        args.minutes, args.window_s = [2, 6], 60.0
    folder = args.folder or Path(tempfile.mkdtemp(prefix="long-meeting-"))
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for minutes in args.minutes:
        started = time.perf_counter()
        audio, words = make_meeting(minutes, folder / f"reunion-{minutes:g}min.ogg", folder)
        made_s = time.perf_counter() - started
        run = _run_child(args, audio, "run")
        pcm = _run_child(args, audio, "pcm")
        rows.append(
            {
                "minutes": minutes,
                "words": words,
                "made_s": made_s,
                "size_mb": audio.stat().st_size / 2**20,
                **run,
                **pcm,
            }
        )
        sys.stderr.write(f"{minutes:g} min done: {json.dumps(rows[-1])}\n")
    sys.stdout.write(
        f"model: Whisper base int8, CPU, {args.threads} threads, beam {args.beam_size}; "
        f"windows of {args.window_s:g} s; "
        f"diarization {'off' if args.no_diarize else 'Resemblyzer + spectral'}\n\n"
    )
    header = (
        "| audio | file MB | windows | decode s | text s | text RTF | speakers s | total RTF "
        "| model MB | text MB | speakers MB | whole-PCM MB |"
    )
    sys.stdout.write(header + "\n|" + "|".join("---" for _ in range(header.count("|") - 1)) + "|\n")
    for row in rows:
        duration = row["duration_s"]
        total = row["text_s"] + (row["speakers_s"] or 0.0)

        def cell(value: float | None, fmt: str = ".0f") -> str:
            return "–" if value is None else format(value, fmt)

        sys.stdout.write(
            f"| {duration / 60:.1f} min | {row['size_mb']:.1f} | {row['windows']} | {row['decode_s']:.1f} "
            f"| {row['text_s']:.0f} | {row['text_s'] / duration:.2f} | {cell(row['speakers_s'])} "
            f"| {total / duration:.2f} | {row['model_mb']:.0f} | {row['text_mb']:.0f} | {cell(row['speakers_mb'])} "
            f"| {row['pcm_mb']:.0f} |\n"
        )


if __name__ == "__main__":
    main()
