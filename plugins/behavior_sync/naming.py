"""Names of the objects a destination creates (audiences, lists), rendered from a behavior's templates.

A template may use ``{name}`` (the behavior's display name), ``{slug}``, ``{date}`` (the run's day,
YYYY-MM-DD), ``{year}`` and ``{quarter}`` (e.g. ``2026-Q4``); ``{{`` and ``}}`` are literal braces.
The day is the end of the run's data window, so a backfill names objects after the day it covers.
The behavior file schema (``name_template``) admits only these placeholders, so a bad template is
reported by ``validate`` with its file and field before any run.
"""

from __future__ import annotations

import datetime as dt
import string

PLACEHOLDERS = ("name", "slug", "date", "year", "quarter")


def render_name(template: str, behavior_name: str, slug: str, day: dt.date) -> str:
    """``template`` with its placeholders filled; ValueError names an unknown placeholder."""
    unknown = sorted({f for _, f, _, _ in string.Formatter().parse(template) if f is not None} - set(PLACEHOLDERS))
    if unknown:
        allowed = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
        raise ValueError(f"name template {template!r} uses {{{unknown[0]}}}; allowed placeholders: {allowed}")
    values = {
        "name": behavior_name,
        "slug": slug,
        "date": day.isoformat(),
        "year": str(day.year),
        "quarter": f"{day.year}-Q{(day.month - 1) // 3 + 1}",
    }
    return template.format(**values)
