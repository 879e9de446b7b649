"""The embedded CPU models side by side on French work: accuracy, abstention, speed and memory.

Usage:
    python benchmarks/embedded_models.py [--quick] [--models a,b,c] [--threads N] [--data-dir DIR]

Each model runs as the service runs it: its own supervised model server process (llama.cpp, portable build),
reached over HTTP by the same backend code as vLLM, with the model card's sampling defaults and temperature 0.
The set is ours (written for this benchmark, administrative French): answers over passages, answers that are in
no passage (the model must decline), synthesis and translation. A task is right when the answer contains the
expected facts (accents and case ignored); a decline is an answer that says the documents do not tell.

Columns: accuracy on answerable tasks, share of unanswerable questions declined, prefill tokens/s (prompt tokens /
time to first token), decode tokens/s (after the first token), time to first token p50, resident memory of the
model process. Figures are from one run on the machine it runs on: compare rows, not runs of different days.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path; keep the project's packages first.
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != Path(__file__).resolve().parent]

import psutil  # noqa: E402

from assistant.llm import ChatRequest, SamplingParams  # noqa: E402
from assistant.llm.embedded import EmbeddedBackend  # noqa: E402

SYSTEM = (
    "Tu es l'assistant des agents d'une administration française. Réponds en français, en une ou deux phrases, "
    "uniquement d'après les extraits fournis. Si les extraits ne contiennent pas la réponse, réponds exactement : "
    "« Je ne sais pas : les documents fournis ne le précisent pas. »"
)

PASSAGES = {
    "repas": "Note de service n° 2026-14. À compter du 1er mars 2026, l'indemnité de repas versée à l'agent en "
    "mission est fixée à 20,50 euros par repas. L'indemnité de nuitée est de 90 euros en province et de 140 euros "
    "à Paris.",
    "teletravail": "Charte du télétravail de la préfecture. Les agents peuvent télétravailler jusqu'à deux jours "
    "par semaine, après accord écrit de leur chef de service. La demande est renouvelée chaque année, avant le "
    "31 janvier. Une allocation forfaitaire de 2,88 euros par jour télétravaillé est versée.",
    "conges": "Règlement intérieur, article 12. Un agent à temps plein a droit à 25 jours de congés annuels, "
    "auxquels s'ajoutent jusqu'à 2 jours de fractionnement. Le compte épargne-temps est ouvert sur demande ; il "
    "ne peut dépasser 60 jours.",
    "archives": "Circulaire sur l'archivage. Les dossiers de marchés publics sont conservés 10 ans après la fin "
    "du marché, puis versés aux archives départementales. Les courriels ne sont pas des archives définitives.",
    "accueil": "Accueil du public. Le guichet de la sous-préfecture est ouvert du lundi au vendredi de 8 h 30 "
    "à 12 h 00. Les titres de séjour sont remis sur rendez-vous uniquement, pris sur le site de la préfecture.",
}


@dataclass(frozen=True, slots=True)
class Task:
    kind: str  # "passages", "unanswerable", "synthesis", "translation"
    prompt: str
    passages: tuple[str, ...] = ()
    expected: tuple[tuple[str, ...], ...] = ()  # every group must match; any word of a group suffices
    quick: bool = True


TASKS = [
    Task("passages", "Quel est le montant de l'indemnité de nuitée à Paris ?", ("repas",), (("140",),)),
    Task(
        "passages", "Combien de jours de télétravail par semaine sont autorisés ?", ("teletravail",), (("deux", "2"),)
    ),
    Task(
        "passages",
        "Avant quelle date faut-il renouveler la demande de télétravail ?",
        ("teletravail",),
        (("31 janvier",),),
    ),
    Task("passages", "Combien de jours de congés annuels a un agent à temps plein ?", ("conges",), (("25",),)),
    Task(
        "passages",
        "Combien de temps sont conservés les dossiers de marchés publics ?",
        ("archives",),
        (("10 ans", "dix ans"),),
        quick=False,
    ),
    Task(
        "passages",
        "Quels jours le guichet de la sous-préfecture est-il ouvert ?",
        ("accueil",),
        (("lundi",), ("vendredi",)),
        quick=False,
    ),
    Task("passages", "Quel est le plafond du compte épargne-temps ?", ("conges", "repas"), (("60",),), quick=False),
    Task(
        "passages",
        "Quelle allocation est versée par jour télétravaillé ?",
        ("teletravail", "accueil"),
        (("2,88", "2.88"),),
        quick=False,
    ),
    Task("unanswerable", "Quel est le montant de la prime de fin d'année des agents ?", ("repas", "conges")),
    Task("unanswerable", "Combien de places de parking compte la préfecture ?", ("accueil",)),
    Task("unanswerable", "Quelle est l'indemnité kilométrique pour un véhicule personnel ?", ("repas",), quick=False),
    Task("unanswerable", "Qui est le chef du bureau des archives ?", ("archives",), quick=False),
    Task(
        "synthesis",
        "Résume cet extrait en une phrase pour un usager.",
        ("accueil",),
        (("rendez-vous", "rendez vous"), ("titre", "titres")),
    ),
    Task(
        "synthesis",
        "Résume cet extrait en une phrase.",
        ("teletravail",),
        (("deux", "2"), ("teletravail",)),
        quick=False,
    ),
    Task(
        "translation",
        "Traduis en anglais : « Le guichet est fermé le samedi et le dimanche. »",
        (),
        (("closed",), ("saturday",), ("sunday",)),
    ),
    Task(
        "translation",
        "Traduis en anglais : « La réunion du comité est reportée à mardi prochain. »",
        (),
        (("meeting",), ("tuesday",), ("postponed", "rescheduled", "moved", "delayed")),
        quick=False,
    ),
]

DECLINES = (
    "je ne sais pas",
    "ne precisent pas",
    "ne precise pas",
    "ne mentionne",
    "ne mentionnent",
    "ne contiennent pas",
    "ne contient pas",
    "pas d'information",
    "aucune information",
    "n'indique",
    "n'indiquent",
    "ne donnent pas",
    "ne donne pas",
)


def _plain(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower().replace("\u00a0", " ")


def _messages(task: Task) -> list[dict[str, str]]:
    if task.kind == "translation":
        return [{"role": "user", "content": task.prompt}]
    extracts = "\n".join(f"[{n}] {PASSAGES[name]}" for n, name in enumerate(task.passages, start=1))
    return [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": f"Extraits :\n{extracts}\n\n{task.prompt}"},
    ]


def _declined(answer: str) -> bool:
    plain = _plain(answer)
    return any(marker in plain for marker in DECLINES)


def _correct(task: Task, answer: str) -> bool:
    if task.kind == "unanswerable":
        return _declined(answer)
    plain = _plain(answer)
    return not _declined(answer) and all(any(_plain(word) in plain for word in group) for group in task.expected)


@dataclass
class Row:
    model: str
    right: int = 0
    answerable: int = 0
    declined: int = 0
    unanswerable: int = 0
    ttft: list[float] = field(default_factory=list)
    prefill: list[float] = field(default_factory=list)
    decode: list[float] = field(default_factory=list)
    rss_mb: float = 0.0
    load_s: float = 0.0
    wrong: list[str] = field(default_factory=list)


async def _ask(backend: EmbeddedBackend, task: Task) -> tuple[str, float, float, int, int]:
    request = ChatRequest(model="m", messages=_messages(task), params=SamplingParams(temperature=0, max_tokens=120))
    started = time.perf_counter()
    first: float | None = None
    parts: list[str] = []
    prompt_tokens = completion_tokens = 0
    async for chunk in backend.stream(request):
        for delta in chunk.deltas:
            if delta.text:
                first = first or time.perf_counter()
                parts.append(delta.text)
        if chunk.usage is not None:
            prompt_tokens, completion_tokens = chunk.usage.prompt_tokens, chunk.usage.completion_tokens
    ended = time.perf_counter()
    first = first or ended
    return "".join(parts), first - started, ended - first, prompt_tokens, completion_tokens


async def _run_model(model: str, tasks: list[Task], *, threads: int, data_dir: Path) -> Row:
    backend = EmbeddedBackend.from_options(
        {"model": model, "models_dir": str(data_dir / "models"), "n_threads": threads, "preload": True}
    )
    assert isinstance(backend, EmbeddedBackend)
    row = Row(model=model)
    started = time.perf_counter()
    try:
        await backend.start()
        await backend._ready_client()
        row.load_s = time.perf_counter() - started
        status = backend.supervision()
        process = psutil.Process(status.pid) if status and status.pid else None
        for task in tasks:
            answer, ttft, decode_s, prompt_tokens, completion_tokens = await _ask(backend, task)
            row.ttft.append(ttft)
            row.prefill.append(prompt_tokens / ttft if ttft > 0 else 0.0)
            if completion_tokens > 1 and decode_s > 0:
                row.decode.append((completion_tokens - 1) / decode_s)
            ok = _correct(task, answer)
            if task.kind == "unanswerable":
                row.unanswerable += 1
                row.declined += ok
            else:
                row.answerable += 1
                row.right += ok
            if not ok:
                row.wrong.append(f"{task.kind}: {task.prompt[:50]} → {answer[:110]!r}")
            if process is not None:
                row.rss_mb = max(row.rss_mb, process.memory_info().rss / 2**20)
    finally:
        await backend.aclose()
    return row


def _table(rows: list[Row]) -> str:
    lines = [
        "| model | answerable right | unanswerable declined | prefill tok/s | decode tok/s | TTFT p50 s | RSS MB |"
        " load s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row.model} | {row.right}/{row.answerable} | {row.declined}/{row.unanswerable} "
            f"| {statistics.median(row.prefill):.0f} | {statistics.median(row.decode) if row.decode else 0:.1f} "
            f"| {statistics.median(row.ttft):.2f} | {row.rss_mb:.0f} | {row.load_s:.1f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="6 tasks per model instead of 16")
    parser.add_argument("--models", default="smollm2-135m,qwen2.5-coder-0.5b,qwen2.5-coder-1.5b")
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--data-dir", type=Path, default=None, help="Where split weights are joined (default: temp)")
    parser.add_argument("--show-wrong", action="store_true", help="Print the answers judged wrong")
    args = parser.parse_args()
    tasks = [task for task in TASKS if task.quick or not args.quick]
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        data_dir = args.data_dir or Path(scratch)
        for model in args.models.split(","):
            rows.append(asyncio.run(_run_model(model.strip(), tasks, threads=args.threads, data_dir=data_dir)))
    load = os.getloadavg()[0]
    print(f"{len(tasks)} tasks per model, {args.threads} threads, load average {load:.1f}, {time.strftime('%Y-%m-%d')}")
    print(_table(rows))
    if args.show_wrong:
        for row in rows:
            for line in row.wrong:
                print(f"  {row.model}: {line}")


if __name__ == "__main__":
    main()
