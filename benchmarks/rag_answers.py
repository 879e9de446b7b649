"""Grounded answers end to end: the real service, the default embedded model, our French corpus and answer key.

Usage:
    python benchmarks/rag_answers.py [--quick] [--answerable N] [--unanswerable N] [--model ID] [--show]

Starts ``assistant serve`` (SQLite, in-process worker, e5 embeddings, the embedded model in its supervised
process), creates an agent and a collection, uploads ``benchmarks/rag_data/corpus/*.md`` and asks the questions of
``benchmarks/rag_data/answers.tsv`` through ``POST /api/rag/answer``. Each answer is scored:

- answerable questions: right when every key-fact group of the key is in the answer (accents, case and spaces
  inside numbers ignored; a number never matches inside a longer one) and the answer is not a decline;
  wrongly declined when the service declined it;
- unanswerable near-topic questions (``-`` in the key): right when declined;
- citations: among answered answerable questions, the share whose first valid ``[n]`` names a passage of the
  expected document; citations to markers no passage had are counted as defects.

Prints the table and the p50/p95 time per answer. ``--quick`` asks 5 answerable and 5 unanswerable questions
(under 3 minutes once the model is loaded; the first run also joins the model's weights, ~10 s).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gateway_overhead import PYTHON, ROOT, free_port, percentile, process, wait_http

DATA = Path(__file__).resolve().parent / "rag_data"

ACCOUNT_SCRIPT = """
import asyncio, sys
from assistant.core.config import load_settings
from assistant.runtime import open_runtime
from assistant.security import Scope
from assistant.services.identity.api_keys import create_api_key
from assistant.services.identity.users import create_local_user
from assistant.store.models import Role

async def main():
    async with open_runtime(load_settings(), with_worker=False) as runtime:
        user = await create_local_user(runtime, username="agent.banc", role=Role.AGENT, password=None)
        created = await create_api_key(runtime, owner_id=user.id, name="banc", scopes=list(Scope))
        sys.stdout.write(created.secret)

asyncio.run(main())
"""


@dataclass(frozen=True, slots=True)
class Item:
    document: str | None
    facts: tuple[tuple[str, ...], ...]
    question: str


@dataclass
class Outcome:
    item: Item
    answer: str
    declined: bool
    seconds: float
    first_document: str | None
    unknown_markers: int
    reason: str | None


@dataclass
class Tally:
    outcomes: list[Outcome] = field(default_factory=list)

    def share(self, values: list[bool]) -> str:
        return f"{sum(values)}/{len(values)} ({statistics.mean(values):.2f})" if values else "-"


def load_items() -> list[Item]:
    items = []
    for line in (DATA / "answers.tsv").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        document, facts, question = line.split("\t")[:3]
        groups = () if facts == "-" else tuple(tuple(alt.strip() for alt in g.split(";")) for g in facts.split("|"))
        items.append(Item(None if document == "-" else document, groups, question))
    return items


def _normal(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = re.sub(r"[\u00a0\u202f\u2009]", " ", text)
    # Spaces inside numbers (« 5 404 000 ») go, so keys with or without them match the same way.
    return re.sub(r"(?<=\d) (?=\d{3}\b)", "", text)


def _contains(answer: str, fact: str) -> bool:
    needle = _normal(fact)
    if not needle:
        return False
    # A number must not match inside a longer one: « 20 euros » is not in « 120 euros ».
    pattern = (r"(?<![\d.,])" if needle[0].isdigit() else "") + re.escape(needle)
    return re.search(pattern, _normal(answer)) is not None


def right(item: Item, answer: str, declined: bool) -> bool:
    if item.document is None:
        return declined
    return not declined and all(any(_contains(answer, alt) for alt in group) for group in item.facts)


@contextmanager
def service(workdir: Path, model: str) -> Iterator[tuple[str, str]]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SOUVERAIN_")},
        "PYTHONPATH": str(ROOT),
        "SOUVERAIN_DATA_DIR": str(workdir / "data"),
        "SOUVERAIN_LOG_LEVEL": "WARNING",
        "SOUVERAIN_EMBEDDED_MODEL": model,
        "SOUVERAIN_DEFAULT_REQUESTS_PER_MINUTE": "100000",
        "SOUVERAIN_DEFAULT_TOKENS_PER_DAY": "1000000000",
    }
    created = subprocess.run([PYTHON, "-c", ACCOUNT_SCRIPT], env=env, cwd=ROOT, capture_output=True, text=True)
    if created.returncode != 0:
        raise RuntimeError(f"account not created: {created.stderr[-2000:]}")
    port = free_port()
    serve = [PYTHON, "-m", "assistant.cli", "serve", "--port", str(port)]
    with process(serve, env=env, log=workdir / "souverain.log") as api:
        wait_http(f"http://127.0.0.1:{port}/healthz", timeout=300, process=api)
        yield f"http://127.0.0.1:{port}", created.stdout.strip()


def ingest(http: httpx.Client) -> str:
    collection = http.post("/api/collections", json={"name": "Notes internes", "classification": "internal"})
    collection.raise_for_status()
    collection_id = str(collection.json()["id"])
    paths = sorted((DATA / "corpus").glob("*.md"))
    ids = []
    for start in range(0, len(paths), 10):
        files = [("files", (p.name, p.read_bytes(), "text/markdown")) for p in paths[start : start + 10]]
        response = http.post(f"/api/collections/{collection_id}/documents", files=files)
        response.raise_for_status()
        ids.extend(str(d["id"]) for d in response.json()["documents"])
    deadline = time.monotonic() + 900
    for document_id in ids:
        while http.get(f"/api/documents/{document_id}").json()["status"] not in {"ready", "failed"}:
            if time.monotonic() > deadline:
                raise RuntimeError("ingestion did not finish in 15 minutes")
            time.sleep(0.5)
    return collection_id


def ask(http: httpx.Client, collection_id: str, item: Item) -> Outcome:
    began = time.perf_counter()
    response = http.post(
        "/api/rag/answer",
        json={"query": item.question, "collection_ids": [collection_id], "temperature": 0, "max_tokens": 160},
        timeout=600,
    )
    seconds = time.perf_counter() - began
    response.raise_for_status()
    body = response.json()
    report = body.get("grounding") or {}
    citations = {c["marker"]: c for c in body.get("citations", [])}
    checks = report.get("citations") or {}
    first = next((m for m in checks.get("cited", []) if m in citations), None)
    first_document = Path(citations[first]["filename"] or citations[first]["title"]).stem if first else None
    return Outcome(
        item,
        body["answer"],
        bool(report.get("declined")),
        seconds,
        first_document,
        len(checks.get("unknown", [])),
        report.get("reason"),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="5 answerable and 5 unanswerable questions")
    parser.add_argument("--answerable", type=int, default=None, help="How many answerable questions (sampled)")
    parser.add_argument("--unanswerable", type=int, default=None, help="How many unanswerable questions")
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--show", action="store_true", help="Print every wrong answer")
    args = parser.parse_args()
    items = load_items()
    answerable = [i for i in items if i.document is not None]
    unanswerable = [i for i in items if i.document is None]
    rng = random.Random(args.seed)
    n_yes = 5 if args.quick else args.answerable or len(answerable)
    n_no = 5 if args.quick else args.unanswerable or len(unanswerable)
    chosen = rng.sample(answerable, min(n_yes, len(answerable))) + rng.sample(
        unanswerable, min(n_no, len(unanswerable))
    )
    tally = Tally()
    began = time.perf_counter()
    with (
        tempfile.TemporaryDirectory() as scratch,
        service(Path(scratch), args.model) as (url, key),
        httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=60) as http,
    ):
        started = time.perf_counter()
        collection_id = ingest(http)
        ingest_seconds = time.perf_counter() - started
        for item in chosen:
            tally.outcomes.append(ask(http, collection_id, item))
    yes = [o for o in tally.outcomes if o.item.document is not None]
    no = [o for o in tally.outcomes if o.item.document is None]
    answered = [o for o in yes if not o.declined]
    times = [o.seconds for o in tally.outcomes]
    generated = [o.seconds for o in tally.outcomes if not (o.declined and o.seconds < 2)]
    print(
        f"model {args.model}, {len(yes)} answerable + {len(no)} unanswerable questions, "
        f"corpus ingested in {ingest_seconds:.0f} s, whole run {time.perf_counter() - began:.0f} s, "
        f"load average {os.getloadavg()[0]:.1f}, {time.strftime('%Y-%m-%d')}"
    )
    rows = [
        ("answer accuracy (answerable)", tally.share([right(o.item, o.answer, o.declined) for o in yes])),
        ("unanswerable declined", tally.share([o.declined for o in no])),
        ("answerable wrongly declined", tally.share([o.declined for o in yes])),
        ("first citation = expected document", tally.share([o.first_document == o.item.document for o in answered])),
        ("answers citing a passage", tally.share([o.first_document is not None for o in answered])),
        ("citations to passages not given", str(sum(o.unknown_markers for o in tally.outcomes))),
        ("time per answer p50 / p95 (s)", f"{percentile(times, 50):.1f} / {percentile(times, 95):.1f}"),
        (
            "time per generated answer p50 (s)",
            f"{percentile(generated, 50):.1f}" if generated else "-",
        ),
    ]
    print("| measure | value |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")
    if args.show:
        for o in tally.outcomes:
            if not right(o.item, o.answer, o.declined):
                key = "non" if o.item.document is None else json.dumps(o.item.facts, ensure_ascii=False)
                print(f"  ✗ {o.item.question} [{key}] → {o.answer[:160]!r} ({o.reason})")


if __name__ == "__main__":
    main()
