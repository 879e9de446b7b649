"""Document tasks: synthesis, translation, rewriting, applied to pasted text or an uploaded file.

A task is a preset (versioned prompt file, :mod:`assistant.presets`) run on the input. Inputs longer than one
call are split (token-aware, langchain's recursive splitter through :class:`rag.Chunker`) and then:

- ``combine: reduce`` (synthesis): each part is summarised (map), the partial results are summarised again,
  in groups when they are still too long, until one final call (reduce) writes the answer;
- ``combine: concat`` (translation, rewriting): each part is processed in order and the outputs are joined.

:func:`run_task` gives either the labelled :class:`TaskResult` or an SSE stream (``task_start``,
``progress``, ``delta``, then ``task_end`` or ``error``); the final text is streamed as it is generated.
"""

from __future__ import annotations

import math
import re
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import aclosing
from dataclasses import dataclass, field

import anyio

from assistant.audit import ClientInfo
from assistant.core.sse import sse_event
from assistant.errors import InvalidRequestError, ServiceUnavailableError
from assistant.guard import GuardConfirmation, GuardNotice
from assistant.llm import LLMError, RegisteredModel
from assistant.presets import Preset
from assistant.provenance import Provenance, SourceRef, ai_headers
from assistant.runtime import Runtime
from assistant.security import Principal
from assistant.services.chat.views import PresetView, TaskResult, TaskSource
from assistant.services.gateway.generation import (
    Generation,
    Measure,
    check_forbidden_uses,
    check_sovereignty,
    parse_sensitivity,
)
from assistant.services.gateway.labelling import provenance_for
from assistant.services.gateway.model_access import resolve_model
from assistant.services.gateway.quotas import ensure_tokens_available, record_tokens
from assistant.services.gateway.usage import record_usage
from assistant.store.models import UsageService

__all__ = ["LANGUAGES", "TaskInput", "TaskOutcome", "extract_document", "list_presets", "preset_view", "run_task"]

# Target languages offered for translation: ISO 639-1 code -> French name used in the prompt.
LANGUAGES = {
    "fr": "français",
    "en": "anglais",
    "de": "allemand",
    "es": "espagnol",
    "it": "italien",
    "pt": "portugais",
    "nl": "néerlandais",
    "pl": "polonais",
    "ro": "roumain",
    "ar": "arabe",
    "uk": "ukrainien",
    "ru": "russe",
    "tr": "turc",
    "zh": "chinois",
    "br": "breton",
    "ca": "catalan",
    "co": "corse",
    "eu": "basque",
    "oc": "occitan",
}
_FRENCH_WORDS = frozenset(
    [
        "le",
        "la",
        "les",
        "des",
        "du",
        "un",
        "une",
        "et",
        "est",
        "pour",
        "dans",
        "que",
        "qui",
        "pas",
        "sur",
        "au",
        "aux",
        "avec",
        "ce",
        "cette",
        "sont",
    ]
)
_ENGLISH_WORDS = frozenset(
    [
        "the",
        "of",
        "and",
        "to",
        "is",
        "for",
        "in",
        "that",
        "with",
        "on",
        "are",
        "this",
        "be",
        "not",
        "it",
        "as",
        "by",
        "at",
        "from",
    ]
)
_SEPARATOR = "\n\n"


@dataclass(frozen=True)
class TaskInput:
    """The text a task works on, and where it came from."""

    text: str
    filename: str | None = None
    pages: int | None = None
    content_sha256: str | None = None


@dataclass
class TaskOutcome:
    """What the route sends back: the result or an SSE stream, plus labelling headers."""

    provenance: Provenance
    result: TaskResult | None = None
    stream: AsyncIterator[str] | None = None
    headers: dict[str, str] = field(default_factory=dict)


def preset_view(preset: Preset) -> PresetView:
    """The public description of a preset."""
    return PresetView(
        name=preset.name,
        version=preset.version,
        id=preset.id,
        title=preset.title,
        description=preset.description,
        parameters=list(preset.parameters),
        sha256=preset.sha256,
    )


def list_presets(runtime: Runtime) -> list[PresetView]:
    """Every task available, latest versions."""
    return [preset_view(preset) for preset in runtime.presets.presets()]


async def extract_document(runtime: Runtime, data: bytes, *, filename: str, mime: str | None) -> TaskInput:
    """The text of an uploaded document (any format `rag.load_document` reads), within the configured limits."""
    try:
        import rag
        from rag import errors as rag_errors
    except ImportError as exc:
        raise ServiceUnavailableError(
            "La lecture de fichiers n'est pas installée sur ce serveur (extra « rag ») : collez le texte."
        ) from exc
    settings = runtime.settings

    def load() -> rag.LoadedDocument:
        return rag.load_document(
            data,
            filename=filename,
            mime=mime,
            max_bytes=settings.task_max_upload_bytes,
            max_pages=settings.task_max_pages,
        )

    try:
        document = await anyio.to_thread.run_sync(load)
    except rag_errors.DocumentTooLargeError as exc:
        raise InvalidRequestError(str(exc), code="document_too_large") from exc
    except rag_errors.DocumentError as exc:
        raise InvalidRequestError(str(exc), code="unreadable_document") from exc
    except rag_errors.OcrError as exc:
        raise ServiceUnavailableError(f"Lecture optique indisponible : {exc}") from exc
    return TaskInput(document.text, filename=filename, pages=document.page_count, content_sha256=document.content_hash)


def _approximate_tokens(text: str) -> int:
    # French averages ~3 characters per token with SentencePiece tokenizers: err on the safe side.
    return max(1, math.ceil(len(text) / 3))


def _splitter(chunk_tokens: int, overlap_tokens: int) -> Callable[[str], list[str]]:
    try:
        from rag import Chunker
    except ImportError as exc:
        raise ServiceUnavailableError(
            "Le découpage des textes longs n'est pas installé sur ce serveur (extra « rag »)."
        ) from exc
    return Chunker(
        chunk_tokens=chunk_tokens, overlap_tokens=overlap_tokens, count_tokens=_approximate_tokens
    ).split_text


def _budget(runtime: Runtime, model: RegisteredModel) -> int:
    budget = runtime.settings.task_chunk_tokens
    if model.context_length:
        budget = min(budget, model.context_length // 3)  # room for the prompt and as long an answer
    return max(budget, 100)


def guess_target_language(text: str) -> str:
    """fr↔en by default: English for a French text, French otherwise."""
    words = re.findall(r"[a-zà-ÿ]+", text[:5000].lower())
    french = sum(word in _FRENCH_WORDS for word in words)
    english = sum(word in _ENGLISH_WORDS for word in words)
    return "en" if french >= english else "fr"


def _parameters(preset: Preset, text: str, target_language: str | None) -> dict[str, str]:
    if "langue_cible" not in preset.parameters:
        return {}
    code = (target_language or guess_target_language(text)).lower()
    if code not in LANGUAGES:
        known = ", ".join(sorted(LANGUAGES))
        raise InvalidRequestError(f"Langue cible inconnue : « {code} ». Codes acceptés : {known}.")
    return {"langue_cible": LANGUAGES[code]}


@dataclass
class _Run:
    runtime: Runtime
    principal: Principal
    preset: Preset
    model: RegisteredModel
    provenance: Provenance
    parts: list[str]
    values: dict[str, str]
    source: TaskSource
    budget: int
    part_count: int
    measure: Measure = field(default_factory=Measure)
    output: list[str] = field(default_factory=list)
    finished: bool = False
    guard: list[GuardNotice] = field(default_factory=list)

    def generation(self, system: str, text: str) -> Generation:
        messages = [{"role": "system", "content": system}, {"role": "user", "content": text}]
        return Generation(self.runtime, self.model, messages)

    async def call(self, system: str, text: str) -> str:
        generation = self.generation(system, text)
        try:
            return await generation.run()
        finally:
            self.measure.add(generation.measure())


def _groups(partials: list[str], budget: int) -> list[list[str]]:
    """Consecutive partial results packed up to ``budget`` tokens, at least two per group so rounds converge."""
    groups: list[list[str]] = []
    for partial in partials:
        current = groups[-1] if groups else None
        if current is not None and (
            len(current) < 2 or _approximate_tokens(_SEPARATOR.join([*current, partial])) <= budget
        ):
            current.append(partial)
        else:
            groups.append([partial])
    return groups


async def _reduce_inputs(run: _Run) -> AsyncGenerator[str, None]:
    """Map every part, then merge partial results by groups until they fit one call; yields progress events."""
    system = run.preset.system_prompt(run.values)
    partials = []
    for index, part in enumerate(run.parts, start=1):
        partials.append(await run.call(system, part))
        yield sse_event("progress", {"step": "map", "done": index, "total": len(run.parts)})
    reduce_system = run.preset.reduce_prompt(run.values)
    # Each round at least halves the number of partial results, so this ends after log2(parts) rounds.
    while len(partials) > 1 and _approximate_tokens(_SEPARATOR.join(partials)) > run.budget:
        groups = _groups(partials, run.budget)
        partials = []
        for index, group in enumerate(groups, start=1):
            # A group of one (the last, odd one) goes on unchanged: summarising it alone would gain nothing.
            partials.append(group[0] if len(group) == 1 else await run.call(reduce_system, _SEPARATOR.join(group)))
            yield sse_event("progress", {"step": "reduce", "done": index, "total": len(groups)})
    run.parts = [_SEPARATOR.join(partials)]


async def _steps(run: _Run) -> AsyncGenerator[str, None]:
    """The task's SSE events; the final text is streamed, intermediate calls report progress only."""
    reduce = run.preset.combine == "reduce" and len(run.parts) > 1
    if reduce:
        async for event in _reduce_inputs(run):
            yield event
    system = run.preset.reduce_prompt(run.values) if reduce else run.preset.system_prompt(run.values)
    for index, part in enumerate(run.parts, start=1):
        if index > 1:
            run.output.append(_SEPARATOR)
            yield sse_event("delta", {"content": _SEPARATOR})
        generation = run.generation(system, part)
        try:
            async with aclosing(generation.deltas()) as pieces:
                async for piece in pieces:
                    run.output.append(piece)
                    yield sse_event("delta", {"content": piece})
        finally:
            run.measure.add(generation.measure())
        if len(run.parts) > 1:
            yield sse_event("progress", {"step": "concat", "done": index, "total": len(run.parts)})
    run.finished = True


def _result(run: _Run) -> TaskResult:
    content = "".join(run.output)
    return TaskResult(
        preset=preset_view(run.preset),
        model=run.model.id,
        content=content,
        incomplete=not run.finished,
        provenance=run.provenance,
        provenance_manifest=run.runtime.signer.sign(content, run.provenance),
        usage=run.measure.usage(),
        parts=run.part_count,
        upstream_calls=run.measure.calls,
        source=run.source,
        guard=run.guard or None,
    )


async def _account(run: _Run) -> None:
    measure = run.measure
    await record_tokens(run.runtime, run.principal, measure.prompt_tokens + measure.completion_tokens)
    await record_usage(
        run.runtime,
        principal=run.principal,
        model_id=run.model.id,
        service=UsageService.TASK,
        measure=measure,
        preset=run.preset.id,
        incomplete=not run.finished,
    )


async def run_task(
    runtime: Runtime,
    *,
    principal: Principal,
    client: ClientInfo,
    preset_name: str,
    task_input: TaskInput,
    stream: bool,
    model_id: str | None = None,
    sensitivity: str | None = None,
    target_language: str | None = None,
    guard_confirmation: GuardConfirmation | None = None,
) -> TaskOutcome:
    """Run a preset on the input: sovereignty and quota first, then the calls, then usage and labelling."""
    preset = runtime.presets.get(preset_name)
    text = task_input.text.strip()
    if not text:
        raise InvalidRequestError("Texte vide : collez un texte ou joignez un fichier.")
    model = await resolve_model(runtime, model_id, principal=principal)
    await check_sovereignty(
        runtime, [text], model, declared=parse_sensitivity(sensitivity), principal=principal, client=client
    )
    notices = await check_forbidden_uses(
        runtime, [text], principal=principal, client=client, surface="task", confirmation=guard_confirmation
    )
    values = _parameters(preset, text, target_language)
    budget = _budget(runtime, model)
    # Overlap helps a summary keep a sentence cut in two; for translation it would duplicate text.
    parts = (
        [text]
        if _approximate_tokens(text) <= budget
        else _splitter(budget, budget // 20 if preset.combine == "reduce" else 0)(text)
    )
    if len(parts) > runtime.settings.task_max_chunks:
        raise InvalidRequestError(
            f"Texte trop long pour cette tâche : {len(parts)} parties de {budget} jetons "
            f"(maximum {runtime.settings.task_max_chunks}). Traitez-le en plusieurs fois.",
            code="input_too_long",
        )
    await ensure_tokens_available(runtime, principal)
    sources: tuple[SourceRef, ...] = ()
    if task_input.filename:
        sources = (SourceRef(document_id=task_input.content_sha256 or task_input.filename, title=task_input.filename),)
    provenance = provenance_for(model, request_id=client.request_id, sources=sources)
    run = _Run(
        runtime=runtime,
        principal=principal,
        preset=preset,
        model=model,
        provenance=provenance,
        parts=parts,
        values=values,
        source=TaskSource(filename=task_input.filename, pages=task_input.pages, characters=len(text)),
        budget=budget,
        part_count=len(parts),
        guard=notices,
    )
    headers = {**ai_headers(provenance), "X-Task-Preset": preset.id}
    if stream:
        return TaskOutcome(provenance, stream=_stream_task(run), headers=headers)
    return TaskOutcome(provenance, result=await _full_task(run), headers=headers)


async def _full_task(run: _Run) -> TaskResult:
    try:
        async for _ in _steps(run):
            pass
    except LLMError as exc:
        partial = _result(run)
        if partial.content:
            exc.details = {"partial": partial.model_dump(mode="json", by_alias=True)}
        raise
    finally:
        await _account(run)
    return _result(run)


async def _stream_task(run: _Run) -> AsyncIterator[str]:
    accounted = False
    try:
        if run.guard:
            yield sse_event("guard", {"notices": [notice.model_dump(mode="json") for notice in run.guard]})
        yield sse_event(
            "task_start",
            {
                "preset": preset_view(run.preset).model_dump(mode="json"),
                "model": run.model.id,
                "parts": run.part_count,
                "ai_generated": True,
                "provenance": run.provenance.model_dump(mode="json"),
            },
        )
        try:
            async with aclosing(_steps(run)) as events:
                async for event in events:
                    yield event
        except LLMError as exc:
            with anyio.CancelScope(shield=True):
                await _account(run)
                accounted = True
            error = {"message": exc.message, "type": "upstream_error", "code": exc.code}
            yield sse_event(
                "error",
                {"error": error, "ai_generated": True, "result": _result(run).model_dump(mode="json", by_alias=True)},
            )
            return
        with anyio.CancelScope(shield=True):
            await _account(run)
            accounted = True
        result = _result(run).model_dump(mode="json", by_alias=True)
        yield sse_event("task_end", {"ai_generated": True, "result": result})
    finally:
        if not accounted:
            with anyio.CancelScope(shield=True):
                await _account(run)
