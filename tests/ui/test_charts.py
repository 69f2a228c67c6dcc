"""The page's SVG charts show points, not empty frames: a series of one run shows that point and its value."""

from __future__ import annotations

import datetime as dt
import re

from behavior_sync_airflow.ui.charts import Bars, Series, bar_chart, line_chart
from tests.support.sync_history import END, daily_runs, seed
from tests.ui.test_api import client_for

T = dt.datetime(2026, 11, 23, tzinfo=dt.UTC)


def circles(svg: str) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in re.findall(r'<circle cx="([\d.]+)" cy="([\d.]+)"', svg)]


def test_a_one_point_line_chart_shows_the_point_and_its_value() -> None:
    svg = line_chart("Audience size", [Series("audience size", "#2563eb", [(T, 1_290.0)])])
    assert circles(svg) == [(372.0, 40.0)]  # in the middle of the time axis, at the top of 0..1,290
    assert '<text class="value" x="377.0" y="34.0" fill="#2563eb" text-anchor="start">1.3k</text>' in svg
    assert "2026-11-23" in svg and "no data" not in svg


def test_each_point_of_a_short_series_is_marked_and_the_last_value_written() -> None:
    points = [(T + dt.timedelta(days=d), float(v)) for d, v in enumerate((10, 12, 9))]
    svg = line_chart("Growth", [Series("growth", "#16a34a", points)], unit=" %")
    assert len(circles(svg)) == 3 and '<text class="value"' in svg and ">9 %</text>" in svg
    assert "<polyline" in svg


def test_negative_values_sit_below_the_zero_line() -> None:
    svg = line_chart("Growth", [Series("growth", "#16a34a", [(T, -5.0), (T + dt.timedelta(days=1), 5.0)])])
    (_, below), (_, above) = circles(svg)
    assert below > above and ">-5</text>" in svg


def test_an_audience_size_that_varies_little_gets_an_axis_that_shows_its_shape() -> None:
    points = [(T, 9_700.0), (T + dt.timedelta(days=7), 9_500.0)]
    flat = circles(line_chart("Size", [Series("size", "#2563eb", points)]))
    shaped = circles(line_chart("Size", [Series("size", "#2563eb", points)], from_zero=False))
    assert abs(flat[0][1] - flat[1][1]) < 4 and abs(shaped[0][1] - shaped[1][1]) > 80
    assert ">9.5k</text>" in line_chart("Size", [Series("size", "#2563eb", points)], from_zero=False)  # axis start


def test_a_one_bar_chart_shows_the_bar_and_its_value() -> None:
    svg = bar_chart("Membership age", ["< 1 week"], [Bars("members", "#9333ea", [42.0])])
    assert svg.count("<rect") == 1 and ">42</text>" in svg and "&lt; 1 week" in svg


def test_charts_without_values_say_no_data() -> None:
    assert "no data" in line_chart("x", [Series("s", "#000", [(T, None)])])
    assert "no data" in bar_chart("x", [], [Bars("s", "#000", [])])


def test_the_detail_page_of_a_destination_synced_once_shows_its_point_and_value(tmp_path: object) -> None:
    url = f"sqlite:///{tmp_path}/state.db"
    seed(url, daily_runs("value_hunters", "meta", days=1, end=END))
    detail = client_for(url).get("/detail", params={"behavior": "value_hunters", "destination": "meta"}).text
    assert detail.count("<circle") == 4  # audience size, adds, removes, match rate: one point each
    assert ">1.0k</text>" in detail and ">20</text>" in detail  # the run's audience size and adds, written out
