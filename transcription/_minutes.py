"""Meeting minutes by map-reduce over a transcript, with a caller-supplied chat completion.

map:    the transcript is cut into chunks that fit a token budget; each chunk -> partial notes
reduce: partial notes -> final minutes (in several rounds when the notes are too long at once)

Every model answer must be a JSON object; it is read tolerantly (code fences, trailing commas,
text around it) with ``json-repair`` and validated, and a bad answer is asked again with the
error. Prompts are versioned text files in ``transcription/prompts``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from string import Template
from typing import Any

import json_repair
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError, field_validator

from transcription._types import Segment, Transcript
from transcription.errors import MinutesError

__all__ = [
    "PROMPT_VERSION",
    "ActionItem",
    "CompleteFn",
    "Message",
    "Minutes",
    "approx_tokens",
    "chunk_transcript",
    "generate_minutes",
    "parse_json_object",
]

logger = logging.getLogger(__name__)

PROMPT_VERSION = "v1"

#: One chat message, OpenAI style: {"role": "system" | "user" | "assistant", "content": "..."}.
Message = dict[str, str]
#: The caller's chat model: takes messages, returns the assistant's text.
CompleteFn = Callable[[list[Message]], Awaitable[str]]


def approx_tokens(text: str) -> int:
    """Rough token count for French text (about 3.5 characters per token with BPE vocabularies).

    Callers should pass their model's own counter to :func:`generate_minutes` when they have one.
    """
    return max(1, round(len(text) / 3.5)) if text else 0


@dataclass(frozen=True, slots=True)
class ActionItem:
    """An action decided in the meeting, with its owner and due date when they were said."""

    task: str
    owner: str | None = None
    due: str | None = None


@dataclass(frozen=True, slots=True)
class Minutes:
    """Structured minutes: summary, decisions, actions, participants and questions left open."""

    summary: str
    decisions: tuple[str, ...] = ()
    actions: tuple[ActionItem, ...] = ()
    participants: tuple[str, ...] = ()
    open_questions: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "summary": self.summary,
            "decisions": list(self.decisions),
            "actions": [{"task": a.task, "owner": a.owner, "due": a.due} for a in self.actions],
            "participants": list(self.participants),
            "open_questions": list(self.open_questions),
        }


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str) and value.strip().lower() in ("", "null", "none", "non précisé", "inconnu"):
        return None
    return value


class _ActionModel(BaseModel):
    model_config = ConfigDict(extra="ignore")
    task: str = Field(validation_alias=AliasChoices("task", "action", "tâche", "description"))
    owner: str | None = Field(default=None, validation_alias=AliasChoices("owner", "responsable", "who"))
    due: str | None = Field(default=None, validation_alias=AliasChoices("due", "échéance", "deadline", "date"))

    _clean = field_validator("owner", "due", mode="before")(_blank_to_none)


class _MinutesModel(BaseModel):
    """The JSON shape asked of the model; lenient on keys, strict on what must be there."""

    model_config = ConfigDict(extra="ignore")
    summary: str = Field(validation_alias=AliasChoices("summary", "résumé", "synthèse"))
    decisions: list[str] = Field(default_factory=list, validation_alias=AliasChoices("decisions", "décisions"))
    actions: list[_ActionModel] = Field(default_factory=list)
    participants: list[str] = Field(default_factory=list)
    open_questions: list[str] = Field(
        default_factory=list, validation_alias=AliasChoices("open_questions", "questions_ouvertes", "questions")
    )

    @field_validator("summary", mode="before")
    @classmethod
    def _join_summary(cls, value: Any) -> Any:
        return "\n".join(str(v) for v in value) if isinstance(value, list) else value

    @field_validator("actions", mode="before")
    @classmethod
    def _actions_as_objects(cls, value: Any) -> Any:
        return [{"task": v} if isinstance(v, str) else v for v in value] if isinstance(value, list) else value

    def to_minutes(self) -> Minutes:
        def unique(values: list[str]) -> tuple[str, ...]:
            return tuple(dict.fromkeys(v.strip() for v in values if v and v.strip()))

        return Minutes(
            summary=self.summary.strip(),
            decisions=unique(self.decisions),
            actions=tuple(ActionItem(a.task.strip(), a.owner, a.due) for a in self.actions if a.task.strip()),
            participants=unique(self.participants),
            open_questions=unique(self.open_questions),
        )


def parse_json_object(text: str) -> dict[str, Any]:
    """Extract one JSON object from a model answer, repairing common defects.

    Raises ``ValueError`` when no object can be recovered.
    """
    fenced = re.search(r"```(?:json)?\s*(.*?)```", text, flags=re.DOTALL)
    candidate = fenced.group(1) if fenced else text
    start, end = candidate.find("{"), candidate.rfind("}")
    if start != -1 and end > start:
        try:
            value = json.loads(candidate[start : end + 1])
        except json.JSONDecodeError:
            value = json_repair.loads(candidate[start : end + 1])
    else:
        value = json_repair.loads(candidate)
    if not isinstance(value, dict):
        raise ValueError("aucun objet JSON n'a été trouvé dans la réponse")
    return value


def _prompt(name: str) -> Template:
    text = resources.files("transcription.prompts").joinpath(f"{name}.{PROMPT_VERSION}.txt").read_text("utf-8")
    return Template(text)


def _prefix(segment: Segment) -> str:
    total = int(segment.start)
    stamp = f"{total // 3600:02d}:{total % 3600 // 60:02d}:{total % 60:02d}"
    return f"[{stamp}] {segment.speaker} : " if segment.speaker else f"[{stamp}] "


def _split_long(text: str, budget: int, count_tokens: Callable[[str], int]) -> list[str]:
    """Cut an over-long text at sentence ends, then at word boundaries."""
    pieces: list[str] = []
    current = ""
    for unit in re.split(r"(?<=[.!?…])\s+|\s+", text):
        candidate = f"{current} {unit}".strip()
        if current and count_tokens(candidate) > budget:
            pieces.append(current)
            current = unit
        else:
            current = candidate
    if current:
        pieces.append(current)
    return pieces


def chunk_transcript(
    segments: Sequence[Segment], *, max_tokens: int, count_tokens: Callable[[str], int] = approx_tokens
) -> list[str]:
    """Group timed transcript lines into chunks of at most ``max_tokens`` tokens each.

    Lines keep their order; a line too long for a chunk on its own is split, each piece
    keeping the line's timestamp and speaker.
    """
    if max_tokens < 10:
        raise ValueError("max_tokens is too small to hold a transcript line")
    chunks: list[str] = []
    current: list[str] = []
    used = 0
    for segment in segments:
        prefix = _prefix(segment)
        # one token is kept for the newline that joins lines
        room = max(1, max_tokens - count_tokens(prefix) - 1)
        for piece in _split_long(segment.text, room, count_tokens):
            line = prefix + piece
            cost = count_tokens(line) + 1
            if current and used + cost > max_tokens:
                chunks.append("\n".join(current))
                current, used = [], 0
            current.append(line)
            used += cost
    if current:
        chunks.append("\n".join(current))
    return chunks


async def _ask(complete: CompleteFn, prompt: str, *, retries: int, step: str) -> _MinutesModel:
    messages: list[Message] = [
        {"role": "system", "content": _prompt("minutes_system").template},
        {"role": "user", "content": prompt},
    ]
    for attempt in range(retries + 1):
        answer = await complete(list(messages))
        try:
            return _MinutesModel.model_validate(parse_json_object(answer))
        except (ValueError, ValidationError) as exc:
            error = str(exc).splitlines()[0]
            logger.warning("Minutes %s: unusable answer (attempt %d): %s", step, attempt + 1, error)
            messages += [
                {"role": "assistant", "content": answer},
                {"role": "user", "content": _prompt("minutes_retry").substitute(error=error)},
            ]
    raise MinutesError("Le modèle de langue n'a pas produit de compte rendu exploitable ; réessayez plus tard.")


def _notes_json(notes: Sequence[_MinutesModel]) -> list[str]:
    return [json.dumps(n.model_dump(), ensure_ascii=False) for n in notes]


async def generate_minutes(
    transcript: Transcript | Sequence[Segment],
    *,
    complete: CompleteFn,
    max_chunk_tokens: int = 3000,
    count_tokens: Callable[[str], int] = approx_tokens,
    max_retries: int = 2,
    max_concurrency: int = 4,
) -> Minutes:
    """Write the minutes of a meeting from its transcript.

    ``complete`` is the caller's chat model (async, messages in, text out). ``max_chunk_tokens``
    bounds the transcript (map) and the notes (reduce) sent in one prompt; ``count_tokens``
    should be the model's own counter. Raises :class:`MinutesError` when the model keeps
    answering something that is not the expected JSON.

    Example::

        minutes = await generate_minutes(transcript, complete=backend_complete)
        print(minutes.decisions)
    """
    segments = transcript.segments if isinstance(transcript, Transcript) else tuple(transcript)
    chunks = chunk_transcript(segments, max_tokens=max_chunk_tokens, count_tokens=count_tokens)
    if not chunks:
        raise MinutesError("La transcription est vide : aucun compte rendu ne peut être rédigé.")
    gate = asyncio.Semaphore(max_concurrency)

    async def bounded(prompt: str, step: str) -> _MinutesModel:
        async with gate:
            return await _ask(complete, prompt, retries=max_retries, step=step)

    map_prompt = _prompt("minutes_map")
    notes = list(
        await asyncio.gather(
            *(
                bounded(map_prompt.substitute(part=i, parts=len(chunks), transcript=chunk), f"map {i}")
                for i, chunk in enumerate(chunks, start=1)
            )
        )
    )
    logger.info("Minutes: %d chunks mapped", len(notes))
    reduce_prompt = _prompt("minutes_reduce")
    while True:
        groups = _group_notes(_notes_json(notes), max_chunk_tokens, count_tokens)
        results = await asyncio.gather(
            *(bounded(reduce_prompt.substitute(parts=len(group), notes="\n".join(group)), "reduce") for group in groups)
        )
        if len(results) == 1:
            return results[0].to_minutes()
        notes = list(results)


def _group_notes(notes: list[str], budget: int, count_tokens: Callable[[str], int]) -> list[list[str]]:
    """Pack notes into groups within ``budget``; always at least two per group so rounds shrink."""
    groups: list[list[str]] = [[]]
    used = 0
    for note in notes:
        cost = count_tokens(note)
        if len(groups[-1]) >= 2 and used + cost > budget:
            groups.append([])
            used = 0
        groups[-1].append(note)
        used += cost
    return groups
