"""Speaker clustering: group voice embeddings into speakers, estimating how many when not told.

Embeddings are L2-normalised vectors (Resemblyzer d-vectors); voices are compared with cosine
distance. The default is spectral clustering with an eigengap estimate of the count
(:mod:`transcription._spectral`), which honours a requested count exactly; the first version's
agglomerative clustering (average linkage, silhouette estimate) stays available as
``method="agglomerative"`` to compare against (``benchmarks/diarization.py``).
"""

from __future__ import annotations

import logging
from typing import Literal

import numpy as np
import numpy.typing as npt

from transcription._spectral import spectral_speakers

__all__ = ["ClusteringMethod", "cluster_speakers"]

logger = logging.getLogger(__name__)

Embeddings = npt.NDArray[np.float32]
Labels = npt.NDArray[np.int64]
ClusteringMethod = Literal["spectral", "agglomerative"]


def _agglomerate(points: Embeddings, n_clusters: int) -> Labels:
    # scikit-learn is imported on first use: it takes about a second, which processes that
    # only export transcripts should not pay.
    from sklearn.cluster import AgglomerativeClustering  # type: ignore[import-untyped]

    model = AgglomerativeClustering(n_clusters=n_clusters, metric="cosine", linkage="average")
    return np.asarray(model.fit_predict(points), dtype=np.int64)


def _estimate(points: Embeddings, max_speakers: int, min_silhouette: float, merge_distance: float) -> Labels:
    """Pick the number of speakers with the best cosine silhouette.

    One speaker is kept when no split reaches ``min_silhouette``, or when the two closest
    cluster centroids are nearer than ``merge_distance``: within-speaker variation (different
    words, intonation) must not be taken for a second voice.
    """
    from sklearn.metrics import silhouette_score  # type: ignore[import-untyped]

    best_labels = np.zeros(len(points), dtype=np.int64)
    best_score = min_silhouette
    for k in range(2, min(max_speakers, len(points) - 1) + 1):
        labels = _agglomerate(points, k)
        score = float(silhouette_score(points, labels, metric="cosine"))
        logger.debug("Diarization: %d speakers -> silhouette %.3f", k, score)
        if score > best_score and _min_centroid_distance(points, labels) >= merge_distance:
            best_labels, best_score = labels, score
    return best_labels


def _centroids(points: Embeddings, labels: Labels) -> Embeddings:
    centroids = np.stack([points[labels == k].mean(axis=0) for k in range(int(labels.max()) + 1)])
    norms = np.linalg.norm(centroids, axis=1, keepdims=True)
    normalised: Embeddings = (centroids / np.maximum(norms, 1e-12)).astype(np.float32)
    return normalised


def _min_centroid_distance(points: Embeddings, labels: Labels) -> float:
    centroids = _centroids(points, labels)
    distances = 1.0 - centroids @ centroids.T
    np.fill_diagonal(distances, np.inf)
    return float(distances.min())


def _merge_close(points: Embeddings, labels: Labels, merge_distance: float) -> Labels:
    """Merge the two nearest clusters while their centroids are nearer than ``merge_distance``.

    Within-speaker variation (different words, intonation) must not be taken for a second voice.
    """
    labels = labels.copy()
    while labels.max() > 0:
        centroids = _centroids(points, labels)
        distances = 1.0 - centroids @ centroids.T
        np.fill_diagonal(distances, np.inf)
        a, b = np.unravel_index(int(np.argmin(distances)), distances.shape)
        if distances[a, b] >= merge_distance:
            break
        labels[labels == max(a, b)] = min(a, b)
        labels[labels > max(a, b)] -= 1
    return labels


def _estimate_spectral(points: Embeddings, max_speakers: int, min_silhouette: float, merge_distance: float) -> Labels:
    from sklearn.metrics import silhouette_score

    labels = _merge_close(
        points, spectral_speakers(points, num_speakers=None, max_speakers=max_speakers), merge_distance
    )
    if labels.max() > 0 and float(silhouette_score(points, labels, metric="cosine")) < min_silhouette:
        return np.zeros(len(points), dtype=np.int64)
    return labels


def cluster_speakers(
    embeddings: npt.ArrayLike,
    *,
    num_speakers: int | None = None,
    max_speakers: int = 8,
    min_silhouette: float = 0.1,
    merge_distance: float = 0.2,
    max_points: int = 1500,
    method: ClusteringMethod = "spectral",
) -> Labels:
    """Return one speaker index (0, 1, …) per embedding row.

    ``num_speakers`` fixes the number of clusters (exactly that many come out, given at least
    as many rows); otherwise it is estimated between 1 and ``max_speakers``: one speaker when
    no split reaches ``min_silhouette`` or when clusters are nearer than ``merge_distance``.
    Above ``max_points`` embeddings, an evenly spaced subset is clustered and every embedding
    then joins its nearest cluster centroid, bounding time and memory (both methods are
    quadratic) for meetings of several hours.
    """
    points = np.asarray(embeddings, dtype=np.float32)
    if points.ndim != 2:
        raise ValueError("embeddings must be a 2-D array (one row per voice window)")
    n = len(points)
    if num_speakers is not None and num_speakers < 1:
        raise ValueError("num_speakers must be at least 1")
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    points = points / np.maximum(np.linalg.norm(points, axis=1, keepdims=True), 1e-12)
    if num_speakers == 1 or n < 3:
        # Too few windows to compare: one speaker unless the caller said otherwise.
        if num_speakers is None or num_speakers == 1:
            return np.zeros(n, dtype=np.int64)
        return np.arange(n, dtype=np.int64) % num_speakers
    sample = points if n <= max_points else points[np.linspace(0, n - 1, max_points).astype(int)]
    if method == "agglomerative":
        if num_speakers is not None:
            labels = _agglomerate(sample, min(num_speakers, len(sample)))
        else:
            labels = _estimate(sample, max_speakers, min_silhouette, merge_distance)
    elif num_speakers is not None:
        labels = spectral_speakers(sample, num_speakers=num_speakers, max_speakers=max_speakers)
    else:
        labels = _estimate_spectral(sample, max_speakers, min_silhouette, merge_distance)
    if len(sample) == n:
        return labels
    centroids = _centroids(sample, labels)
    return np.asarray(np.argmax(points @ centroids.T, axis=1), dtype=np.int64)
