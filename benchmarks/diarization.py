"""Diarization error rate of the speaker diarizer, before (first version) and after, on synthetic meetings.

Usage:
    python benchmarks/diarization.py [--quick] [--cache DIR] [--counts 2 3 4 5 6]

The meetings are generated at run time (benchmarks/diarization_data/meetings.py): espeak-ng
French voices varied in variant, pitch and speed, short and long turns, some overlapping, SoX
noise mixed in; seeded, so every run scores the same files. The diarizer is given the reference
speech regions as its segments (pauses under 0.5 s bridged, as a voice activity detector does),
with evenly spaced pseudo-words, so what is measured is the diarization step alone, not Whisper.

DER is pyannote.metrics' (diarization_data/scoring.py, the md-eval definition): missed speech + false alarm + speaker
confusion over total reference speech, overlap scored, with a 0.25 s collar on each side of
every reference boundary (pyannote's ``collar=0.5`` is the collar's total width).
Each meeting is diarized twice per pipeline: with the true speaker count given, and estimated.
The last line is the improved pipeline's DER at 2-4 speakers with the count given.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path and benchmarks/transcription.py would hide the
# `transcription` package; the meeting generator is imported from its own folder instead.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != _HERE]
sys.path.append(str(_HERE / "diarization_data"))

from meetings import Meeting, make_meeting  # noqa: E402
from scoring import COMPONENTS, der, der_components  # noqa: E402

from transcription import Segment, SpeakerDiarizer, Word  # noqa: E402

WORD_S = 0.3


def segments_for(meeting: Meeting) -> list[Segment]:
    """The reference speech regions as transcript segments, with evenly spaced pseudo-words."""
    segments = []
    for lo, hi in meeting.speech_regions(merge_gap_s=0.5):
        count = max(1, round((hi - lo) / WORD_S))
        step = (hi - lo) / count
        words = tuple(Word(lo + i * step, lo + (i + 1) * step, f"mot{i}") for i in range(count))
        segments.append(Segment(start=lo, end=hi, text=" ".join(w.text for w in words), words=words))
    return segments


def score(
    meeting: Meeting, segments: list[Segment], diarizer: SpeakerDiarizer, given: int | None
) -> tuple[dict[str, float], int]:
    """DER components of one meeting, and how many speakers came out."""
    turns = diarizer.diarize(meeting.path, segments, num_speakers=given)
    components = der_components(
        [(t.speaker, t.start, t.end) for t in meeting.turns],
        [(t.speaker, t.start, t.end) for t in turns],
        duration=meeting.duration,
    )
    return components, len({t.speaker for t in turns})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one 60 s meeting per speaker count (< 2 min)")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "souverain-diarization")
    parser.add_argument("--counts", type=int, nargs="+", default=[2, 3, 4, 5, 6])
    args = parser.parse_args()
    seeds, duration = ([1], 60.0) if args.quick else ([1, 2, 3], 180.0)

    started = time.perf_counter()
    meetings = {
        n: [make_meeting(n, seed=s, duration_s=duration, folder=args.cache) for s in seeds] for n in args.counts
    }
    generated = time.perf_counter() - started
    pipelines = {"before": SpeakerDiarizer(method="legacy"), "after": SpeakerDiarizer()}
    totals: dict[tuple[str, str, int], dict[str, float]] = defaultdict(lambda: dict.fromkeys(COMPONENTS, 0.0))
    found: dict[tuple[str, str, int], list[int]] = defaultdict(list)
    seconds: dict[str, float] = defaultdict(float)
    audio_s = sum(m.duration for group in meetings.values() for m in group)
    for n, group in meetings.items():
        for meeting in group:
            segments = segments_for(meeting)
            for name, diarizer in pipelines.items():
                for mode, given in (("given", n), ("estimated", None)):
                    tick = time.perf_counter()
                    components, speakers = score(meeting, segments, diarizer, given)
                    seconds[name] += time.perf_counter() - tick
                    for key, value in components.items():
                        totals[name, mode, n][key] += value
                    found[name, mode, n].append(speakers)

    speech = sum(sum(t.end - t.start for t in m.turns) for group in meetings.values() for m in group)
    overlap = sum(m.overlap_s() for group in meetings.values() for m in group)
    print(
        f"{sum(len(g) for g in meetings.values())} meetings, {audio_s:.0f} s of audio, {speech:.0f} s of speech "
        f"({100 * overlap / speech:.1f} % overlapped), generated in {generated:.1f} s; "
        f"diarization time: before {seconds['before']:.1f} s, after {seconds['after']:.1f} s (both modes)"
    )
    print("| speakers | pipeline | count | DER | missed | false alarm | confusion | speakers found |")
    print("|---|---|---|---|---|---|---|---|")
    for n in args.counts:
        for name in pipelines:
            for mode in ("given", "estimated"):
                row = totals[name, mode, n]
                ref = row["total"] or 1.0
                print(
                    f"| {n} | {name} | {mode} | {100 * der(row):.1f} % | {100 * row['missed detection'] / ref:.1f} % | "
                    f"{100 * row['false alarm'] / ref:.1f} % | {100 * row['confusion'] / ref:.1f} % | "
                    f"{', '.join(map(str, found[name, mode, n]))} (of {n}) |"
                )
    headline = [totals["after", "given", n] for n in args.counts if 2 <= n <= 4]
    print(f"DER: {der({key: sum(row[key] for row in headline) for key in COMPONENTS}):.4f}")


if __name__ == "__main__":
    main()
