"""Live transcription: partial-text latency and final WER of LiveTranscriber, against the offline transcription.

Usage:
    python benchmarks/live_transcription.py [--quick] [--model-dir DIR] [--threads N] [--device cpu|cuda]

French sentences from espeak-ng (with one-second pauses) are fed in 250 ms chunks **in real time** (a feeder
thread keeps the wall clock of a live meeting) while the main thread decodes the tail as the service does
(``LiveTranscriber.step`` in a loop, greedy decoding). Latency of a word = the moment it is first shown (in the
partial or the final text) minus the moment the chunk holding its last sample arrived; measured on every word
of the final text that was shown before the end (words first shown by ``finish()`` are counted apart).
WER: final live text and offline text (the service's beam 5) against the script, and live against offline.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path and its name would hide the `transcription` package.
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from benchmarks.transcription import SENTENCES, word_error_rate  # noqa: E402
from tests.transcription.factories import speak, write_wav  # noqa: E402
from transcription import LiveTranscriber, Transcriber, load_audio, prepare_model  # noqa: E402
from transcription._live import _key  # noqa: E402  (the same word comparison as the agreement)

CHUNK_S = 0.25
RATE = 16_000
# (column, decoding temperatures, new audio needed before the next decode, longest tail): the first version, the
# service's (temperature 0 alone: a fallback decodes the tail up to six times), then variants.
CONFIGS = [
    ("fallback, 1 s, tail 12", (0.0, 0.2, 0.4, 0.6, 0.8, 1.0), 1.0, 12.0),
    ("t=0, 1 s, tail 12", 0.0, 1.0, 12.0),
    ("t=0, 0.5 s, tail 12", 0.0, 0.5, 12.0),
    ("t=0, 1 s, tail 8", 0.0, 1.0, 8.0),
]


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run_live(engine: Transcriber, samples, language: str, min_new_s: float, tail_s: float) -> dict[str, object]:  # type: ignore[no-untyped-def]
    live = LiveTranscriber(engine, language=language, min_new_s=min_new_s, tail_s=tail_s)
    chunk = int(CHUNK_S * RATE)
    arrivals: list[float] = []  # wall time each chunk was fed
    start = time.perf_counter()

    def feed() -> None:
        for i, offset in enumerate(range(0, len(samples), chunk)):
            delay = start + i * CHUNK_S - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            live.feed(samples[offset : offset + chunk])
            arrivals.append(time.perf_counter())

    feeder = threading.Thread(target=feed)
    feeder.start()
    shown: list[tuple[float, float, str]] = []  # (wall time, word start, key) of every word displayed
    finals = []
    decodes: list[float] = []
    while feeder.is_alive():
        update = live.step()
        if update is None:
            time.sleep(0.05)
            continue
        now = time.perf_counter()
        decodes.append(update.decode_seconds)
        for segment in update.final:
            finals.append(segment)
            shown += [(now, w.start, _key(w)) for w in segment.words]
        shown += [(now, w.start, _key(w)) for w in update.partial_words]
    feeder.join()
    end_of_audio = time.perf_counter()
    last = live.finish()
    finals += last.final
    latencies, late = [], 0
    for segment in finals:
        for word in segment.words:
            first = min((t for t, s, k in shown if k == _key(word) and abs(s - word.start) <= 0.5), default=None)
            arrival = arrivals[min(len(arrivals) - 1, int(word.end / CHUNK_S))]
            if first is None or first > end_of_audio:
                late += 1
            else:
                latencies.append(first - arrival)
    return {
        "text": " ".join(s.text for s in finals),
        "latencies": latencies,
        "late": late,
        "decodes": decodes,
        "finish_seconds": last.decode_seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="5 sentences (~30 s) instead of 10 (~60 s)")
    parser.add_argument("--model-dir", type=Path, default=None)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        model_dir = args.model_dir or prepare_model(folder / "whisper-base")
        wav, reference = _speech(folder, 5 if args.quick else len(SENTENCES))
        samples = load_audio(wav)
        offline_engine = Transcriber(model_dir=model_dir, device=args.device, cpu_threads=args.threads, beam_size=5)
        started = time.perf_counter()
        offline = offline_engine.transcribe(wav, language="fr").text
        offline_seconds = time.perf_counter() - started
        results = []
        for name, temperature, min_new_s, tail_s in CONFIGS:
            live_engine = copy.copy(offline_engine)
            live_engine.beam_size = 1  # what the service uses for the tail
            live_engine.temperature = temperature
            results.append((name, run_live(live_engine, samples, "fr", min_new_s, tail_s)))
    duration = len(samples) / RATE
    print(
        f"audio {duration:.1f} s fed in real time; {offline_engine.device} {offline_engine.compute_type}, "
        f"{args.threads} threads; offline (beam 5) WER vs script {word_error_rate(reference, offline):.1%}, "
        f"RTF {offline_seconds / duration:.2f}"
    )
    rows: list[tuple[str, list[str]]] = [
        ("words timed (shown before the end)", []),
        ("words first shown at finish()", []),
        ("partial latency p50 (s)", []),
        ("partial latency p95 (s)", []),
        ("decodes / median decode (s)", []),
        ("longest decode (s)", []),
        ("finish() decode (s)", []),
        ("WER live final vs script", []),
        ("WER live final vs offline", []),
    ]
    for _, result in results:
        latencies: list[float] = result["latencies"]  # type: ignore[assignment]
        decodes: list[float] = result["decodes"]  # type: ignore[assignment]
        values = [
            f"{len(latencies)}",
            f"{result['late']}",
            f"{statistics.median(latencies):.2f}" if latencies else "—",
            f"{_percentile(latencies, 0.95):.2f}" if latencies else "—",
            f"{len(decodes)} / {statistics.median(decodes):.2f}" if decodes else "—",
            f"{max(decodes):.2f}" if decodes else "—",
            f"{result['finish_seconds']:.2f}",
            f"{word_error_rate(reference, str(result['text'])):.1%}",
            f"{word_error_rate(offline, str(result['text'])):.1%}",
        ]
        for (_, cells), value in zip(rows, values, strict=True):
            cells.append(value)
    width = max(len(name) for name, _ in rows)
    names = [name for name, _ in results]
    print(f"| {'measure'.ljust(width)} | " + " | ".join(names) + " |")
    print(f"|{'-' * (width + 2)}|" + "|".join("-" * (len(n) + 2) for n in names) + "|")
    for name, cells in rows:
        print(
            f"| {name.ljust(width)} | " + " | ".join(c.ljust(len(n)) for c, n in zip(cells, names, strict=True)) + " |"
        )


def _speech(folder: Path, count: int) -> tuple[Path, str]:
    """The first ``count`` sentences, each followed by a one-second pause, and their script."""
    parts = []
    for i, sentence in enumerate(SENTENCES[:count]):
        parts += [load_audio(speak(sentence, folder / f"s{i}.wav")), np.zeros(RATE, dtype=np.float32)]
    return write_wav(np.concatenate(parts), folder / "speech.wav"), " ".join(SENTENCES[:count])


if __name__ == "__main__":
    main()
