"""Charts for the admin pages, computed here and drawn as inline SVG by ``templates/admin/_charts.html``.

No chart library and no script: the page's CSP forbids inline code, and a server-drawn SVG is readable without
JavaScript. Each chart has a title and a description for screen readers (``role="img"``); the pages print the
same figures in a table next to it, which is the RGAA alternative. Values are formatted in French here so the
template only places text.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from assistant.web._templates import format_number_fr

__all__ = [
    "Bar",
    "BarChart",
    "Column",
    "ColumnChart",
    "Tick",
    "bar_chart",
    "column_chart",
    "format_measure",
    "nice_ceiling",
]

# Drawing units (the SVG scales to its container through its viewBox).
_WIDTH = 640
_COLUMN_HEIGHT = 220
_MARGIN_LEFT = 48
_MARGIN_BOTTOM = 40
_MARGIN_TOP = 12
_BAR_ROW = 28
_BAR_LABEL_WIDTH = 200
_MAX_BARS = 12


@dataclass(frozen=True, slots=True)
class Tick:
    """A horizontal guide line of a column chart and its French label."""

    y: float
    label: str


@dataclass(frozen=True, slots=True)
class Column:
    """One vertical bar: its rectangle, its axis label (shown every few columns) and its value in French."""

    x: float
    y: float
    width: float
    height: float
    label: str
    value: str
    show_label: bool


@dataclass(frozen=True, slots=True)
class ColumnChart:
    """Vertical bars over an ordered axis (days): what the template draws."""

    id: str
    title: str
    description: str
    width: int
    height: int
    plot_left: int
    plot_bottom: int
    columns: list[Column]
    ticks: list[Tick]


@dataclass(frozen=True, slots=True)
class Bar:
    """One horizontal bar with its category label and its value in French."""

    y: float
    width: float
    label: str
    value: str


@dataclass(frozen=True, slots=True)
class BarChart:
    """Horizontal bars, one per category (service, model): what the template draws."""

    id: str
    title: str
    description: str
    width: int
    height: int
    label_width: int
    bar_height: int
    bars: list[Bar]


def nice_ceiling(value: float) -> float:
    """The smallest « round » number (1, 2, 2.5 or 5 times a power of ten) at or above ``value``; 1 for 0."""
    if value <= 0:
        return 1.0
    magnitude = math.pow(10, math.floor(math.log10(value)))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude  # unreachable: 10 × magnitude is always above value


def format_measure(value: float, digits: int = 0, unit: str = "") -> str:
    """A French number with up to ``digits`` decimals, or two significant digits when smaller (« 0,00042 Wh »).

    Per-request energy of a small model is a few ten-thousandths of a watt-hour: a fixed 3 decimals would show 0.
    """
    shown = digits
    if 0 < abs(value) < 1:
        shown = min(max(digits, 1 - math.floor(math.log10(abs(value)))), 8)
    return format_number_fr(value, shown) + (f"\u202f{unit}" if unit else "")


def _formatter(unit: str, digits: int) -> Callable[[float], str]:
    return lambda value: format_measure(value, digits, unit)


def _summary(points: Sequence[tuple[str, float]], fmt: Callable[[float], str]) -> str:
    if not points:
        return "Aucune donnée sur la période."
    total = sum(value for _, value in points)
    top_label, top_value = max(points, key=lambda point: point[1])
    count = f"{len(points)} valeur{'s' if len(points) > 1 else ''}"
    if top_value <= 0:
        return f"{count}, toutes nulles."
    return f"{count} ; total {fmt(total)} ; maximum {fmt(top_value)} ({top_label})."


def column_chart(
    chart_id: str,
    title: str,
    points: Sequence[tuple[str, float]],
    *,
    unit: str = "",
    digits: int = 0,
    width: int = _WIDTH,
) -> ColumnChart:
    """Vertical bars for ``(label, value)`` points in axis order (e.g. one per day).

    ``width`` is in drawing units: a narrower chart (e.g. 420 in half a column) keeps its text readable.
    """
    fmt = _formatter(unit, digits)
    top = nice_ceiling(max((value for _, value in points), default=0.0))
    tick_fmt = _formatter(unit, max(digits, 1))  # half of a round top may need a decimal (2,5)
    tick_labels = [(share, tick_fmt(top * share)) for share in (0, 0.5, 1)]
    # Room for the longest guide label (about 7 units a character at the chart's font size).
    left = max(_MARGIN_LEFT, 7 * max(len(label) for _, label in tick_labels) + 12)
    plot_width = width - left - 8
    plot_height = _COLUMN_HEIGHT - _MARGIN_TOP - _MARGIN_BOTTOM
    bottom = _COLUMN_HEIGHT - _MARGIN_BOTTOM
    slot = plot_width / max(len(points), 1)
    # About one label per 80 units fits under the axis; the others are in the table.
    every = max(1, math.ceil(len(points) / max(plot_width // 80, 1)))
    columns = []
    for index, (label, value) in enumerate(points):
        height = plot_height * max(value, 0.0) / top
        columns.append(
            Column(
                x=round(left + index * slot + slot * 0.15, 2),
                y=round(bottom - height, 2),
                width=round(slot * 0.7, 2),
                height=round(height, 2),
                label=label,
                value=fmt(value),
                show_label=index % every == 0,
            )
        )
    ticks = [Tick(y=round(bottom - plot_height * share, 2), label=label) for share, label in tick_labels]
    return ColumnChart(
        id=chart_id,
        title=title,
        description=_summary(points, fmt),
        width=width,
        height=_COLUMN_HEIGHT,
        plot_left=left,
        plot_bottom=bottom,
        columns=columns,
        ticks=ticks,
    )


def bar_chart(
    chart_id: str, title: str, points: Sequence[tuple[str, float]], *, unit: str = "", digits: int = 0
) -> BarChart:
    """Horizontal bars for ``(category, value)`` points, largest first (at most twelve; the table has them all)."""
    fmt = _formatter(unit, digits)
    shown = sorted(points, key=lambda point: -point[1])[:_MAX_BARS]
    top = max((value for _, value in shown), default=0.0) or 1.0
    # Room on the right for the value printed after the longest bar.
    plot_width = _WIDTH - _BAR_LABEL_WIDTH - 150
    bars = [
        Bar(
            y=index * _BAR_ROW + 4,
            width=round(max(plot_width * max(value, 0.0) / top, 1.0), 2),
            label=label,
            value=fmt(value),
        )
        for index, (label, value) in enumerate(shown)
    ]
    return BarChart(
        id=chart_id,
        title=title,
        description=_summary(points, fmt),
        width=_WIDTH,
        height=max(len(bars), 1) * _BAR_ROW + 8,
        label_width=_BAR_LABEL_WIDTH,
        bar_height=_BAR_ROW - 10,
        bars=bars,
    )
