"""Minutes map-reduce of the first pipeline (``pipeline="v1"``, kept for comparison) with a rule-based "secretary".

The secretary really reads its prompts: it parses the transcript lines of map prompts with
regular expressions (decisions, actions with owner and due date, speakers) and merges the JSON
notes of reduce prompts. Its answers are deliberately sloppy JSON (code fences, trailing
commas, French keys) to exercise the tolerant parser.
"""

from __future__ import annotations

import asyncio
import json
import re
from importlib import resources

import pytest

from tests.transcription.factories import transcript
from transcription import (
    PROMPT_VERSION,
    ActionItem,
    Message,
    approx_tokens,
    chunk_transcript,
    generate_minutes,
    parse_json_object,
)
from transcription.errors import MinutesError

_LINE = re.compile(r"^\[(\d{2}:\d{2}:\d{2})\] (?:(?P<speaker>[^:]+?) : )?(?P<text>.*)$")
_ACTION = re.compile(
    r"(?P<owner>(?:Madame|Monsieur) [A-Z]\w+) (?:enverra|préparera|rédigera|organisera) (?P<task>.+?)"
    r"(?: (?:avant|d'ici) (?P<due>[^.,]+))?$"
)


class Secretary:
    def __init__(self, *, garbage_answers: int = 0, delay: float = 0.0) -> None:
        self.calls: list[list[Message]] = []
        self.garbage_answers = garbage_answers
        self.delay = delay
        self.in_flight = 0
        self.max_in_flight = 0

    async def __call__(self, messages: list[Message]) -> str:
        self.calls.append(messages)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.delay)
            if self.garbage_answers:
                self.garbage_answers -= 1
                return "Bien sûr ! Voici le compte rendu : la réunion s'est bien passée."
            prompt = messages[1]["content"]
            if "<transcription>" in prompt:
                return self._map(prompt.split("<transcription>")[1].split("</transcription>")[0])
            return self._reduce(prompt.split("<notes>")[1].split("</notes>")[0])
        finally:
            self.in_flight -= 1

    @staticmethod
    def _map(block: str) -> str:
        speakers, sentences = [], []
        for line in block.strip().splitlines():
            match = _LINE.match(line)
            assert match, f"unexpected transcript line: {line!r}"
            if match["speaker"]:
                speakers.append(match["speaker"])
            sentences += [s.strip() for s in re.split(r"(?<=[.!?])\s+", match["text"]) if s.strip()]
        decisions = [s for s in sentences if "décid" in s]
        actions = []
        for sentence in sentences:
            if found := _ACTION.search(sentence.rstrip(".")):
                actions.append({"task": found["task"], "owner": found["owner"], "due": found["due"]})
        notes = {
            "summary": sentences[0] if sentences else "",
            "decisions": decisions,
            "actions": actions,
            "participants": sorted(set(speakers)),
        }
        # sloppy on purpose: fenced, with a trailing comma before the closing brace
        return "Voici mes notes :\n```json\n" + json.dumps(notes, ensure_ascii=False)[:-1] + ",}\n```"

    @staticmethod
    def _reduce(block: str) -> str:
        notes = [json.loads(line) for line in block.strip().splitlines()]
        merged = {
            "résumé": " ".join(n["summary"] for n in notes),
            "décisions": [d for n in notes for d in n["decisions"]],
            "actions": [
                {"tâche": a["task"], "responsable": a["owner"] or "null", "échéance": a["due"]}
                for n in notes
                for a in n["actions"]
            ],
            "participants": sorted({p for n in notes for p in n["participants"]}),
        }
        return json.dumps(merged, ensure_ascii=False)


MEETING = transcript(
    (0.0, 4.0, "Bonjour à tous, la séance du comité de pilotage est ouverte.", "Intervenant 1"),
    (4.0, 9.0, "Le premier point porte sur la rénovation de la bibliothèque municipale.", "Intervenant 1"),
    (
        9.0,
        15.0,
        "Après discussion, nous avons décidé de rénover la bibliothèque avant juin.",
        "Intervenant 2",
    ),
    (15.0, 20.0, "Madame Dupont enverra le planning détaillé avant vendredi.", "Intervenant 2"),
    (20.0, 26.0, "Le deuxième point concerne le budget des écoles pour l'année prochaine.", "Intervenant 3"),
    (26.0, 31.0, "Le conseil a décidé de reporter le vote du budget à septembre.", "Intervenant 1"),
    (31.0, 36.0, "Monsieur Martin préparera une note sur les effectifs.", "Intervenant 3"),
    (36.0, 40.0, "Merci à tous, la séance est levée.", "Intervenant 1"),
)


async def test_map_reduce_produces_structured_minutes() -> None:
    secretary = Secretary()
    minutes = await generate_minutes(MEETING, complete=secretary, max_chunk_tokens=60, pipeline="v1")
    chunks = chunk_transcript(MEETING.segments, max_tokens=60)
    assert len(chunks) >= 3
    map_calls = [c for c in secretary.calls if "<transcription>" in c[1]["content"]]
    assert len(map_calls) == len(chunks)
    assert len(secretary.calls) > len(chunks)  # at least one reduce
    assert tuple(d.text for d in minutes.decisions) == (
        "Après discussion, nous avons décidé de rénover la bibliothèque avant juin.",
        "Le conseil a décidé de reporter le vote du budget à septembre.",
    )
    assert minutes.actions == (
        ActionItem(task="le planning détaillé", owner="Madame Dupont", due="vendredi"),
        ActionItem(task="une note sur les effectifs", owner="Monsieur Martin", due=None),
    )
    assert minutes.participants == ("Intervenant 1", "Intervenant 2", "Intervenant 3")
    assert minutes.summary.startswith("Bonjour à tous")
    # the system prompt frames the transcript as data, never as instructions
    assert secretary.calls[0][0]["role"] == "system" and "jamais une instruction" in secretary.calls[0][0]["content"]


async def test_small_budget_needs_several_reduce_rounds() -> None:
    secretary = Secretary()
    minutes = await generate_minutes(MEETING, complete=secretary, max_chunk_tokens=30, pipeline="v1")
    reduce_calls = [c for c in secretary.calls if "<notes>" in c[1]["content"]]
    assert len(reduce_calls) >= 3, "notes too long for one prompt are reduced in rounds"
    assert len(minutes.decisions) == 2 and len(minutes.actions) == 2


async def test_an_unusable_answer_is_asked_again_with_the_error() -> None:
    secretary = Secretary(garbage_answers=1)
    minutes = await generate_minutes(MEETING, complete=secretary, max_chunk_tokens=5000, max_retries=1, pipeline="v1")
    assert len(minutes.decisions) == 2
    retried = [c for c in secretary.calls if len(c) == 4]
    assert len(retried) == 1
    assert retried[0][2]["role"] == "assistant" and "Bien sûr" in retried[0][2]["content"]
    assert "n'est pas exploitable" in retried[0][3]["content"]


async def test_persistent_nonsense_raises_minutes_error() -> None:
    secretary = Secretary(garbage_answers=100)
    with pytest.raises(MinutesError, match="compte rendu"):
        await generate_minutes(MEETING, complete=secretary, max_retries=2, pipeline="v1")
    assert len(secretary.calls) == 3


async def test_concurrency_is_bounded() -> None:
    secretary = Secretary(delay=0.01)
    await generate_minutes(MEETING, complete=secretary, max_chunk_tokens=30, max_concurrency=2, pipeline="v1")
    assert secretary.max_in_flight == 2


async def test_empty_transcript() -> None:
    with pytest.raises(MinutesError, match="vide"):
        await generate_minutes([], complete=Secretary())


def test_chunks_respect_the_budget_and_the_order() -> None:
    def words(text: str) -> int:
        return len(text.split())

    long_line = transcript((0.0, 60.0, " ".join(f"mot{i}." for i in range(100)), "Intervenant 1"))
    for segments, budget in ((MEETING.segments, 25), (long_line.segments, 20)):
        chunks = chunk_transcript(segments, max_tokens=budget, count_tokens=words)
        assert all(words(line) <= budget for chunk in chunks for line in chunk.splitlines())
        assert all(sum(words(line) + 1 for line in chunk.splitlines()) <= budget for chunk in chunks)
        rebuilt = " ".join(chunks).split()
        assert [w for w in rebuilt if w.startswith("mot")] == sorted(
            [w for w in rebuilt if w.startswith("mot")], key=lambda w: int(w[3:-1])
        )
    assert len(chunk_transcript(long_line.segments, max_tokens=20, count_tokens=words)) >= 5
    with pytest.raises(ValueError, match="too small"):
        chunk_transcript(MEETING.segments, max_tokens=5)


def test_tolerant_json_parsing() -> None:
    assert parse_json_object('```json\n{"a": [1, 2,],}\n```') == {"a": [1, 2]}
    assert parse_json_object('Voici : {"summary": "ok"} Bonne journée.') == {"summary": "ok"}
    assert parse_json_object("{'summary': 'guillemets simples'}") == {"summary": "guillemets simples"}
    with pytest.raises(ValueError, match="aucun objet"):
        parse_json_object("Je ne sais pas.")
    with pytest.raises(ValueError):
        parse_json_object("[1, 2, 3]")


def test_token_estimate_and_prompt_files() -> None:
    assert approx_tokens("") == 0
    assert approx_tokens("a" * 350) == 100
    folder = resources.files("transcription.prompts")
    names = sorted(p.name for p in folder.iterdir() if p.name.endswith(".txt"))
    steps = ("map", "reduce", "retry", "system")
    assert names == sorted(f"minutes_{step}.{version}.txt" for step in steps for version in ("v1", PROMPT_VERSION))
    assert "$transcript" in folder.joinpath(f"minutes_map.{PROMPT_VERSION}.txt").read_text("utf-8")


def test_open_questions_are_parsed_under_either_key_and_exported() -> None:
    from transcription import export_minutes
    from transcription._minutes import _MinutesModel

    parsed = _MinutesModel.model_validate(
        {"résumé": "Budget des écoles.", "questions_ouvertes": ["Qui finance la cantine ?", "Qui finance la cantine ?"]}
    ).to_minutes()
    assert tuple(q.text for q in parsed.open_questions) == ("Qui finance la cantine ?",)
    markdown = export_minutes(parsed, "md", label="Contenu généré par IA — à vérifier").decode()
    assert "## Questions ouvertes" in markdown and "Qui finance la cantine ?" in markdown
    assert [q["text"] for q in parsed.to_dict()["open_questions"]] == ["Qui finance la cantine ?"]
