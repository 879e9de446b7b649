"""The server-drawn charts: scales, geometry, French values and the text alternative."""

from __future__ import annotations

import pytest

from assistant.web._charts import bar_chart, column_chart, format_measure, nice_ceiling


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0, 1), (-3, 1), (0.004, 0.005), (1, 1), (7, 10), (12, 20), (21, 25), (180, 200), (1001, 2000), (2.5, 2.5)],
)
def test_nice_ceiling_rounds_up_to_a_readable_scale(value: float, expected: float) -> None:
    assert nice_ceiling(value) == pytest.approx(expected)


def test_columns_share_one_scale_and_label_a_few_days() -> None:
    points = [(f"{day:02d}/11", float(day)) for day in range(1, 31)]
    chart = column_chart("c", "Requêtes par jour", points, unit="Wh", digits=1)
    assert len(chart.columns) == 30
    tallest = chart.columns[-1]
    assert tallest.y + tallest.height == pytest.approx(chart.plot_bottom)
    # 30 on a 50 scale: three fifths of the plot, whose top is the last guide line.
    assert tallest.height == pytest.approx((chart.plot_bottom - chart.ticks[-1].y) * 30 / 50, abs=0.01)
    assert chart.columns[9].height == pytest.approx(chart.columns[0].height * 10, rel=1e-2)
    assert sum(column.show_label for column in chart.columns) <= 8
    assert [tick.label for tick in chart.ticks] == ["0\u202fWh", "25\u202fWh", "50\u202fWh"]
    assert tallest.value == "30\u202fWh"
    assert chart.description == "30 valeurs ; total 465\u202fWh ; maximum 30\u202fWh (30/11)."
    assert all(a.x + a.width < b.x for a, b in zip(chart.columns, chart.columns[1:], strict=False)), "no overlap"


def test_bars_are_sorted_capped_and_formatted_in_french() -> None:
    points = [(f"modèle {index}", 1000.5 * index) for index in range(15)]
    chart = bar_chart("b", "Énergie par modèle", points, unit="Wh", digits=1)
    assert len(chart.bars) == 12, "the table lists the others"
    assert chart.bars[0].label == "modèle 14" and chart.bars[0].value == "14\u202f007\u202fWh"
    assert [bar.width for bar in chart.bars] == sorted((bar.width for bar in chart.bars), reverse=True)
    assert chart.bars[-1].width > 0
    assert chart.description.startswith("15 valeurs ; total 105\u202f052,5\u202fWh")


def test_small_values_keep_two_significant_digits_and_half_ticks_a_decimal() -> None:
    chart = column_chart("c", "Énergie", [("01/11", 0.00042), ("02/11", 0.0)], unit="Wh", digits=3)
    assert chart.columns[0].value == "0,00042\u202fWh"
    assert [tick.label for tick in chart.ticks] == ["0\u202fWh", "0,00025\u202fWh", "0,0005\u202fWh"]
    counts = column_chart("n", "Requêtes", [("01/11", 1)])
    assert [tick.label for tick in counts.ticks] == ["0", "0,5", "1"]


def test_narrow_charts_label_fewer_days() -> None:
    points = [(f"{day:02d}/11", 1.0) for day in range(1, 31)]
    wide, narrow = column_chart("w", "t", points), column_chart("n", "t", points, width=420)
    assert narrow.width == 420 and narrow.columns[-1].x + narrow.columns[-1].width < 420
    assert sum(c.show_label for c in narrow.columns) < sum(c.show_label for c in wide.columns)


def test_empty_charts_say_so() -> None:
    assert column_chart("c", "t", []).description == "Aucune donnée sur la période."
    assert column_chart("z", "t", [("01/11", 0), ("02/11", 0)]).description == "2 valeurs, toutes nulles."
    empty = bar_chart("b", "t", [])
    assert empty.bars == [] and empty.height > 0


def test_measures_never_round_a_small_positive_value_to_zero() -> None:
    assert format_measure(0.000417, 3, "Wh") == "0,00042\u202fWh"
    assert format_measure(1234.5678, 3) == "1\u202f234,568"
    assert format_measure(0, 3, "g CO₂e") == "0\u202fg CO₂e"
    assert format_measure(0.5) == "0,5"
