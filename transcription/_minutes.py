"""Meeting minutes by map-reduce over a transcript, with a caller-supplied chat completion.

Pipeline ``"v2"`` (the default), minutes a secretariat can check and sign:

- a deterministic pass reads decisions, actions, next meeting and open questions off the words
  (:mod:`transcription._minutes_extract`), each linked to the passage that says it;
- map: the transcript is cut into chunks that fit a token budget; the model reads each chunk with numbered
  passages and must cite them; what the transcript does not support is dropped (:mod:`._minutes_model`);
- reduce: item lists are merged by rule, never re-summarised (:mod:`._minutes_merge`), so every decision of
  every chunk is kept; only the chunk summaries are condensed by the model.

Pipeline ``"v1"`` (kept for comparison): the model writes notes per chunk, then merges them itself.

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
from datetime import date
from string import Template
from typing import Any, Literal, TypeVar

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError, field_validator

from transcription._minutes_extract import ExtractedItems, extract_items
from transcription._minutes_items import ActionItem, Decision, MeetingNote
from transcription._minutes_json import parse_json_object
from transcription._minutes_json import prompt as _load_prompt
from transcription._minutes_merge import merge_items
from transcription._minutes_model import ChunkNotes, check_notes, numbered_lines
from transcription._minutes_people import known_people
from transcription._types import Segment, Transcript
from transcription.errors import MinutesError

__all__ = [
    "PROMPT_VERSION",
    "ActionItem",
    "CompleteFn",
    "Decision",
    "MeetingNote",
    "Message",
    "Minutes",
    "MinutesPipeline",
    "approx_tokens",
    "chunk_segments",
    "chunk_transcript",
    "extract_minutes",
    "generate_minutes",
    "parse_json_object",
]

logger = logging.getLogger(__name__)

PROMPT_VERSION = "v2"
#: ``"v2"``: cited items checked against the transcript, merged by rule; ``"v1"``: the model merges its notes.
MinutesPipeline = Literal["v1", "v2"]
_T = TypeVar("_T")

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
class Minutes:
    """Structured minutes: summary, decisions, actions, next meeting, open questions, participants.

    Every item links to the transcript passages it comes from (empty for minutes of the first version).
    ``dropped`` counts the model's items refused because the transcript did not support them.
    """

    summary: str
    decisions: tuple[Decision, ...] = ()
    actions: tuple[ActionItem, ...] = ()
    participants: tuple[str, ...] = ()
    open_questions: tuple[MeetingNote, ...] = ()
    next_meeting: MeetingNote | None = None
    meeting_date: str | None = None
    dropped: int = 0
    pipeline: str = "v1"

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": 2,
            "pipeline": self.pipeline,
            "meeting_date": self.meeting_date,
            "summary": self.summary,
            "decisions": [d.to_dict() for d in self.decisions],
            "actions": [a.to_dict() for a in self.actions],
            "next_meeting": self.next_meeting.to_dict() if self.next_meeting else None,
            "participants": list(self.participants),
            "open_questions": [q.to_dict() for q in self.open_questions],
            "dropped": self.dropped,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Minutes:
        """Minutes from stored JSON, of this version or of the first (decisions and questions as strings)."""
        next_meeting = data.get("next_meeting")
        return cls(
            summary=str(data.get("summary") or ""),
            decisions=tuple(Decision.from_stored(d) for d in data.get("decisions") or ()),
            actions=tuple(ActionItem.from_stored(a) for a in data.get("actions") or ()),
            participants=tuple(str(p) for p in data.get("participants") or ()),
            open_questions=tuple(MeetingNote.from_stored(q) for q in data.get("open_questions") or ()),
            next_meeting=MeetingNote.from_stored(next_meeting) if next_meeting else None,
            meeting_date=data.get("meeting_date"),
            dropped=int(data.get("dropped") or 0),
            pipeline=str(data.get("pipeline") or "v1"),
        )


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
            decisions=tuple(Decision(text) for text in unique(self.decisions)),
            actions=tuple(ActionItem(a.task.strip(), a.owner, a.due) for a in self.actions if a.task.strip()),
            participants=unique(self.participants),
            open_questions=tuple(MeetingNote(text) for text in unique(self.open_questions)),
            pipeline="v1",
        )


def _prompt(name: str, version: str = "v1") -> Template:
    return _load_prompt(name, version)


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


async def _ask(
    complete: CompleteFn,
    prompt: str,
    *,
    retries: int,
    step: str,
    shape: type[_T] | None = None,
    version: str = "v1",
) -> Any:
    """One model answer validated against ``shape`` (the v1 notes by default), asked again with the error."""
    model: Any = shape or _MinutesModel
    messages: list[Message] = [
        {"role": "system", "content": _prompt("minutes_system", version).template},
        {"role": "user", "content": prompt},
    ]
    for attempt in range(retries + 1):
        answer = await complete(list(messages))
        try:
            return model.model_validate(parse_json_object(answer))
        except (ValueError, ValidationError) as exc:
            error = str(exc).splitlines()[0]
            logger.warning("Minutes %s: unusable answer (attempt %d): %s", step, attempt + 1, error)
            messages += [
                {"role": "assistant", "content": answer},
                {"role": "user", "content": _prompt("minutes_retry", version).substitute(error=error)},
            ]
    raise MinutesError("Le modèle de langue n'a pas produit de compte rendu exploitable ; réessayez plus tard.")


def _notes_json(notes: Sequence[_MinutesModel]) -> list[str]:
    return [json.dumps(n.model_dump(), ensure_ascii=False) for n in notes]


def _segments_of(transcript: Transcript | Sequence[Segment]) -> tuple[Segment, ...]:
    return transcript.segments if isinstance(transcript, Transcript) else tuple(transcript)


def extract_minutes(
    transcript: Transcript | Sequence[Segment],
    *,
    meeting_date: date | None = None,
    participants: Sequence[str] = (),
) -> Minutes:
    """Minutes from the deterministic pass alone (no model, no summary): fast, for checks and as a fallback."""
    segments = _segments_of(transcript)
    people = known_people(segments, participants)
    found = extract_items(segments, reference=meeting_date, people=people)
    return _assemble("", merge_items([found]), people, meeting_date, dropped=0)


def _assemble(
    summary: str, items: ExtractedItems, people: Sequence[str], meeting_date: date | None, *, dropped: int
) -> Minutes:
    return Minutes(
        summary=summary,
        decisions=tuple(items.decisions),
        actions=tuple(items.actions),
        participants=tuple(people),
        open_questions=tuple(items.open_questions),
        next_meeting=items.next_meeting,
        meeting_date=meeting_date.isoformat() if meeting_date else None,
        dropped=dropped,
        pipeline="v2",
    )


def chunk_segments(
    segments: Sequence[Segment], *, max_tokens: int, count_tokens: Callable[[str], int] = approx_tokens
) -> list[tuple[int, int]]:
    """Consecutive whole segments within ``max_tokens`` per chunk, as ``(first, last)`` indexes (inclusive).

    Whole segments, because the model cites them by number; a segment longer than the budget is a chunk alone.
    """
    chunks: list[tuple[int, int]] = []
    first, used = 0, 0
    for index, line in enumerate(numbered_lines(segments, 0)):
        cost = count_tokens(line) + 1
        if index > first and used + cost > max_tokens:
            chunks.append((first, index - 1))
            first, used = index, 0
        used += cost
    if segments:
        chunks.append((first, len(segments) - 1))
    return chunks


class _Summary(BaseModel):
    model_config = ConfigDict(extra="ignore")
    summary: str = Field(validation_alias=AliasChoices("summary", "résumé", "synthèse"))

    _join = field_validator("summary", mode="before")(
        lambda value: "\n".join(str(v) for v in value) if isinstance(value, list) else value
    )


async def _generate_v2(
    segments: tuple[Segment, ...],
    *,
    complete: CompleteFn,
    max_chunk_tokens: int,
    count_tokens: Callable[[str], int],
    max_retries: int,
    max_concurrency: int,
    meeting_date: date | None,
    participants: Sequence[str],
) -> Minutes:
    people = known_people(segments, participants)
    extracted = extract_items(segments, reference=meeting_date, people=people)
    chunks = chunk_segments(segments, max_tokens=max_chunk_tokens, count_tokens=count_tokens)
    gate = asyncio.Semaphore(max_concurrency)
    said_on = meeting_date.strftime("%d/%m/%Y") if meeting_date else "(date non précisée)"
    map_prompt = _prompt("minutes_map", "v2")

    async def read_chunk(number: int, first: int, last: int) -> tuple[ChunkNotes | None, int, int]:
        text = "\n".join(numbered_lines(segments[first : last + 1], first))
        prompt = map_prompt.substitute(part=number, parts=len(chunks), transcript=text, meeting_date=said_on)
        async with gate:
            try:
                notes = await _ask(
                    complete, prompt, retries=max_retries, step=f"map {number}", shape=ChunkNotes, version="v2"
                )
            except MinutesError:
                # this chunk keeps its deterministic items; the minutes fail only when no chunk could be read
                return None, first, last
        return notes, first, last

    answers = await asyncio.gather(*(read_chunk(n, f, la) for n, (f, la) in enumerate(chunks, start=1)))
    if all(notes is None for notes, _, _ in answers):
        raise MinutesError("Le modèle de langue n'a pas produit de compte rendu exploitable ; réessayez plus tard.")
    passes, summaries, dropped = [extracted], [], 0
    for notes, first, last in answers:
        if notes is None:
            continue
        checked, refused = check_notes(
            notes, segments=segments, first=first, last=last, reference=meeting_date, people=people
        )
        passes.append(checked)
        dropped += refused
        if notes.summary.strip():
            summaries.append(notes.summary.strip())
    logger.info("Minutes: %d chunks mapped, %d model items dropped", len(chunks), dropped)
    summary = await _reduce_summaries(
        summaries,
        complete=complete,
        gate=gate,
        max_chunk_tokens=max_chunk_tokens,
        count_tokens=count_tokens,
        max_retries=max_retries,
    )
    return _assemble(summary, merge_items(passes), people, meeting_date, dropped=dropped)


async def _reduce_summaries(
    summaries: list[str],
    *,
    complete: CompleteFn,
    gate: asyncio.Semaphore,
    max_chunk_tokens: int,
    count_tokens: Callable[[str], int],
    max_retries: int,
) -> str:
    """One summary from the chunks' summaries (the items are merged by rule, not here)."""
    reduce_prompt = _prompt("minutes_reduce", "v2")
    while len(summaries) > 1:
        notes = [json.dumps({"summary": text}, ensure_ascii=False) for text in summaries]
        groups = _group_notes(notes, max_chunk_tokens, count_tokens)

        async def condense(group: list[str]) -> str:
            async with gate:
                prompt = reduce_prompt.substitute(parts=len(group), notes="\n".join(group))
                answer = await _ask(complete, prompt, retries=max_retries, step="reduce", shape=_Summary, version="v2")
            return str(answer.summary).strip()

        summaries = list(await asyncio.gather(*(condense(group) for group in groups)))
    return summaries[0] if summaries else ""


async def generate_minutes(
    transcript: Transcript | Sequence[Segment],
    *,
    complete: CompleteFn,
    max_chunk_tokens: int = 3000,
    count_tokens: Callable[[str], int] = approx_tokens,
    max_retries: int = 2,
    max_concurrency: int = 4,
    meeting_date: date | None = None,
    participants: Sequence[str] = (),
    pipeline: MinutesPipeline = "v2",
) -> Minutes:
    """Write the minutes of a meeting from its transcript.

    ``complete`` is the caller's chat model (async, messages in, text out). ``max_chunk_tokens``
    bounds the transcript (map) and the notes (reduce) sent in one prompt; ``count_tokens``
    should be the model's own counter. ``meeting_date`` is the reference of relative dates
    (« vendredi »); ``participants`` the names owners are matched to (speaker names and names
    heard in the introductions are added). Raises :class:`MinutesError` when the model keeps
    answering something that is not the expected JSON.

    Example::

        minutes = await generate_minutes(transcript, complete=backend_complete, meeting_date=date(2026, 9, 10))
        print([d.text for d in minutes.decisions])
    """
    segments = _segments_of(transcript)
    if not any(segment.text.strip() for segment in segments):
        raise MinutesError("La transcription est vide : aucun compte rendu ne peut être rédigé.")
    if pipeline == "v2":
        return await _generate_v2(
            segments,
            complete=complete,
            max_chunk_tokens=max_chunk_tokens,
            count_tokens=count_tokens,
            max_retries=max_retries,
            max_concurrency=max_concurrency,
            meeting_date=meeting_date,
            participants=participants,
        )
    return await _generate_v1(
        segments,
        complete=complete,
        max_chunk_tokens=max_chunk_tokens,
        count_tokens=count_tokens,
        max_retries=max_retries,
        max_concurrency=max_concurrency,
    )


async def _generate_v1(
    segments: tuple[Segment, ...],
    *,
    complete: CompleteFn,
    max_chunk_tokens: int,
    count_tokens: Callable[[str], int],
    max_retries: int,
    max_concurrency: int,
) -> Minutes:
    """The first pipeline: the model takes notes per chunk, then merges the notes itself (kept for comparison)."""
    chunks = chunk_transcript(segments, max_tokens=max_chunk_tokens, count_tokens=count_tokens)
    if not chunks:
        raise MinutesError("La transcription est vide : aucun compte rendu ne peut être rédigé.")
    gate = asyncio.Semaphore(max_concurrency)

    async def bounded(prompt: str, step: str) -> _MinutesModel:
        async with gate:
            result: _MinutesModel = await _ask(complete, prompt, retries=max_retries, step=step)
            return result

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
