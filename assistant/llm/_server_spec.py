"""What a model server process is started with: one JSON document, the same for the supervised and the standalone."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["SamplingSpec", "ServerSpec"]


class SamplingSpec(BaseModel):
    """The model card's sampling defaults (see :class:`assistant.llm._catalog.SamplingDefaults`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    temperature: float = Field(ge=0)
    top_p: float = Field(gt=0, le=1)
    top_k: int = Field(ge=0)
    repeat_penalty: float = Field(gt=0)


class ServerSpec(BaseModel):
    """One model, how llama.cpp runs it, and how the server shares it between requests."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model_id: str = Field(description="Name the server answers to in `model` and lists in /v1/models.")
    model_path: Path
    n_ctx: int = Field(default=4096, ge=256)
    n_threads: int = Field(default=2, ge=1)
    n_batch: int = Field(default=512, ge=8)
    max_waiting: int = Field(default=4, ge=0, description="Requests queued behind the running one; more get 429.")
    default_max_tokens: int = Field(default=512, ge=1)
    sampling: SamplingSpec | None = None
    stop_repetitions: bool = True
