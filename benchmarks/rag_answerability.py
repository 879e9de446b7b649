"""Calibrate the model's answerability checks: P(OUI) on answerable and unanswerable questions, thresholds compared.

Usage:
    python benchmarks/rag_answerability.py [--quick] [--answerable N] [--model ID] [--seed S]

The grounded-answer path asks the model two OUI/NON questions before answering (« do the passages answer? »,
and « does the word « jumeaux » appear? » for each question word the passages lack) and declines when P(OUI) of
the first token is below ``SOUVERAIN_RAG_ANSWERABILITY_MIN_YES`` / ``…_WORD_MIN_YES``. Those thresholds depend on the
model: run this with yours (``--model``) before changing them. It ingests ``rag_data/corpus`` through the real
service (as ``rag_answers.py`` does), then, in-process on the same data, grounds each question of
``rag_data/answers.tsv`` exactly as the service does (retrieval, the rule checks) and reads both probabilities,
without generating answers. Prints, for a grid of threshold pairs, the share of unanswerable questions declined and
of answerable ones wrongly declined before any answer is written (the answer's own checks decline a few more).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import random
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from rag_answers import Item, ingest, load_items, service

# benchmarks/transcription.py would shadow the transcription package for the service's own imports.
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


@dataclass(frozen=True, slots=True)
class Scores:
    item: Item
    rule_reason: str | None  # declined by the rules before any model call
    exact: float = 1.0
    word: float = 1.0  # the lowest P(OUI) over the absent words; 1.0 when none is absent


async def score(workdir: Path, collection_id: str, items: list[Item], model_id: str) -> list[Scores]:
    os.environ.update(
        {
            "SOUVERAIN_DATA_DIR": str(workdir / "data"),
            "SOUVERAIN_LOG_LEVEL": "WARNING",
            "SOUVERAIN_EMBEDDED_MODEL": model_id,
            "SOUVERAIN_RAG_ANSWERABILITY_CHECK": "false",  # the checks are read here, one by one
        }
    )
    from assistant.core.config import load_settings
    from assistant.runtime import open_runtime
    from assistant.services.identity.authentication import build_principal
    from assistant.services.knowledge import grounding
    from assistant.store import users as user_store
    from rag import absent_question_words

    results: list[Scores] = []
    async with open_runtime(load_settings(), with_worker=False) as runtime:
        async with runtime.session_factory() as session:
            user = await user_store.get_user_by_username(session=session, username="agent.banc")
            assert user is not None
            principal = await build_principal(session=session, user=user, method="api_key")
        model = runtime.models.resolve(model_id)
        for index, item in enumerate(items, start=1):
            grounded = await grounding.ground(
                runtime, principal, item.question, model=model, collection_ids=[uuid.UUID(collection_id)]
            )
            if grounded.declined:
                results.append(Scores(item, grounded.decline_reason))
                continue
            prompt = grounded.system_prompt or ""
            texts = [passage.text for passage in grounded.passages]
            check = grounding._CHECK.format(question=item.question)
            exact = await grounding._yes_probability(model, prompt, check)
            words = [
                await grounding._yes_probability(model, prompt, grounding._WORD_CHECK.format(word=word))
                for word in absent_question_words(item.question, texts)
            ]
            results.append(Scores(item, None, exact, min(words, default=1.0)))
            print(f"{index}/{len(items)} P(OUI) {exact:.2f} words {min(words, default=1.0):.2f}", file=sys.stderr)
    return results


def declined(scores: Scores, exact_min: float, word_min: float) -> bool:
    return scores.rule_reason is not None or scores.exact < exact_min or scores.word < word_min


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="10 answerable and 10 unanswerable questions")
    parser.add_argument("--answerable", type=int, default=40, help="How many answerable questions (sampled)")
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    items = load_items()
    rng = random.Random(args.seed)
    answerable = [item for item in items if item.document is not None]
    unanswerable = [item for item in items if item.document is None]
    count = 10 if args.quick else args.answerable
    chosen = rng.sample(answerable, min(count, len(answerable))) + (
        rng.sample(unanswerable, 10) if args.quick else unanswerable
    )
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="souverain-answerability-") as tmp:
        workdir = Path(tmp)
        with (
            service(workdir, args.model) as (url, key),
            httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=120) as http,
        ):
            collection_id = ingest(http)
        results = asyncio.run(score(workdir, collection_id, chosen, args.model))
    answered = [r for r in results if r.item.document is not None]
    unanswered = [r for r in results if r.item.document is None]

    def share(rows: list[Scores], exact_min: float, word_min: float) -> str:
        hits = sum(declined(r, exact_min, word_min) for r in rows)
        return f"{hits}/{len(rows)} ({hits / max(len(rows), 1):.2f})"

    print(
        f"\nmodel {args.model}, {len(answered)} answerable + {len(unanswered)} unanswerable questions (seed "
        f"{args.seed}), {time.perf_counter() - began:.0f} s"
    )
    print(
        f"declined by the rules before any model call: unanswerable {share(unanswered, 0, 0)}, "
        f"answerable {share(answered, 0, 0)}\n"
    )
    print(
        "| min P(OUI) « answers? » | min P(OUI) per absent word | unanswerable declined | answerable wrongly declined |"
    )
    print("|---|---|---|---|")
    for exact_min, word_min in itertools.product((0.0, 0.5, 0.55, 0.6, 0.65), (0.0, 0.4, 0.5, 0.6)):
        print(
            f"| {exact_min:.2f} | {word_min:.2f} | {share(unanswered, exact_min, word_min)} "
            f"| {share(answered, exact_min, word_min)} |"
        )


if __name__ == "__main__":
    main()
