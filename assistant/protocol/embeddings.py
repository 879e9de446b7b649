"""Embeddings protocol models: ``POST /v1/embeddings``.

Reference: https://platform.openai.com/docs/api-reference/embeddings/create (fields in that order).
"""

from __future__ import annotations

import base64
import struct
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, Field

from assistant.protocol._base import OpenAIBaseModel

__all__ = ["Embedding", "EmbeddingRequest", "EmbeddingResponse", "EmbeddingUsage"]


class EmbeddingRequest(OpenAIBaseModel):
    """Body of ``POST /v1/embeddings``."""

    input: str | list[str] | list[int] | list[list[int]] = Field(description="Text(s) or token id list(s).")
    model: str
    dimensions: int | None = Field(default=None, ge=1)
    encoding_format: Literal["float", "base64"] = "float"
    user: str | None = None

    @property
    def texts(self) -> list[str]:
        """Inputs as texts; token-id inputs are refused because our embedders tokenize themselves."""
        if isinstance(self.input, str):
            return [self.input]
        if all(isinstance(item, str) for item in self.input):
            return [str(item) for item in self.input]
        raise ValueError("les entrées en identifiants de jetons ne sont pas prises en charge ; envoyez du texte")


class Embedding(BaseModel):
    object: Literal["embedding"] = "embedding"
    embedding: list[float] | str = Field(description="Floats, or base64 of little-endian float32 values.")
    index: int

    @classmethod
    def from_vector(cls, vector: Sequence[float], *, index: int, encoding_format: str = "float") -> Embedding:
        if encoding_format == "base64":
            packed = struct.pack(f"<{len(vector)}f", *vector)
            return cls(embedding=base64.b64encode(packed).decode("ascii"), index=index)
        return cls(embedding=[float(value) for value in vector], index=index)


class EmbeddingUsage(BaseModel):
    prompt_tokens: int = 0
    total_tokens: int = 0


class EmbeddingResponse(OpenAIBaseModel):
    object: Literal["list"] = "list"
    data: list[Embedding]
    model: str
    usage: EmbeddingUsage = Field(default_factory=EmbeddingUsage)
