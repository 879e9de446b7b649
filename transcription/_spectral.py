"""Spectral clustering of voice embeddings with the speaker count read from the eigengap.

This follows the auto-tuning spectral clustering of Park et al. (2019, "NME-SC"): the cosine
affinity matrix is pruned to each window's ``p`` nearest neighbours, symmetrised, and the
Laplacian's eigengap tells how many speakers there are; ``p`` itself is the one that gives the
clearest gap for the fewest neighbours. Unlike average-linkage agglomeration, a handful of
outlier windows (a cough, two voices at a turn change) cannot claim a cluster of their own and
push two real speakers together, which is how a requested count used to come out short.
"""

from __future__ import annotations

import logging

import numpy as np
import numpy.typing as npt

__all__ = ["spectral_speakers"]

logger = logging.getLogger(__name__)

Embeddings = npt.NDArray[np.float32]
Labels = npt.NDArray[np.int64]
_Matrix = npt.NDArray[np.float64]

# Neighbour counts tried, as fractions of the number of windows (NME-SC scans them all; a few
# suffice and keep a one-hour meeting's 1,500 sampled windows under a few seconds).
_P_FRACTIONS = (0.02, 0.04, 0.06, 0.09, 0.13, 0.18, 0.25)


def _pruned_affinity(similarity: _Matrix, p: int) -> _Matrix:
    """Keep each row's ``p`` strongest links, then symmetrise (the graph must be undirected)."""
    n = len(similarity)
    keep = np.argpartition(-similarity, kth=min(p, n - 1), axis=1)[:, : p + 1]
    pruned = np.zeros_like(similarity)
    rows = np.repeat(np.arange(n), keep.shape[1])
    pruned[rows, keep.reshape(-1)] = 1.0
    np.fill_diagonal(pruned, 0.0)
    return (pruned + pruned.T) / 2


def _laplacian_spectrum(affinity: _Matrix) -> tuple[npt.NDArray[np.float64], _Matrix]:
    laplacian = np.diag(affinity.sum(axis=1)) - affinity
    values, vectors = np.linalg.eigh(laplacian)
    return values, vectors


def _gap_count(values: npt.NDArray[np.float64], max_speakers: int) -> tuple[int, float]:
    """Number of clusters at the largest eigengap among the first ones, and that gap (normalised)."""
    head = values[: max_speakers + 1]
    gaps = np.diff(head)
    index = int(np.argmax(gaps))
    return index + 1, float(gaps[index] / max(float(values[-1]), 1e-12))


def _kmeans(vectors: _Matrix, k: int) -> Labels:
    from sklearn.cluster import KMeans  # type: ignore[import-untyped]

    model = KMeans(n_clusters=k, n_init=10, random_state=0)
    return np.asarray(model.fit_predict(vectors), dtype=np.int64)


def _fill_empty(labels: Labels, k: int, similarity: _Matrix) -> Labels:
    """Give an empty cluster the window least like the rest of the largest one (k stays exact)."""
    labels = labels.copy()
    for missing in sorted(set(range(k)) - set(labels.tolist())):
        largest = int(np.bincount(labels, minlength=k).argmax())
        members = np.flatnonzero(labels == largest)
        cohesion = similarity[np.ix_(members, members)].mean(axis=1)
        labels[members[int(np.argmin(cohesion))]] = missing
    return labels


def spectral_speakers(points: Embeddings, *, num_speakers: int | None, max_speakers: int) -> Labels:
    """Cluster L2-normalised ``points``; exactly ``num_speakers`` clusters when it is given.

    With ``num_speakers=None`` the count is estimated between 2 and ``max_speakers``: whether
    there is a single speaker at all is the caller's decision (see :func:`cluster_speakers`).
    """
    n = len(points)
    similarity = np.clip(points.astype(np.float64) @ points.T.astype(np.float64), -1.0, 1.0)
    upper = max(2, min(max_speakers, n - 1))
    candidates: list[tuple[float, int, _Matrix]] = []  # (ratio, count, eigenvectors) per neighbour count
    for p in sorted({max(2, round(fraction * n)) for fraction in _P_FRACTIONS}):
        if p >= n - 1:
            continue
        values, vectors = _laplacian_spectrum(_pruned_affinity(similarity, p))
        count, gap = _gap_count(values, upper)
        ratio = (p / n) / max(gap, 1e-12)
        logger.debug("Diarization: p=%d -> %d speakers (gap %.4f, ratio %.3f)", p, count, gap, ratio)
        candidates.append((ratio, count, vectors))
    if not candidates:  # too few windows for any neighbour graph
        values, vectors = _laplacian_spectrum(similarity - np.diag(np.diag(similarity)))
        candidates.append((0.0, _gap_count(values, upper)[0], vectors))
    if num_speakers is not None:
        return _labels(min(candidates, key=lambda c: c[0])[2], min(num_speakers, n), similarity)
    return _best_estimate(points, candidates, similarity)


def _labels(vectors: _Matrix, k: int, similarity: _Matrix) -> Labels:
    embedding = vectors[:, :k]
    embedding = embedding / np.maximum(np.linalg.norm(embedding, axis=1, keepdims=True), 1e-12)
    return _fill_empty(_kmeans(embedding, k), k, similarity)


def _best_estimate(points: Embeddings, candidates: list[tuple[float, int, _Matrix]], similarity: _Matrix) -> Labels:
    """The eigengap proposes a count per neighbour graph; the clustering whose silhouette is best decides.

    The NME-SC ratio alone picks the sparsest graph on short recordings (a few dozen windows): with two
    neighbours per window one voice falls apart into several components and the gap reads 5 to 8 speakers
    where two speak (seen on a 20 s two-voice dialogue, depending on the CPU's Whisper cuts). Among the counts
    the graphs propose, the clustering of the voices themselves (cosine silhouette) tells which split is real;
    ties go to the lowest ratio, the first version's choice.
    """
    from sklearn.metrics import silhouette_score  # type: ignore[import-untyped]

    n = len(points)
    best: tuple[float, float, Labels] | None = None
    seen: set[int] = set()
    for ratio, count, vectors in sorted(candidates, key=lambda c: c[0]):
        k = min(max(2, count), n)
        if k in seen:
            continue
        seen.add(k)
        labels = _labels(vectors, k, similarity)
        score = float(silhouette_score(points, labels, metric="cosine")) if 1 < len(set(labels.tolist())) < n else -1.0
        if best is None or score > best[0] + 1e-9:
            best = (score, ratio, labels)
    assert best is not None
    return best[2]
