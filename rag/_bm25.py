"""BM25 keyword retrieval (bm25s) with a French-aware tokenizer."""

from __future__ import annotations

import functools
import logging
import re
import unicodedata
from collections.abc import Sequence

import numpy as np

__all__ = ["BM25Index", "french_tokens"]

logger = logging.getLogger(__name__)

_WORD = re.compile(r"\w+", re.UNICODE)


def _fold(word: str) -> str:
    """Drop accents: users type « etat civil » as often as « état civil »."""
    return "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))


@functools.cache
def _stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_FRENCH  # type: ignore[import-untyped]

    return frozenset(_fold(word) for word in STOPWORDS_FRENCH)


@functools.cache
def _stemmer() -> object:
    import Stemmer  # type: ignore[import-not-found]

    return Stemmer.Stemmer("french")


def french_tokens(text: str) -> list[str]:
    """Lowercase, split on non-word characters (so elisions like « l'état » give « état »), drop
    French stopwords and one-letter tokens, stem with Snowball French, then fold accents.

    Stemming runs before folding because the Snowball rules are written for accented French.

    >>> french_tokens("Les déclarations d'impôts de l'État")
    ['declar', 'impot', 'etat']
    """
    words = [w for w in _WORD.findall(text.lower()) if len(w) > 1 or w.isdigit()]
    words = [w for w in words if _fold(w) not in _stopwords()]
    stems: list[str] = _stemmer().stemWords(words)  # type: ignore[attr-defined]
    return [_fold(stem) for stem in stems]


class BM25Index:
    """An immutable BM25 index over ``(id, text)`` pairs; rebuild it when the collection changes.

    bm25s has no incremental update, and rebuilding is cheap (about 1 s per 100k short chunks),
    so collections rebuild it lazily after a change.
    """

    def __init__(self, ids: Sequence[int], texts: Sequence[str], *, k1: float = 1.2, b: float = 0.75) -> None:
        import bm25s  # type: ignore[import-untyped]

        if len(ids) != len(texts):
            raise ValueError("ids and texts must have the same length")
        self._ids = np.asarray(ids, dtype=np.int64)
        self._retriever: bm25s.BM25 | None = None
        if len(texts):
            self._retriever = bm25s.BM25(k1=k1, b=b)
            self._retriever.index([french_tokens(text) for text in texts], show_progress=False)

    def __len__(self) -> int:
        return len(self._ids)

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        """Best ``k`` ``(id, score)`` pairs with a positive score, best first."""
        tokens = french_tokens(query)
        if self._retriever is None or not tokens or k <= 0:
            return []
        scores = self._retriever.get_scores(tokens)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(int(self._ids[i]), float(scores[i])) for i in top if scores[i] > 0]
