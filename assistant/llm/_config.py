"""Configuration of backends and their models, as parsed from ``SOUVERAIN_LLM_BACKENDS`` (a JSON list).

One entry per model *server*: a vLLM server serving two models is one backend with two models, so they share
one connection pool and one circuit breaker. Example::

    [{"name": "vllm-dgx", "kind": "openai", "sovereign": true,
      "options": {"base_url": "http://vllm:8000/v1", "first_token_timeout": 30},
      "models": [{"id": "mistral-small", "upstream_name": "mistralai/Mistral-Small-3.1-24B-Instruct-2503",
                  "context_length": 32768,
                  "card": {"name": "Mistral Small 3.1", "licence": "Apache-2.0",
                           "languages": ["fr", "en"]}}]}]

``fallback`` (optional) names the models that answer instead, in order, when this backend is saturated or
unreachable before its first byte, e.g. ``"fallback": ["mistral-small-secours"]``; the registry refuses at start a
fallback that is unknown or less sovereign than the model it replaces.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = ["BackendConfig", "ModelCard", "ModelConfig", "ModelStatus"]

_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$"


class ModelStatus(StrEnum):
    """Whether a model may be used; the référent IA withdraws a model instead of deleting it."""

    ACTIVE = "active"
    WITHDRAWN = "withdrawn"


class ModelCard(BaseModel):
    """What users and auditors are told about a model (design §10): shown by /v1/models and the admin UI."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    description: str = ""
    licence: str = Field(default="inconnue", description="SPDX identifier when there is one.")
    languages: list[str] = Field(default_factory=list, description="ISO 639-1 codes, best first.")
    parameters: str | None = Field(default=None, description="Size, e.g. '135M' or '24B'.")
    quantization: str | None = None
    context_length: int | None = Field(default=None, ge=1)
    weights_sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    source: str | None = Field(default=None, description="Where the weights come from.")
    limitations: str = ""
    version: str | None = None


class ModelConfig(BaseModel):
    """One public model served by a backend."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=_ID_PATTERN, description="Public id, as clients put it in `model`.")
    upstream_name: str | None = Field(default=None, description="Name the server knows it by; default: id.")
    context_length: int | None = Field(default=None, ge=1)
    sovereign: bool | None = Field(default=None, description="Overrides the backend's flag for this model.")
    card: ModelCard | None = None
    status: ModelStatus = ModelStatus.ACTIVE
    withdrawn_reason: str | None = None


class BackendConfig(BaseModel):
    """One model server: its kind (a registered backend class), its options and the models it serves."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=_ID_PATTERN)
    kind: str = Field(description="Registered backend kind, e.g. 'openai' or 'embedded'.")
    sovereign: bool = Field(description="True when data sent there stays under the administration's control.")
    # repr=False: options may hold an API key, and configs end up in logs and tracebacks.
    options: dict[str, Any] = Field(default_factory=dict, repr=False, description="Validated by the kind's Options.")
    models: list[ModelConfig] = Field(min_length=1)
    fallback: list[str] = Field(
        default_factory=list,
        max_length=8,
        description="Public ids of the models to try, in order, when this backend is saturated or unreachable "
        "before its first byte; each at least as sovereign as the model it replaces (checked at start).",
    )

    @field_validator("fallback")
    @classmethod
    def _distinct_fallbacks(cls, value: list[str]) -> list[str]:
        repeated = sorted({model_id for model_id in value if value.count(model_id) > 1})
        if repeated:
            raise ValueError(f"modèle de repli cité deux fois : {', '.join(repeated)}")
        return value

    @model_validator(mode="before")
    @classmethod
    def _short_form(cls, data: Any) -> Any:
        """Accept the one-model short form the Helm chart and Compose file write::

            {"id": "mistral-small", "kind": "openai", "base_url": "http://vllm:8000/v1",
             "model": "mistral-small", "sovereign": true}

        as ``name`` = ``id``, ``options.base_url`` and one model ``id`` served upstream as ``model``.
        """
        if not isinstance(data, dict) or "base_url" not in data or "options" in data or "models" in data:
            return data
        short = dict(data)
        model_id = short.pop("id", None)
        upstream = short.pop("model", None) or model_id
        options = {"base_url": short.pop("base_url")}
        if "api_key_file" in short:
            options["api_key_file"] = short.pop("api_key_file")
        return {
            **short,
            "name": short.pop("name", model_id),
            "options": options,
            "models": [{"id": model_id or upstream, "upstream_name": upstream}],
        }
