"""Re-segmentation: from clustered voice windows to speaker turns on a 0.1 s grid.

Clustering gives one label per 1.6 s window, too coarse for turn changes and noisy where a
window straddles two voices. Here every frame of speech is scored against each speaker's
centroid through the windows that cover it (a triangular weight favours the window centred on
the frame), a Viterbi pass with a switch penalty picks the best label sequence, and centroids
are re-estimated from the windows that lie inside a single turn, so mixed windows at turn
changes no longer pull a speaker's voice print toward another's. Where the two speakers of a
change both still match around it, the turns are extended into each other: that is how two
people talking at once show up.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["SpeakerTurn", "resegment"]

_Matrix = npt.NDArray[np.float64]
_Ints = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class SpeakerTurn:
    """A stretch of time given to one speaker (index from 0); ``overlap`` marks a second voice."""

    start: float
    end: float
    speaker: int
    overlap: bool = False


@dataclass(frozen=True, slots=True)
class _Grid:
    region: _Ints  # region index of each frame
    start: npt.NDArray[np.float64]
    end: npt.NDArray[np.float64]
    weights: Any  # scipy.sparse CSR, frames x windows: a frame only sees its own region's windows


def _grid(
    regions: Sequence[tuple[float, float]],
    window_region: _Ints,
    window_start: npt.NDArray[np.float64],
    window_end: npt.NDArray[np.float64],
    step_s: float,
) -> _Grid:
    from scipy.sparse import csr_matrix  # type: ignore[import-untyped]

    region_ids, starts, ends, rows, cols, values = [], [], [], [], [], []
    offset = 0
    middle = (window_start + window_end) / 2
    half = np.maximum((window_end - window_start) / 2, 1e-3)
    for index, (lo, hi) in enumerate(regions):
        count = max(1, int(np.ceil((hi - lo) / step_s - 1e-9)))
        edges = lo + step_s * np.arange(count + 1)
        edges[-1] = max(hi, lo)
        centres = (edges[:-1] + edges[1:]) / 2
        own = np.flatnonzero(window_region == index)
        if len(own) == 0:  # no window in this region (too short to embed): its nearest windows
            own = np.argsort(np.abs(middle - (lo + hi) / 2))[:1]
        distance = np.abs(centres[:, None] - middle[None, own])
        block = np.clip(1.0 - distance / half[None, own], 0.0, None)
        # A frame no window covers (a segment's last fraction of a second) takes its nearest window.
        bare = block.sum(axis=1) == 0
        block[bare, np.argmin(distance[bare], axis=1)] = 1.0
        r, c = np.nonzero(block)
        rows.append(r + offset)
        cols.append(own[c])
        values.append(block[r, c])
        region_ids.append(np.full(count, index))
        starts.append(edges[:-1])
        ends.append(edges[1:])
        offset += count
    weights = csr_matrix(
        (np.concatenate(values), (np.concatenate(rows), np.concatenate(cols))), shape=(offset, len(middle))
    )
    return _Grid(np.concatenate(region_ids).astype(np.int64), np.concatenate(starts), np.concatenate(ends), weights)


def _centroids(vectors: _Matrix, labels: _Ints, k: int, usable: npt.NDArray[np.bool_]) -> _Matrix:
    rows = []
    for speaker in range(k):
        members = (labels == speaker) & usable
        if not members.any():
            members = labels == speaker
        rows.append(vectors[members].mean(axis=0) if members.any() else np.zeros(vectors.shape[1]))
    centroids = np.stack(rows)
    normalised: _Matrix = centroids / np.maximum(np.linalg.norm(centroids, axis=1, keepdims=True), 1e-12)
    return normalised


def _viterbi(scores: _Matrix, frame_region: _Ints, penalty: float) -> _Ints:
    """Best label path: sum of per-frame log-likelihoods minus ``penalty`` per speaker change.

    A change across a pause between two regions costs a quarter: people often hand over there.
    """
    n, k = scores.shape
    back = np.zeros((n, k), dtype=np.int64)
    total = scores[0].copy()
    switch = penalty * (1 - np.eye(k))
    for t in range(1, n):
        cost = switch * (0.25 if frame_region[t] != frame_region[t - 1] else 1.0)
        candidates = total[:, None] - cost  # from (rows) -> to (columns)
        back[t] = np.argmax(candidates, axis=0)
        total = candidates[back[t], np.arange(k)] + scores[t]
    path = np.zeros(n, dtype=np.int64)
    path[-1] = int(np.argmax(total))
    for t in range(n - 1, 0, -1):
        path[t - 1] = back[t, path[t]]
    return path


def _restore_missing(path: _Ints, similarity: _Matrix, grid: _Grid, k: int, step_s: float) -> _Ints:
    """Give each speaker the path lost a short turn where it stands out most (the count is exact)."""
    path = path.copy()
    for speaker in sorted(set(range(k)) - set(path.tolist())):
        others = np.delete(similarity, speaker, axis=1).max(axis=1)
        frame = int(np.argmax(similarity[:, speaker] - others))
        reach = round(0.5 / step_s)
        span = np.arange(max(0, frame - reach), min(len(path), frame + reach + 1))
        path[span[grid.region[span] == grid.region[frame]]] = speaker
    return path


def _overlaps(path: _Ints, similarity: _Matrix, grid: _Grid, margin: float, max_frames: int) -> list[SpeakerTurn]:
    """Extend each side of a turn change into the other while its voice still matches nearly as well."""
    turns = []
    for t in np.flatnonzero((path[1:] != path[:-1]) & (grid.region[1:] == grid.region[:-1])).tolist():
        before, after = int(path[t]), int(path[t + 1])
        for speaker, other, frames in (
            (before, after, range(t + 1, min(len(path), t + 1 + max_frames))),
            (after, before, range(t, max(-1, t - max_frames), -1)),
        ):
            reached = None
            for frame in frames:
                if grid.region[frame] != grid.region[t] or path[frame] != other:
                    break
                if similarity[frame, speaker] < similarity[frame, other] - margin:
                    break
                reached = frame
            if reached is not None:
                lo, hi = sorted((reached, t + 1 if speaker == before else t))
                turns.append(SpeakerTurn(float(grid.start[lo]), float(grid.end[hi]), speaker, overlap=True))
    return turns


def resegment(
    regions: Sequence[tuple[float, float]],
    windows: Sequence[tuple[int, float, float]],
    vectors: npt.ArrayLike,
    labels: npt.ArrayLike,
    *,
    exact: bool,
    step_s: float = 0.1,
    switch_penalty: float = 6.0,
    temperature: float = 0.03,
    iterations: int = 2,
    overlap_margin: float | None = 0.02,
    max_overlap_s: float = 1.0,
) -> list[SpeakerTurn]:
    """Speaker turns over ``regions`` (seconds), from windows ``(region, start, end)`` and their labels.

    ``exact`` keeps every cluster in the result, each with a turn of its own at least.
    ``overlap_margin=None`` turns overlap detection off. Turns are sorted by start.
    """
    points = np.asarray(vectors, dtype=np.float64)
    window_labels = np.asarray(labels, dtype=np.int64).copy()
    k = int(window_labels.max()) + 1
    window_region = np.array([w[0] for w in windows], dtype=np.int64)
    window_start = np.array([w[1] for w in windows], dtype=np.float64)
    window_end = np.array([w[2] for w in windows], dtype=np.float64)
    grid = _grid(regions, window_region, window_start, window_end, step_s)
    weights = grid.weights.multiply(1.0 / np.asarray(grid.weights.sum(axis=1))).tocsr()
    covered = (grid.weights > 0).astype(np.float64).T.tocsr()  # windows x frames
    coverage = np.asarray(covered.sum(axis=1)).reshape(-1)
    usable = np.ones(len(points), dtype=bool)
    path = np.zeros(len(grid.region), dtype=np.int64)
    similarity = np.zeros((len(grid.region), k))
    for _ in range(max(1, iterations)):
        centroids = _centroids(points, window_labels, k, usable)
        similarity = np.asarray(weights @ (points @ centroids.T))
        logits = similarity / temperature
        scores = logits - np.logaddexp.reduce(logits, axis=1, keepdims=True)
        path = _viterbi(scores, grid.region, switch_penalty)
        if exact:
            path = _restore_missing(path, similarity, grid, k, step_s)
        # Each window takes the label of the frames it covers most; it is "pure" when they agree.
        votes = np.asarray(covered @ (path[:, None] == np.arange(k)[None, :]).astype(np.float64))
        window_labels = np.where(coverage > 0, np.argmax(votes, axis=1), window_labels).astype(np.int64)
        usable = (votes.max(axis=1) >= coverage) & (coverage > 0)
    turns = []
    change = np.flatnonzero((path[1:] != path[:-1]) | (grid.region[1:] != grid.region[:-1])) + 1
    for lo, hi in zip(np.r_[0, change], np.r_[change, len(path)], strict=True):
        turns.append(SpeakerTurn(float(grid.start[lo]), float(grid.end[hi - 1]), int(path[lo])))
    if overlap_margin is not None:
        turns += _overlaps(path, similarity, grid, overlap_margin, round(max_overlap_s / step_s))
    return sorted(turns, key=lambda turn: (turn.start, turn.overlap))
