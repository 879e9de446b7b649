"""A deterministic chat backend for meeting minutes: it writes its notes from the prompt it is given."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator

from assistant.llm import ChatBackend, ChatChunk, ChatRequest, ChoiceDelta, Usage

_LINE = re.compile(r"^\[(\d\d:\d\d:\d\d)\] (.+)$", re.MULTILINE)


class NoteTaker(ChatBackend):
    """A deterministic stand-in for an LLM that reads the prompt it is given.

    Map prompts (``<transcription>``): the lines make the summary, lines saying "décid…" are decisions.
    Reduce prompts (``<notes>``): the notes' summaries are joined and their decisions merged.
    """

    kind = "note-taker"

    async def stream(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
        prompt = str(request.messages[-1]["content"])
        if "<notes>" in prompt:
            body = prompt.split("<notes>")[1].split("</notes>")[0]
            notes = [json.loads(line) for line in body.strip().splitlines()]
            answer = {
                "summary": " ".join(note["summary"] for note in notes),
                "decisions": [d for note in notes for d in note.get("decisions", [])],
                "actions": [{"task": "Diffuser le compte rendu", "owner": "secrétariat", "due": None}],
                "participants": ["Intervenant 1"],
            }
        else:
            lines = [text for _, text in _LINE.findall(prompt)]
            answer = {
                "summary": " ".join(lines),
                "decisions": [line for line in lines if "décid" in line.lower()],
                "actions": [],
                "participants": [],
            }
        text = json.dumps(answer, ensure_ascii=False)
        yield ChatChunk(deltas=(ChoiceDelta(text=text, finish_reason="stop"),))
        yield ChatChunk(usage=Usage(prompt_tokens=len(prompt) // 4, completion_tokens=len(text) // 4))
