"""Embedder for an OpenAI-compatible ``/v1/embeddings`` server (vLLM, TEI, ...) over httpx."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import numpy as np

from rag._embeddings import Embedder, ModelCard, Role, Vectors
from rag.errors import EmbeddingBackendError

__all__ = ["OpenAIEmbedder"]

logger = logging.getLogger(__name__)


@contextmanager
def _http_errors(base_url: str) -> Iterator[None]:
    try:
        yield
    except httpx.TimeoutException as exc:
        raise EmbeddingBackendError(
            f"Le serveur d'embeddings {base_url} ne répond pas (délai dépassé)."
        ) from exc
    except httpx.HTTPStatusError as exc:
        raise EmbeddingBackendError(
            f"Le serveur d'embeddings {base_url} a répondu par une erreur {exc.response.status_code}."
        ) from exc
    except httpx.HTTPError as exc:
        raise EmbeddingBackendError(f"Le serveur d'embeddings {base_url} est injoignable.") from exc


class OpenAIEmbedder(Embedder):
    """Client of an OpenAI-compatible embeddings endpoint, for production (vLLM or TEI on GPUs).

    ``dim`` is declared, not discovered, so that a wrongly configured server is caught on the first
    response instead of silently filling indexes with vectors of another size. Asymmetric models
    (e5) need ``query_prefix="query: "`` and ``passage_prefix="passage: "`` because the OpenAI API
    has no role field. ``transport`` lets tests plug an ``httpx.MockTransport``.

    Example::

        embedder = OpenAIEmbedder(base_url="http://vllm:8000/v1", model="intfloat/multilingual-e5-large",
                                  dim=1024, query_prefix="query: ", passage_prefix="passage: ")
    """

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        dim: int,
        api_key: str | None = None,
        query_prefix: str = "",
        passage_prefix: str = "",
        batch_size: int = 64,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.card = ModelCard(
            model_id=model,
            name=model,
            version="remote",
            licence="see the serving side's model card",
            dim=dim,
            languages=(),
            source=base_url,
        )
        self.batch_size = batch_size  # type: ignore[misc]  # per-instance override of the class default
        self._base_url = base_url.rstrip("/")
        self._prefixes: dict[Role, str] = {"query": query_prefix, "passage": passage_prefix}
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(
            base_url=self._base_url, headers=headers, timeout=timeout, transport=transport
        )

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._client.close()

    def embed_batch(self, texts: list[str], *, role: Role) -> Vectors:
        """POST one batch to ``/embeddings`` and return the vectors in input order."""
        payload = {
            "model": self.card.model_id,
            "input": [self._prefixes[role] + text for text in texts],
            "encoding_format": "float",
        }
        with _http_errors(self._base_url):
            response = self._client.post("/embeddings", json=payload)
            response.raise_for_status()
        try:
            body: Any = response.json()
            items = sorted(body["data"], key=lambda item: int(item["index"]))
            vectors = np.asarray([item["embedding"] for item in items], dtype=np.float32)
        except (ValueError, KeyError, TypeError) as exc:
            raise EmbeddingBackendError(
                f"Réponse inattendue du serveur d'embeddings {self._base_url}."
            ) from exc
        logger.debug("embedded %d %s texts remotely", len(texts), role)
        return vectors
