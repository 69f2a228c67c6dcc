"""Server-side SVG line charts (no JavaScript, no external assets: the page works offline)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

WIDTH, HEIGHT, PAD = 720, 180, 40


@dataclass(frozen=True)
class Series:
    """One line: a legend name, a CSS colour and (time, value) points in time order (None values are gaps)."""

    name: str
    color: str
    points: Sequence[tuple[dt.datetime, float | None]]


def line_chart(title: str, series: Sequence[Series], unit: str = "") -> Markup:
    """An inline ``<svg>`` with one polyline per series, the value range and the time range labelled.

    Values are scaled from 0 (or the smallest negative value) to the largest; a chart without any value
    says "no data". All text is escaped.
    """
    values = [v for s in series for _, v in s.points if v is not None]
    times = [t for s in series for t, v in s.points if v is not None]
    body = _lines(series, min(times), max(times), min(0.0, *values), max(values)) if values else _no_data()
    axis = _axis_labels(min(times), max(times), max(values), unit) if values else ""
    legend = "".join(
        f'<text x="{PAD + 150 * i}" y="14" fill="{escape(s.color)}">&#9632; {escape(s.name)}</text>'
        for i, s in enumerate(series)
    )
    return Markup(
        f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" font-size="11"><title>{escape(title)}</title>{legend}{axis}{body}</svg>'
    )


def _lines(series: Sequence[Series], t0: dt.datetime, t1: dt.datetime, low: float, high: float) -> str:
    span_t = (t1 - t0).total_seconds() or 1.0
    span_v = (high - low) or 1.0

    def xy(t: dt.datetime, v: float) -> str:
        x = PAD + (t - t0).total_seconds() / span_t * (WIDTH - 2 * PAD)
        y = HEIGHT - PAD - (v - low) / span_v * (HEIGHT - 2 * PAD)
        return f"{x:.1f},{y:.1f}"

    lines = []
    for s in series:
        points = " ".join(xy(t, v) for t, v in s.points if v is not None)
        lines.append(f'<polyline fill="none" stroke="{escape(s.color)}" stroke-width="1.5" points="{points}"/>')
    return "".join(lines)


def _axis_labels(t0: dt.datetime, t1: dt.datetime, high: float, unit: str) -> str:
    bottom, right = HEIGHT - PAD, WIDTH - PAD
    return (
        f'<line x1="{PAD}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#999"/>'
        f'<line x1="{PAD}" y1="{PAD}" x2="{PAD}" y2="{bottom}" stroke="#999"/>'
        f'<text x="{PAD}" y="{bottom + 14}">{t0:%Y-%m-%d}</text>'
        f'<text x="{right}" y="{bottom + 14}" text-anchor="end">{t1:%Y-%m-%d}</text>'
        f'<text x="{PAD - 4}" y="{PAD + 4}" text-anchor="end">{_short(high)}{escape(unit)}</text>'
        f'<text x="{PAD - 4}" y="{bottom}" text-anchor="end">0</text>'
    )


def _no_data() -> str:
    return f'<text x="{WIDTH // 2}" y="{HEIGHT // 2}" text-anchor="middle" fill="#777">no data</text>'


def _short(value: float) -> str:
    """1234567 -> 1.2M; 0.93 -> 0.93."""
    for size, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:.1f}{suffix}"
    return f"{value:.2f}".rstrip("0").rstrip(".")
