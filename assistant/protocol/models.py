"""Model listing protocol models: ``GET /v1/models``.

Reference: https://platform.openai.com/docs/api-reference/models/object; our extensions are fenced below.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from assistant.llm import ModelCard, ModelStatus, RegisteredModel
from assistant.protocol._base import OpenAIBaseModel

__all__ = ["Model", "ModelList"]


class Model(OpenAIBaseModel):
    """One model as listed to clients."""

    id: str
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str = "souverain"

    # -- Souverain extensions
    sovereign: bool = Field(description="True when requests stay on infrastructure the administration controls.")
    status: ModelStatus = Field(default=ModelStatus.ACTIVE, description="'withdrawn' models refuse requests.")
    withdrawn_reason: str | None = Field(default=None, description="The référent's message, for withdrawn models.")
    context_length: int | None = Field(default=None, description="Maximum prompt + completion tokens.")
    card: ModelCard = Field(description="Name, licence, languages, size, weights sha256 and known limitations.")

    @classmethod
    def from_registered(cls, model: RegisteredModel, *, created: int = 0) -> Model:
        return cls(
            id=model.id,
            created=created,
            owned_by=model.backend_name,
            sovereign=model.sovereign,
            status=model.status,
            withdrawn_reason=model.withdrawn_reason,
            context_length=model.context_length,
            card=model.card,
        )


class ModelList(OpenAIBaseModel):
    object: Literal["list"] = "list"
    data: list[Model]
