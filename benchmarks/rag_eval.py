"""End-to-end retrieval evaluation on a French administrative corpus written for Souverain.

Usage: python benchmarks/rag_eval.py [--quick | --tiny] [--models e5,use] [--sets standard,hard]

Two eval sets go through the real pipeline: ``load_document`` → ``Chunker`` → embedder → ``IndexStore`` →
``Retriever``:

- ``standard``: the corpus written for Souverain (``benchmarks/rag_data/corpus/*.md``, 48 documents, with
  year-only near-duplicates such as "barème 2024" / "barème 2025") and its questions
  (``benchmarks/rag_data/questions.tsv``), each naming the expected document and a passage substring;
- ``hard``: generated deterministically by ``benchmarks/rag_hard_set.py``: the same acts issued by three
  collectivités for two years (near-duplicates sharing all their legal boilerplate), asked about in paraphrase
  with French administrative vocabulary that differs from the acts' own.

Some questions of each set have no answer. Prints a Markdown table per set: document recall@1 / recall@5,
MRR@10, passage hit@1 (the top chunk contains the expected passage), the share of unanswerable questions
declined and of answerable ones wrongly declined by the abstention threshold (calibrated here, on the top hit's
cosine), then the lines ``recall@1: X`` / ``recall@5: X`` (standard set, default pipeline) and ``hard
recall@1: X`` / ``hard recall@5: X``; then p50/p95 hybrid search latency per embedder over synthetic filler
chunks. Embedding 100k chunks takes too long on 2 cores, so a subset of the filler texts is embedded with the
real model and its vectors are replicated with Gaussian noise up to the index size (the table says how many).

Modes: default: e5 and USE, every configuration, 10k and 100k chunks (tens of minutes on 2 cores);
``--quick``: e5, two configurations per set, 10k chunks (under a minute); ``--tiny``: a slice of the hard set
and 1k chunks, for the test that runs this script (seconds).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
from rag_hard_set import ISSUERS, YEARS, hard_set  # next to this script, which runs with benchmarks/ on sys.path

from rag import (
    Chunk,
    Chunker,
    E5Embedder,
    Embedder,
    IndexStore,
    LoadedDocument,
    Retriever,
    SearchHit,
    SearchMode,
    UseEmbedder,
    chunk_id,
    load_document,
)

DATA = Path(__file__).resolve().parent / "rag_data"
# Per dimension, on unit vectors: a replicated vector keeps a cosine of about 0.93 with its source (384-d).
REPLICA_NOISE = 0.02


@dataclass(frozen=True)
class Question:
    text: str
    document: str | None  # None: no answer in the corpus
    passage: str | None


@dataclass(frozen=True)
class Config:
    label: str
    mode: SearchMode = "hybrid"
    chunk_tokens: int = 256
    keyword_weight: float = 0.5
    year_aware: bool = True


@dataclass
class Scores:
    recall_1: float
    recall_5: float
    mrr: float
    passage_1: float
    top_cosines: list[float]


def load_corpus() -> list[tuple[str, bytes]]:
    return [(path.stem, path.read_bytes()) for path in sorted((DATA / "corpus").glob("*.md"))]


def load_questions() -> list[Question]:
    questions = []
    for line in (DATA / "questions.tsv").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        document, passage, text = line.split("\t")
        questions.append(Question(text, None if document == "-" else document, None if passage == "-" else passage))
    return questions


def _load(data: bytes, name: str) -> LoadedDocument:
    return load_document(data, filename=f"{name}.md", max_bytes=1_000_000, max_pages=100)


def chunk_corpus(corpus: list[tuple[str, bytes]], chunker: Chunker) -> list[Chunk]:
    chunks: list[Chunk] = []
    for document_id, data in corpus:
        chunks.extend(chunker.split(_load(data, document_id), document_id=document_id))
    return chunks


def _documents(hits: Sequence[SearchHit]) -> list[str]:
    return list(dict.fromkeys(hit.document_id for hit in hits))


def evaluate(retriever: Retriever, questions: list[Question], mode: SearchMode) -> Scores:
    r1, r5, rr, p1, cosines = [], [], [], [], []
    for question in questions:
        hits = retriever.search(question.text, collection_ids=["eval"], k=30, mode=mode)
        best_cosine = max((h.vector_score for h in hits if h.vector_score is not None), default=0.0)
        cosines.append(best_cosine)
        if question.document is None:
            continue
        documents = _documents(hits)
        rank = documents.index(question.document) + 1 if question.document in documents[:10] else 0
        r1.append(rank == 1)
        r5.append(0 < rank <= 5)
        rr.append(1 / rank if rank else 0.0)
        p1.append(bool(hits) and question.passage is not None and question.passage in hits[0].text)
    return Scores(statistics.mean(r1), statistics.mean(r5), statistics.mean(rr), statistics.mean(p1), cosines)


def calibrate_threshold(scores: Scores, questions: list[Question]) -> tuple[float, float, float]:
    """The cosine threshold maximising correct decisions; returns (threshold, declined share, false declines)."""
    answerable = [c for c, q in zip(scores.top_cosines, questions, strict=True) if q.document is not None]
    unanswerable = [c for c, q in zip(scores.top_cosines, questions, strict=True) if q.document is None]
    best = (0.0, 0.0, 0.0, -1.0)
    for threshold in sorted({round(c, 3) for c in scores.top_cosines}):
        declined = statistics.mean(c < threshold for c in unanswerable) if unanswerable else 0.0
        false = statistics.mean(c < threshold for c in answerable)
        # Wrongly declining an answerable question costs less than inventing an answer, but not nothing.
        utility = declined - 2 * false
        if utility > best[3]:
            best = (threshold, declined, false, utility)
    return best[0], best[1], best[2]


def _store(tmp: Path, embedder: Embedder, chunks: list[Chunk], vectors: np.ndarray) -> IndexStore:
    store = IndexStore(tmp, dim=embedder.dim, model_id=embedder.model_id)
    rows = list(zip(chunks, vectors, strict=True))
    store.open("eval", version=1, rows=lambda: rows)
    return store


@dataclass(frozen=True)
class EvalSet:
    name: str
    corpus: list[tuple[str, bytes]]
    questions: list[Question]


def standard_set() -> EvalSet:
    return EvalSet("standard", load_corpus(), load_questions())


def hard_eval_set(*, topics: int | None = None) -> EvalSet:
    """The generated set; ``topics`` keeps only the first few topics (the tiny mode)."""
    documents, questions = hard_set()
    if topics is not None:
        kept = {document.id for document in documents[: topics * len(ISSUERS) * len(YEARS)]}
        documents = [document for document in documents if document.id in kept]
        questions = [q for q in questions if q.document in kept] + [q for q in questions if q.document is None][:2]
    return EvalSet(
        "hard",
        [(document.id, document.text.encode("utf-8")) for document in documents],
        [Question(q.text, q.document, q.passage) for q in questions],
    )


def quality_table(embedders: dict[str, Callable[[], Embedder]], configs: list[Config], data: EvalSet) -> None:
    corpus, questions = data.corpus, data.questions
    n_none = sum(q.document is None for q in questions)
    print(
        f"\n### Retrieval, {data.name} set: {len(corpus)} documents, {len(questions)} questions "
        f"({n_none} without answer)\n"
    )
    print(
        "| embedder | configuration | chunks | R@1 | R@5 | MRR@10 | passage@1 | threshold | declined | false declines |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    default: Scores | None = None
    for name, factory in embedders.items():
        embedder = factory()
        indexed: dict[int, tuple[list[Chunk], np.ndarray]] = {}
        for config in configs:
            if config.mode == "keyword" and name != next(iter(embedders)):
                continue  # BM25 does not depend on the embedder
            if config.chunk_tokens not in indexed:
                chunker = Chunker(
                    chunk_tokens=config.chunk_tokens, overlap_tokens=32, count_tokens=embedder.count_tokens
                )
                chunks = chunk_corpus(corpus, chunker)
                indexed[config.chunk_tokens] = chunks, embedder.embed_passages([c.embedding_text for c in chunks])
            chunks, vectors = indexed[config.chunk_tokens]
            with tempfile.TemporaryDirectory() as tmp:
                store = _store(Path(tmp), embedder, chunks, vectors)
                retriever = Retriever(
                    store=store, embedder=embedder, keyword_weight=config.keyword_weight, year_aware=config.year_aware
                )
                scores = evaluate(retriever, questions, config.mode)
            threshold, declined, false = (
                calibrate_threshold(scores, questions) if config.mode != "keyword" else (0, 0, 0)
            )
            if name == next(iter(embedders)) and config.label.startswith("default"):
                default = scores
            model = "—" if config.mode == "keyword" else embedder.model_id
            print(
                f"| {model} | {config.label} | {len(chunks)} | {scores.recall_1:.3f} | {scores.recall_5:.3f} | "
                f"{scores.mrr:.3f} | {scores.passage_1:.3f} | {threshold:.3f} | {declined:.2f} | {false:.2f} |"
            )
    if default is not None:
        prefix = "" if data.name == "standard" else f"{data.name} "
        print(f"\n{prefix}recall@1: {default.recall_1:.3f}\n{prefix}recall@5: {default.recall_5:.3f}")


def _filler(n: int, embedder: Embedder, seed: int, embedded: int) -> tuple[list[Chunk], np.ndarray]:
    """Synthetic chunks: shuffled corpus vocabulary (for BM25); the first ``embedded`` embedded by the model, and
    their vectors replicated with noise for the rest (for FAISS)."""
    rng = np.random.default_rng(seed)
    words = " ".join(_load(data, "x").text for _, data in load_corpus()).split()
    chunks = []
    for i in range(n):
        text = " ".join(rng.choice(words, 60))
        chunks.append(Chunk(id=chunk_id(f"filler-{i}", 0, text), document_id=f"filler-{i}", ordinal=0, text=text,
                            content_hash="", title="Remplissage"))  # fmt: skip
    embedded = min(embedded, n)
    source = embedder.embed_passages([chunk.embedding_text for chunk in chunks[:embedded]])
    vectors = source[np.arange(n) % embedded] + REPLICA_NOISE * rng.standard_normal((n, embedder.dim)).astype(
        np.float32
    )
    vectors[:embedded] = source
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return chunks, vectors.astype(np.float32)


def latency_table(embedder: Embedder, sizes: list[int], *, embedded: int, queries: int) -> None:
    questions = [q.text for q in load_questions()][:queries]
    print(f"\n### Hybrid search latency ({embedder.model_id}, k=5, one query at a time, query embedding included)\n")
    print(
        f"Filler chunks: {embedded:,} embedded with {embedder.model_id}, the rest their vectors replicated with "
        f"Gaussian noise (σ={REPLICA_NOISE} per dimension); {len(questions)} queries.\n"
    )
    print("| chunks | index build s | p50 ms | p95 ms |")
    print("|---|---|---|---|")
    for n in sizes:
        chunks, vectors = _filler(n, embedder, seed=n, embedded=embedded)
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            store = _store(Path(tmp), embedder, chunks, vectors)
            retriever = Retriever(store=store, embedder=embedder)
            retriever.search("préchauffage", collection_ids=["eval"], k=5)  # builds BM25 lazily
            build = time.perf_counter() - started
            latencies = []
            for question in questions:
                t0 = time.perf_counter()
                retriever.search(question, collection_ids=["eval"], k=5)
                latencies.append((time.perf_counter() - t0) * 1000)
        p95 = statistics.quantiles(latencies, n=20)[-1]
        print(f"| {n:,} | {build:.1f} | {statistics.median(latencies):.1f} | {p95:.1f} |")


CONFIGS = [
    Config("default: hybrid RRF, 256 tokens (~1000 chars), year-aware"),
    Config("hybrid RRF, 256 tokens, no year tie-break", year_aware=False),
    Config("hybrid RRF, BM25 weight 1", keyword_weight=1.0),
    Config("hybrid RRF, 128 tokens (~450 chars)", chunk_tokens=128),
    Config("dense only", mode="vector"),
    Config("BM25 only", mode="keyword"),
]
QUICK_CONFIGS = [CONFIGS[0], CONFIGS[5]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="e5, two configurations per set, 10k chunks (< 1 min)")
    mode.add_argument("--tiny", action="store_true", help="a slice of the hard set, 1k chunks (seconds; for tests)")
    parser.add_argument("--models", default=None, help="comma-separated embedders among e5,use")
    parser.add_argument("--sets", default="standard,hard", help="comma-separated eval sets among standard,hard")
    args = parser.parse_args()
    short = args.quick or args.tiny
    # One thread in the short modes: on a busy 2-core machine OpenMP's spinning threads starve each other
    # (a query took 214 ms with 2 threads and 26 ms with 1, measured while other jobs ran).
    threads = 1 if short else None
    factories: dict[str, Callable[[], Embedder]] = {
        "e5": partial(E5Embedder, threads=threads),
        "use": partial(UseEmbedder, threads=threads or 2),
    }
    names = args.models.split(",") if args.models else (["e5"] if short else ["e5", "use"])
    embedders = {name: factories[name] for name in names}
    configs = QUICK_CONFIGS if short else CONFIGS
    topics = 1 if args.tiny else 2 if args.quick else None
    sets = {"standard": standard_set, "hard": partial(hard_eval_set, topics=topics)}
    chosen = ["hard"] if args.tiny else args.sets.split(",")
    for name in chosen:
        quality_table(embedders, configs, sets[name]())
    sizes = [1_000] if args.tiny else [10_000] if args.quick else [10_000, 100_000]
    embedded = 16 if args.tiny else 32 if args.quick else 2_000
    queries = 5 if args.tiny else 20 if args.quick else 118
    for factory in embedders.values():
        latency_table(factory(), sizes, embedded=embedded, queries=queries)


if __name__ == "__main__":
    main()
