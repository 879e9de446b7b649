"""One GGUF model run by llama.cpp, inside the model server process (never inside the API).

llama.cpp is blocking and not thread-safe per model, so the model lives in one dedicated worker thread: every
load and generation is queued there, tokens are handed to the event loop with ``call_soon_threadsafe``, and a
consumer that stops reading sets a flag that ends the generation at the next token. Requests beyond the one
running wait in a bounded line: past it, :class:`EngineBusyError` (the server answers 429 with Retry-After).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import aclosing
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.llm._catalog import SamplingDefaults
from assistant.llm._repetition import RepetitionDetector
from assistant.llm._types import ChatChunk, ChoiceDelta, Message, SamplingParams, Usage
from assistant.llm.errors import UnsupportedParameterError, UpstreamRejectedError
from assistant.model_server._next_token import next_token

if TYPE_CHECKING:
    from llama_cpp import Llama

__all__ = ["REPETITION_STOP_REASON", "EngineBusyError", "EngineSettings", "LlamaEngine"]

logger = logging.getLogger(__name__)

#: ``stop_reason`` of a choice cut because it repeated itself (vLLM's field, our value).
REPETITION_STOP_REASON = "repetition"


class EngineBusyError(Exception):
    """Every place in the line is taken; carries how many requests are ahead."""

    def __init__(self, pending: int) -> None:
        super().__init__(f"{pending} requests running or waiting")
        self.pending = pending


@dataclass(frozen=True, slots=True)
class EngineSettings:
    """What llama.cpp is loaded with, and how the engine shares it."""

    model_path: Path
    n_ctx: int = 4096
    n_threads: int = 2
    n_batch: int = 512
    max_waiting: int = 8
    default_max_tokens: int = 512
    sampling: SamplingDefaults | None = None
    stop_repetitions: bool = True


@dataclass(frozen=True, slots=True)
class _Done:
    usage: Usage


class LlamaEngine:
    """A loaded model that generates one answer at a time, streamed as :class:`ChatChunk` objects."""

    def __init__(self, settings: EngineSettings) -> None:
        self.settings = settings
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="llama-cpp")
        self._llama: Llama | None = None
        self._pending = 0  # requests admitted and not finished; only touched from the event loop

    @property
    def pending(self) -> int:
        return self._pending

    @property
    def loaded(self) -> bool:
        return self._llama is not None

    async def load(self) -> None:
        """Load the model in the worker thread (mmap: about a second for 1 GB on a warm page cache)."""
        await asyncio.get_running_loop().run_in_executor(self._executor, self._ensure_loaded)

    def check(self, params: SamplingParams) -> None:
        """Refuse what llama.cpp cannot do before a request takes a place in the line."""
        if params.n != 1:
            raise UnsupportedParameterError("Le modèle embarqué ne produit qu'une réponse à la fois (n=1).", param="n")
        if params.tools and params.tool_choice != "none":
            raise UnsupportedParameterError(
                "Le modèle embarqué ne sait pas appeler d'outils ; choisissez un modèle servi par vLLM.",
                param="tools",
            )
        if params.logprobs and params.max_tokens != 1:
            # llama.cpp keeps only the last token's logits (all of them would cost GBs): one token can be scored.
            raise UnsupportedParameterError(
                "Le modèle embarqué ne donne les probabilités (logprobs) que d'une réponse d'un seul jeton "
                "(max_tokens=1).",
                param="logprobs",
            )

    async def stream(self, messages: list[Message], params: SamplingParams) -> AsyncIterator[ChatChunk]:
        """Generate in the worker thread; chunks arrive as llama.cpp produces tokens, usage last."""
        self.check(params)
        kwargs = self._generation_kwargs(params)
        if self._pending > self.settings.max_waiting:
            raise EngineBusyError(self._pending)
        self._pending += 1
        try:
            # aclosing: an abandoned outer stream must close the inner one now, not at garbage collection.
            async with aclosing(self._run(messages, kwargs)) as chunks:
                async for chunk in chunks:
                    yield chunk
        finally:
            self._pending -= 1

    async def _run(self, messages: list[Message], kwargs: dict[str, Any]) -> AsyncGenerator[ChatChunk, None]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[ChatChunk | _Done | BaseException] = asyncio.Queue()
        stopped = threading.Event()

        def emit(item: ChatChunk | _Done | BaseException) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, item)
            except RuntimeError:  # the event loop is gone: nobody is listening any more
                stopped.set()

        loop.run_in_executor(self._executor, self._generate, messages, kwargs, emit, stopped)
        try:
            while True:
                item = await queue.get()
                if isinstance(item, _Done):
                    yield ChatChunk(usage=item.usage)
                    return
                if isinstance(item, BaseException):
                    raise _translate(item, self.settings.n_ctx) from item
                yield item
        finally:
            stopped.set()

    def _ensure_loaded(self) -> Llama:
        if self._llama is None:
            from llama_cpp import Llama

            logger.info(
                "Loading %s (n_ctx=%d, threads=%d)",
                self.settings.model_path.name,
                self.settings.n_ctx,
                self.settings.n_threads,
            )
            self._llama = Llama(
                model_path=str(self.settings.model_path),
                n_ctx=self.settings.n_ctx,
                n_threads=self.settings.n_threads,
                n_threads_batch=self.settings.n_threads,
                n_batch=self.settings.n_batch,
                verbose=False,
            )
        return self._llama

    def _generate(
        self,
        messages: list[Message],
        kwargs: dict[str, Any],
        emit: Callable[[ChatChunk | _Done | BaseException], None],
        stopped: threading.Event,
    ) -> None:
        """Runs in the worker thread; never raises (errors are handed to the consumer)."""
        if stopped.is_set():
            return
        try:
            llama = self._ensure_loaded()
            if kwargs.get("logprobs"):
                self._score_next_token(llama, messages, kwargs, emit)
                return
            detector = RepetitionDetector() if self.settings.stop_repetitions else None
            prompt_tokens: int | None = None
            finish: str | None = None
            # Our messages are OpenAI-shaped dicts; llama-cpp types them as its own TypedDicts.
            iterator: Any = llama.create_chat_completion(messages=messages, stream=True, **kwargs)  # type: ignore[arg-type]
            try:
                for raw in iterator:
                    if stopped.is_set():
                        return
                    choice = raw["choices"][0]
                    delta = choice["delta"]
                    text = delta.get("content") or ""
                    if prompt_tokens is None and text:
                        # The prompt is evaluated, the first sampled token not yet: this is the prompt size.
                        prompt_tokens = llama.n_tokens
                    finish = choice.get("finish_reason") or finish
                    looping = detector is not None and detector.feed(text)
                    emit(
                        ChatChunk(
                            deltas=(
                                ChoiceDelta(
                                    index=0,
                                    text=text,
                                    role=delta.get("role"),
                                    finish_reason="stop" if looping else choice.get("finish_reason"),
                                    stop_reason=REPETITION_STOP_REASON if looping else None,
                                    logprobs=choice.get("logprobs"),
                                ),
                            )
                        )
                    )
                    if looping:
                        logger.info("Generation stopped: it repeats itself")
                        finish = "stop"
                        break
            finally:
                iterator.close()
            prompt = prompt_tokens if prompt_tokens is not None else llama.n_tokens
            # The last sampled token is only evaluated when generation goes on, hence +1 on a length cut.
            completion = llama.n_tokens - prompt + (1 if finish == "length" else 0)
            emit(_Done(Usage(prompt_tokens=prompt, completion_tokens=max(completion, 0))))
        except Exception as exc:
            emit(exc)

    def _score_next_token(
        self,
        llama: Llama,
        messages: list[Message],
        kwargs: dict[str, Any],
        emit: Callable[[ChatChunk | _Done | BaseException], None],
    ) -> None:
        tokens = _prompt_tokens(llama, messages)
        if tokens is None:
            raise UnsupportedParameterError(
                "Ce modèle embarqué n'a pas de modèle de conversation : logprobs indisponibles.", param="logprobs"
            )
        chosen = next_token(
            llama,
            tokens,
            top=kwargs.get("top_logprobs") or 0,
            temperature=kwargs.get("temperature"),
            seed=kwargs.get("seed"),
        )
        delta = ChoiceDelta(
            index=0, text=chosen.text, role="assistant", finish_reason="length", logprobs=chosen.logprobs
        )
        emit(ChatChunk(deltas=(delta,)))
        emit(_Done(Usage(prompt_tokens=chosen.prompt_tokens, completion_tokens=1)))

    def _generation_kwargs(self, params: SamplingParams) -> dict[str, Any]:
        if params.extra:
            logger.info("Engine-specific parameters ignored: %s", sorted(params.extra))
        defaults = self.settings.sampling
        kwargs: dict[str, Any] = {
            "max_tokens": params.max_tokens or self.settings.default_max_tokens,
            "temperature": params.temperature,
            "top_p": params.top_p,
            "top_k": params.top_k,
            "min_p": params.min_p,
            "repeat_penalty": params.repetition_penalty,
            "presence_penalty": params.presence_penalty,
            "frequency_penalty": params.frequency_penalty,
            "seed": params.seed,
            "stop": params.stop,
            "logprobs": params.logprobs,
            "top_logprobs": params.top_logprobs,
        }
        if defaults is not None:
            # The model card's values where the request is silent; a request's own value always wins.
            for name, value in (
                ("temperature", defaults.temperature),
                ("top_p", defaults.top_p),
                ("top_k", defaults.top_k),
                ("repeat_penalty", defaults.repeat_penalty),
            ):
                if kwargs[name] is None:
                    kwargs[name] = value
        if params.logit_bias:
            kwargs["logit_bias"] = {int(token): bias for token, bias in params.logit_bias.items()}
        if params.response_format is not None:
            kwargs["response_format"] = _response_format(params.response_format)
        return {name: value for name, value in kwargs.items() if value is not None}

    async def count_tokens(self, messages: list[Message]) -> int:
        """Prompt tokens exactly as the model will see them: chat template applied, then tokenized."""
        llama = await asyncio.get_running_loop().run_in_executor(None, self._ensure_loaded)
        return await asyncio.to_thread(_count_prompt_tokens, llama, messages)

    async def aclose(self) -> None:
        def release() -> None:
            if self._llama is not None:
                self._llama.close()
                self._llama = None

        await asyncio.get_running_loop().run_in_executor(self._executor, release)
        self._executor.shutdown(wait=False)


def _prompt_tokens(llama: Llama, messages: list[Message]) -> list[int] | None:
    """The prompt's tokens as generation sees them (chat template, generation prompt), or None without a template."""
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    template = llama.metadata.get("tokenizer.chat_template")
    if not template:
        return None
    eos = llama.detokenize([llama.token_eos()], special=True).decode(errors="replace")
    bos = llama.detokenize([llama.token_bos()], special=True).decode(errors="replace")
    formatted = Jinja2ChatFormatter(template=template, eos_token=eos, bos_token=bos)(messages=messages)  # type: ignore[arg-type]
    return llama.tokenize(formatted.prompt.encode(), add_bos=False, special=True)


def _count_prompt_tokens(llama: Llama, messages: list[Message]) -> int:
    tokens = _prompt_tokens(llama, messages)
    if tokens is not None:
        return len(tokens)
    texts = [str(message.get("content") or "") for message in messages]
    return sum(len(llama.tokenize(text.encode(), add_bos=False)) + 4 for text in texts)


def _response_format(value: dict[str, Any]) -> dict[str, Any]:
    # llama.cpp spells a JSON schema constraint {"type": "json_object", "schema": ...}; OpenAI nests it.
    if value.get("type") == "json_schema":
        schema = (value.get("json_schema") or {}).get("schema")
        return {"type": "json_object", "schema": schema} if schema else {"type": "json_object"}
    return value


def _translate(exc: BaseException, n_ctx: int) -> Exception:
    if isinstance(exc, ValueError) and "context window" in str(exc):
        return UpstreamRejectedError(
            f"La demande dépasse la fenêtre de contexte du modèle embarqué ({n_ctx} jetons). "
            "Raccourcissez la conversation ou le document joint.",
            status_code=400,
            upstream_message=str(exc),
        )
    return RuntimeError(f"{type(exc).__name__}: {exc}")
