"""The retrieval eval script: its generated hard set, and a tiny run end to end (real e5 model, seconds)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

from rag_hard_set import TOPICS, hard_set  # noqa: E402  (a script's sibling module, not a package)


def test_the_hard_set_is_deterministic_and_answerable_where_it_says() -> None:
    documents, questions = hard_set()
    assert (documents, questions) == hard_set(), "same seed, same set"
    assert hard_set(seed=1) != (documents, questions)
    texts = {document.id: document.text for document in documents}
    assert len(texts) == len(documents) == 48
    answerable = [q for q in questions if q.document is not None]
    assert len(answerable) == len(documents) and len(questions) > len(answerable)
    for question in answerable:
        assert question.passage is not None and question.passage in texts[question.document]


def test_near_duplicates_differ_only_by_issuer_year_and_figures() -> None:
    documents, questions = hard_set()
    for topic in TOPICS:
        siblings = [d.text for d in documents if d.id.startswith(topic.slug + "-")]
        assert len(siblings) == 6
        shared = set.intersection(*(set(text.splitlines()) for text in siblings))
        assert sum(len(line) for line in shared) > 300, "the legal boilerplate is the same in every sibling"
        title = topic.title.lower()
        assert not any(title in q.text.lower() for q in questions), "questions paraphrase, never quote the title"


def test_tiny_run_prints_the_tables() -> None:
    result = subprocess.run(
        [sys.executable, "benchmarks/rag_eval.py", "--tiny"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    assert "### Retrieval, hard set: 6 documents, 8 questions (2 without answer)" in out
    rows = [line for line in out.splitlines() if line.startswith("| multilingual-e5") or line.startswith("| —")]
    assert len(rows) == 2, out
    for row in rows:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        assert all(0.0 <= float(value) <= 1.0 for value in cells[3:7]), row
    recall = re.search(r"^hard recall@1: (\d\.\d+)$", out, re.MULTILINE)
    assert recall is not None and 0.0 <= float(recall.group(1)) <= 1.0
    latency = re.search(r"^\| 1,000 \| [\d.]+ \| ([\d.]+) \| ([\d.]+) \|$", out, re.MULTILINE)
    assert latency is not None and 0 < float(latency.group(1)) <= float(latency.group(2))
    assert "16 embedded with multilingual-e5-small-q4" in out
