"""Real-time factor and WER of the embedded Whisper base model on CPU (int8 vs float32, beam, VAD), French speech.

Usage:
    python benchmarks/transcription.py [--quick] [--model-dir DIR] [--threads N]

Speech is generated with espeak-ng (Debian package), so word error rates are those of a
robotic voice: compare them between settings, not with published figures.
RTF = processing time / audio duration (below 1 is faster than real time).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
import unicodedata
import wave
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path and its name would hide the `transcription` package.
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != Path(__file__).resolve().parent]

import numpy as np  # noqa: E402  (after the sys.path fix above)

from transcription import Transcriber, load_audio, prepare_model  # noqa: E402

SENTENCES = [
    "Bonjour à tous, la séance du conseil municipal est ouverte.",
    "Le premier point de l'ordre du jour concerne la rénovation de la bibliothèque.",
    "Nous avons décidé de lancer les travaux avant le mois de juin.",
    "Madame Dupont enverra le planning détaillé aux services avant vendredi.",
    "Le deuxième point porte sur le budget des écoles pour l'année prochaine.",
    "Le vote du budget est reporté à la séance du mois de septembre.",
    "Monsieur Martin présentera une note sur les effectifs des cantines.",
    "La commission des finances se réunira le quinze octobre à dix heures.",
    "Les associations sportives demandent une subvention exceptionnelle.",
    "Merci à tous pour votre participation, la séance est levée.",
]


def _words(text: str) -> list[str]:
    plain = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return re.findall(r"[a-z0-9]+", plain)


def word_error_rate(reference: str, hypothesis: str) -> float:
    ref, hyp = _words(reference), _words(hypothesis)
    previous = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, start=1):
        current = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, start=1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (r != h))
        previous = current
    return previous[-1] / max(1, len(ref))


def make_audio(folder: Path, repeats: int) -> tuple[Path, str]:
    """French speech with one-second pauses, espeak-ng's default French voice."""
    parts, texts = [], []
    for r in range(repeats):
        for i, sentence in enumerate(SENTENCES):
            path = folder / f"s{r}-{i}.wav"
            subprocess.run(["espeak-ng", "-v", "fr", "-s", "150", "-w", str(path), sentence], check=True)
            parts += [load_audio(path), np.zeros(16_000, dtype=np.float32)]
            texts.append(sentence)
    samples = np.concatenate(parts)
    out = folder / "speech.wav"
    with wave.open(str(out), "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(16_000)
        writer.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return out, " ".join(texts)


def main() -> None:
    parser = argparse.ArgumentParser(description="Real-time factor of Whisper base int8 on CPU.")
    parser.add_argument("--quick", action="store_true", help="about 50 s of audio instead of about 3 min")
    parser.add_argument("--model-dir", type=Path, default=None, help="default: prepared in a temp dir")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        model_dir = args.model_dir or prepare_model(folder / "whisper-base")
        prepare_s = time.perf_counter() - started
        audio, reference = make_audio(folder, repeats=1 if args.quick else 4)
        duration = len(load_audio(audio)) / 16_000
        print(f"audio: {duration:.1f} s of synthetic French speech; model prepared in {prepare_s:.1f} s")
        print(f"model: Whisper base, CTranslate2, CPU, {args.threads} threads\n")
        print(f"| {'type':>7} | {'beam':>4} | {'VAD':>3} | {'load s':>6} | {'time s':>6} | {'RTF':>5} | {'WER':>5} |")
        print(f"|{'-' * 9}|{'-' * 6}|{'-' * 5}|{'-' * 8}|{'-' * 8}|{'-' * 7}|{'-' * 7}|")
        configurations = [("int8", beam, vad) for beam in (1, 5) for vad in (True, False)]
        configurations += [("float32", 1, True), ("float32", 5, True)]
        for compute_type, beam, vad in configurations:
            started = time.perf_counter()
            transcriber = Transcriber(
                model_dir=model_dir,
                device="cpu",
                cpu_threads=args.threads,
                beam_size=beam,
                vad_filter=vad,
                compute_type=compute_type,
                temperature=0.0,
            )
            load_s = time.perf_counter() - started
            started = time.perf_counter()
            result = transcriber.transcribe(audio, language="fr")
            elapsed = time.perf_counter() - started
            wer = word_error_rate(reference, result.text)
            print(
                f"| {compute_type:>7} | {beam:>4} | {'on' if vad else 'off':>3} | {load_s:>6.2f} | {elapsed:>6.1f} "
                f"| {elapsed / duration:>5.3f} | {wer:>5.1%} |"
            )


if __name__ == "__main__":
    main()
