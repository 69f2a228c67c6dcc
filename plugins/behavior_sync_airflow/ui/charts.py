"""Server-side SVG charts (no JavaScript, no external assets: the page works offline).

Every chart shows its points, not only its lines: a point gets a marker while a series has few enough of
them to tell apart, and the last value of each series is written next to it, so a series of one run shows
that run's point and value (a line needs two points). Values are scaled from the smallest of 0 and the
values to the largest of 0 and the values, except for a line chart of counts far from 0 (an audience's size):
its axis starts near its smallest value, so its shape shows (the axis says where it starts). All text is escaped.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

WIDTH, HEIGHT, PAD = 720, 180, 40
LEFT = 64  # the plot's left edge: room for the value axis' labels ("-12.5 %", "1.2M")
PLOT = WIDTH - LEFT - PAD  # the plot's width
MARKERS_UP_TO = 60  # points of a series drawn as markers (beyond, the line alone)
LABELS_UP_TO = 16  # categories of a bar chart whose values are written on the bars


@dataclass(frozen=True)
class Series:
    """One line: a legend name, a CSS colour and (time, value) points in time order (None values are gaps)."""

    name: str
    color: str
    points: Sequence[tuple[dt.datetime, float | None]]


@dataclass(frozen=True)
class Bars:
    """One bar per category: a legend name, a CSS colour and the values (None: no bar)."""

    name: str
    color: str
    values: Sequence[float | None]


def line_chart(title: str, series: Sequence[Series], unit: str = "", from_zero: bool = True) -> Markup:
    """An inline ``<svg>``: one polyline per series, markers on its points, its last value labelled, the value
    and time ranges on the axes; "no data" without any value. ``from_zero`` False: positive values that vary
    little get an axis from just below their smallest value."""
    values = [v for s in series for _, v in s.points if v is not None]
    times = [t for s in series for t, v in s.points if v is not None]
    if not values:
        return _svg(title, series, _no_data())
    scale = _Scale.of(values, from_zero)
    t0, t1 = min(times), max(times)
    span = (t1 - t0).total_seconds()

    def x(t: dt.datetime) -> float:  # a single time sits in the middle
        return LEFT + ((t - t0).total_seconds() / span if span else 0.5) * PLOT

    body = "".join(_series(s, x, scale, unit) for s in series)
    axis = _axes(scale, unit) + _text(LEFT, HEIGHT - PAD + 14, f"{t0:%Y-%m-%d}")
    axis += _text(WIDTH - PAD, HEIGHT - PAD + 14, f"{t1:%Y-%m-%d}", anchor="end") if span else ""
    return _svg(title, series, axis + body)


def bar_chart(title: str, categories: Sequence[str], bars: Sequence[Bars], unit: str = "") -> Markup:
    """An inline ``<svg>`` with grouped bars per category (negative values go below the zero line), the first
    and last category named (every one when few), values written on the bars when few; "no data" without any."""
    values = [v for b in bars for v in b.values if v is not None]
    if not values or not categories:
        return _svg(title, bars, _no_data())
    scale = _Scale.of(values, from_zero=True)
    slot = PLOT / len(categories)
    width = max(slot * 0.8 / len(bars), 1.0)
    shapes = []
    for i, name in enumerate(categories):
        for k, b in enumerate(bars):
            value = b.values[i]
            if value is None:
                continue
            left, top, bottom = LEFT + i * slot + slot * 0.1 + k * width, scale.y(max(value, 0)), scale.y(min(value, 0))
            shapes.append(
                f'<rect x="{left:.1f}" y="{top:.1f}" width="{width:.1f}" height="{max(bottom - top, 0.5):.1f}" '
                f'fill="{escape(b.color)}"><title>{escape(name)}: {_short(value)}{escape(unit)}</title></rect>'
            )
            if len(categories) <= LABELS_UP_TO:
                shapes.append(_text(left + width / 2, top - 3, _short(value) + unit, anchor="middle"))
        if len(categories) <= 8 or i in (0, len(categories) - 1):
            shapes.append(_text(LEFT + (i + 0.5) * slot, HEIGHT - PAD + 14, name, anchor="middle"))
    return _svg(title, bars, _axes(scale, unit) + "".join(shapes))


@dataclass(frozen=True)
class _Scale:
    low: float
    high: float

    @classmethod
    def of(cls, values: Sequence[float], from_zero: bool) -> _Scale:
        """From 0 (or the smallest negative value) to the largest; without ``from_zero``, positive values within
        half of their largest get a range around them (a tenth of their spread; 1 % of the value when flat)."""
        low, high = min(values), max(values)
        if from_zero or low <= 0 or high - low > high / 2:
            return cls(min(0.0, low), max(0.0, high))
        margin = (high - low) / 10 or high / 100
        return cls(max(0.0, low - margin), high + margin)

    def y(self, value: float) -> float:
        return HEIGHT - PAD - (value - self.low) / ((self.high - self.low) or 1.0) * (HEIGHT - 2 * PAD)


def _series(s: Series, x: Callable[[dt.datetime], float], scale: _Scale, unit: str) -> str:
    points = [(x(t), scale.y(v), v) for t, v in s.points if v is not None]
    if not points:
        return ""
    color = escape(s.color)
    line = " ".join(f"{px:.1f},{py:.1f}" for px, py, _ in points)
    marks = "".join(
        f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" fill="{color}"><title>{_short(v)}{escape(unit)}</title></circle>'
        for px, py, v in (points if len(points) <= MARKERS_UP_TO else [])
    )
    last_x, last_y, last = points[-1]
    near_end = last_x > WIDTH - PAD - 60  # written left of the point, inside the frame
    label = f'<text class="value" x="{last_x + (-5 if near_end else 5):.1f}" y="{last_y - 6:.1f}" fill="{color}" '
    label += f'text-anchor="{"end" if near_end else "start"}">{escape(_short(last) + unit)}</text>'
    return f'<polyline fill="none" stroke="{color}" stroke-width="1.5" points="{line}"/>{marks}{label}'


def _svg(title: str, items: Sequence[Series | Bars], body: str) -> Markup:
    """The chart: its title, the legend (wrapped over as many lines as it needs, the plot moved down by the
    extra lines) and ``body`` drawn in the ``WIDTH`` x ``HEIGHT`` frame."""
    legend, lines = _legend(items)
    extra = 14 * (lines - 1)
    height = HEIGHT + extra
    return Markup(
        f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" font-size="11"><title>{escape(title)}</title>'
        f'<text x="4" y="12" font-weight="bold">{escape(title)}</text>{legend}'
        f'<g transform="translate(0,{extra})">{body}</g></svg>'
    )


def _legend(items: Sequence[Series | Bars]) -> tuple[str, int]:
    """Names side by side from the left (about 6.5 px a character), wrapped at the frame; the lines used."""
    entries, x, line = [], float(LEFT), 0
    for s in items:
        width = 24 + 6.5 * len(s.name)
        if x + width > WIDTH and x > LEFT:
            x, line = float(LEFT), line + 1
        entries.append(
            f'<text x="{x:.0f}" y="{27 + 14 * line}" fill="{escape(s.color)}">&#9632; {escape(s.name)}</text>'
        )
        x += width
    return "".join(entries), line + 1


def _axes(scale: _Scale, unit: str) -> str:
    bottom, right, zero = HEIGHT - PAD, WIDTH - PAD, scale.y(min(max(0.0, scale.low), scale.high))
    return (
        f'<line x1="{LEFT}" y1="{zero:.1f}" x2="{right}" y2="{zero:.1f}" stroke="#999"/>'
        f'<line x1="{LEFT}" y1="{PAD}" x2="{LEFT}" y2="{bottom}" stroke="#999"/>'
        + _text(LEFT - 4, PAD + 4, _short(scale.high) + unit, anchor="end")
        + _text(LEFT - 4, bottom, _short(scale.low) + unit, anchor="end")
    )


def _text(x: float, y: float, text: str, anchor: str = "start") -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}">{escape(text)}</text>'


def _no_data() -> str:
    return f'<text x="{WIDTH // 2}" y="{HEIGHT // 2}" text-anchor="middle" fill="#777">no data</text>'


def _short(value: float) -> str:
    """1234567 -> 1.2M; 29.163 -> 29.2; 0.934 -> 0.93; -25.0 -> -25."""
    for size, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:.1f}{suffix}"
    return f"{value:.{1 if abs(value) >= 10 else 2}f}".rstrip("0").rstrip(".")
