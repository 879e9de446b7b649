"""Minutes a secretariat can sign: recall of decisions and actions, owners, due dates, time links, invented items.

Usage:
    python benchmarks/minutes.py                      # extractive pass only (no model): seconds, CI-size
    python benchmarks/minutes.py --model --quick      # + v1 and v2 pipelines with the embedded model, 2 meetings
    python benchmarks/minutes.py --model [--threads N] [--data-dir DIR] [--chunk-tokens N]

The gold set is our own (``benchmarks/minutes_data/*.json``, written from ``_generate.py``): six French
administration meetings (CSA, préfecture, budget, RH, comité de pilotage, and one long comité de direction that
takes several chunks), each with 3–7 gold decisions and actions (owner, ISO due date) and distractors: rejected
or deferred proposals, « on ne décide rien aujourd'hui », unanswered questions. The same person wrote the cue
patterns and the meetings, so the extractive scores are an upper bound on unseen speech.

Pipelines compared:
- ``v1``: the first map-reduce (the model takes notes per chunk, then merges them itself);
- ``extractive``: the deterministic pass alone (``extract_minutes``), no model;
- ``v2``: the deterministic pass + the model citing passages, checked, merged by rule (``generate_minutes``).

Metrics (micro over all gold items):
- decision / action recall: a gold item is found when a predicted item of that kind has all its keywords;
- time link right: the found item's time span covers the gold sentence's segment;
- owner right: the owner is written exactly as in the participants' list; due right: same ISO date (a v1 due
  date as said is read with our date parser and the meeting date, which favours v1);
- precision: predicted decisions and actions that match a gold item, over all predicted (1 − invented share).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

# Run as a script, this file's folder comes first on sys.path and its name would hide packages.
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != Path(__file__).resolve().parent]

from transcription import Minutes, Segment, extract_minutes, find_dates, generate_minutes  # noqa: E402
from transcription._minutes_people import fold  # noqa: E402

DATA = Path(__file__).parent / "minutes_data"
QUICK = ("csa_teletravail", "codir_long")


@dataclass
class Meeting:
    id: str
    meeting_date: date
    participants: list[str]
    segments: tuple[Segment, ...]
    gold: dict[str, Any]


@dataclass
class Score:
    decisions: int = 0
    decisions_found: int = 0
    decisions_linked: int = 0
    actions: int = 0
    actions_found: int = 0
    actions_linked: int = 0
    owners_right: int = 0
    dues: int = 0
    dues_right: int = 0
    predicted: int = 0
    predicted_matched: int = 0
    next_meetings: int = 0
    next_right: int = 0
    seconds: float = 0.0
    misses: list[str] = field(default_factory=list)


def load(ids: tuple[str, ...] | None = None) -> list[Meeting]:
    meetings = []
    for path in sorted(DATA.glob("*.json")):
        raw = json.loads(path.read_text("utf-8"))
        if ids and raw["id"] not in ids:
            continue
        segments = tuple(Segment(s["start"], s["end"], s["text"], speaker=s["speaker"]) for s in raw["segments"])
        meetings.append(
            Meeting(raw["id"], date.fromisoformat(raw["meeting_date"]), raw["participants"], segments, raw["gold"])
        )
    return meetings


def _has_keywords(text: str, keywords: list[str]) -> bool:
    folded = fold(text)
    # each keyword word by its stem (5 letters), so « validée » matches « valider » and plurals match
    return all(all(word[:5] in folded for word in fold(keyword).split()) for keyword in keywords)


def _covers(item: Any, segment: Segment) -> bool:
    return item.start is not None and item.start <= segment.start + 0.01 and item.end >= segment.end - 0.01


def _iso(due_said: str | None, due_iso: str | None, reference: date) -> str | None:
    if due_iso:
        return due_iso
    mentions = find_dates(due_said or "", reference=reference)
    return mentions[0].iso if mentions else None


def score(meeting: Meeting, minutes: Minutes, total: Score) -> None:
    gold = meeting.gold
    used: set[int] = set()
    for g in gold["decisions"]:
        total.decisions += 1
        hit = next(
            (i for i, d in enumerate(minutes.decisions) if i not in used and _has_keywords(d.text, g["keywords"])),
            None,
        )
        if hit is None:
            total.misses.append(f"{meeting.id} décision manquée : {g['keywords']}")
            continue
        used.add(hit)
        total.decisions_found += 1
        total.decisions_linked += _covers(minutes.decisions[hit], meeting.segments[g["segment"]])
    matched_decisions = len(used)
    used = set()
    for g in gold["actions"]:
        total.actions += 1
        hit = next(
            (i for i, a in enumerate(minutes.actions) if i not in used and _has_keywords(a.task, g["keywords"])),
            None,
        )
        if g["due"]:
            total.dues += 1
        if hit is None:
            total.misses.append(f"{meeting.id} action manquée : {g['keywords']}")
            continue
        used.add(hit)
        action = minutes.actions[hit]
        total.actions_found += 1
        total.actions_linked += _covers(action, meeting.segments[g["segment"]])
        total.owners_right += bool(action.owner) and fold(action.owner or "") == fold(g["owner"])
        total.dues_right += bool(g["due"]) and _iso(action.due, action.due_date, meeting.meeting_date) == g["due"]
    total.predicted += len(minutes.decisions) + len(minutes.actions)
    total.predicted_matched += matched_decisions + len(used)
    if gold.get("next_meeting"):
        total.next_meetings += 1
        total.next_right += bool(minutes.next_meeting and minutes.next_meeting.date == gold["next_meeting"]["date"])


def _pct(part: float, whole: float) -> str:
    return f"{100 * part / whole:.0f} %" if whole else "—"


def table(columns: dict[str, Score]) -> str:
    rows = [
        ("decision recall", lambda s: _pct(s.decisions_found, s.decisions) + f" ({s.decisions_found}/{s.decisions})"),
        ("action recall", lambda s: _pct(s.actions_found, s.actions) + f" ({s.actions_found}/{s.actions})"),
        ("owner right (of gold actions)", lambda s: _pct(s.owners_right, s.actions) + f" ({s.owners_right})"),
        ("due date right (of gold dues)", lambda s: _pct(s.dues_right, s.dues) + f" ({s.dues_right}/{s.dues})"),
        (
            "time link right (of found)",
            lambda s: _pct(s.decisions_linked + s.actions_linked, s.decisions_found + s.actions_found),
        ),
        (
            "precision (1 − invented)",
            lambda s: _pct(s.predicted_matched, s.predicted) + f" ({s.predicted_matched}/{s.predicted})",
        ),
        ("next meeting date right", lambda s: f"{s.next_right}/{s.next_meetings}"),
        ("seconds", lambda s: f"{s.seconds:.1f}"),
    ]
    names = list(columns)
    lines = ["| metric | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    lines += [f"| {label} | " + " | ".join(fn(columns[n]) for n in names) + " |" for label, fn in rows]
    return "\n".join(lines)


def run_extractive(meetings: list[Meeting]) -> Score:
    total = Score()
    started = time.perf_counter()
    for meeting in meetings:
        minutes = extract_minutes(
            meeting.segments, meeting_date=meeting.meeting_date, participants=meeting.participants
        )
        score(meeting, minutes, total)
    total.seconds = time.perf_counter() - started
    return total


async def run_model(meetings: list[Meeting], *, threads: int, data_dir: Path, chunk_tokens: int) -> dict[str, Score]:
    """v1 and v2 through the embedded model (the same ``complete`` the service builds around a backend)."""
    from assistant.llm import ChatRequest, SamplingParams
    from assistant.llm.embedded import EmbeddedBackend

    backend = EmbeddedBackend.from_options(
        {"model": "qwen2.5-coder-1.5b", "models_dir": str(data_dir / "models"), "n_threads": threads, "preload": True}
    )
    assert isinstance(backend, EmbeddedBackend)
    scores = {"v1 (model)": Score(), "v2 (extract + model)": Score()}
    try:
        await backend.start()

        async def complete(messages: list[dict[str, str]]) -> str:
            request = ChatRequest(
                model="m", messages=list(messages), params=SamplingParams(temperature=0.2, max_tokens=500)
            )
            result = await backend.complete(request)
            return result.choices[0].text if result.choices else ""

        for name, pipeline in (("v1 (model)", "v1"), ("v2 (extract + model)", "v2")):
            total = scores[name]
            started = time.perf_counter()
            for meeting in meetings:
                try:
                    minutes = await generate_minutes(
                        meeting.segments,
                        complete=complete,
                        max_chunk_tokens=chunk_tokens,
                        meeting_date=meeting.meeting_date,
                        participants=meeting.participants,
                        pipeline=pipeline,  # type: ignore[arg-type]
                        max_concurrency=1,
                        max_retries=1,
                    )
                except Exception as exc:  # a failed meeting counts as nothing found
                    total.misses.append(f"{meeting.id}: {type(exc).__name__}: {exc}")
                    minutes = Minutes(summary="")
                score(meeting, minutes, total)
            total.seconds = time.perf_counter() - started
    finally:
        await backend.aclose()
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="store_true", help="also run v1 and v2 with the embedded model")
    parser.add_argument("--quick", action="store_true", help=f"only {', '.join(QUICK)}")
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--data-dir", type=Path, default=None, help="where split weights are joined (default: temp)")
    parser.add_argument("--chunk-tokens", type=int, default=1200, help="map budget (the long meeting takes several)")
    parser.add_argument("--show", action="store_true", help="list the missed gold items")
    args = parser.parse_args()
    meetings = load(QUICK if args.quick else None)
    columns = {"extractive (no model)": run_extractive(meetings)}
    if args.model:
        with tempfile.TemporaryDirectory() as scratch:
            data_dir = args.data_dir or Path(scratch)
            columns.update(
                asyncio.run(
                    run_model(meetings, threads=args.threads, data_dir=data_dir, chunk_tokens=args.chunk_tokens)
                )
            )
    print(f"{len(meetings)} meetings, {sum(len(m.segments) for m in meetings)} segments")
    print(table(columns))
    if args.show:
        for name, total in columns.items():
            for miss in total.misses:
                print(f"[{name}] {miss}")


if __name__ == "__main__":
    main()
