"""Diarization error rate with pyannote.metrics, the md-eval definition (missed + false alarm + confusion).

A 0.25 s collar on each side of every reference boundary is not scored (pyannote's ``collar`` is the
collar's total width, hence 0.5), and overlapping speech is scored.

Usage::

    der_components([("S1", 0.0, 4.2), ("S2", 4.0, 9.0)], [(0, 0.0, 4.1), (1, 4.1, 9.0)], duration=9.0)
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable

from pyannote.core import Annotation, Segment, Timeline
from pyannote.metrics.diarization import DiarizationErrorRate

__all__ = ["COLLAR_TOTAL_S", "COMPONENTS", "der", "der_components"]

COLLAR_TOTAL_S = 0.5
COMPONENTS = ("missed detection", "false alarm", "confusion", "total")

Turns = Iterable[tuple[Hashable, float, float]]


def _annotation(turns: Turns) -> Annotation:
    annotation = Annotation()
    for track, (speaker, start, end) in enumerate(turns):
        if end > start:
            annotation[Segment(start, end), track] = str(speaker)
    return annotation


def der_components(reference: Turns, hypothesis: Turns, *, duration: float) -> dict[str, float]:
    """Seconds of missed speech, false alarm, confusion, and total reference speech ("total")."""
    metric = DiarizationErrorRate(collar=COLLAR_TOTAL_S, skip_overlap=False)
    uem = Timeline([Segment(0.0, duration)])
    details = metric(_annotation(reference), _annotation(hypothesis), uem=uem, detailed=True)
    return {name: float(details[name]) for name in COMPONENTS}


def der(components: dict[str, float]) -> float:
    """The error rate (a fraction) of summed components."""
    errors = components["missed detection"] + components["false alarm"] + components["confusion"]
    return errors / (components["total"] or 1.0)
