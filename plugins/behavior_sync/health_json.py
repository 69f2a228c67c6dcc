"""Audience health as JSON: the one shape the page's API and the CLI both answer with.

Values are plain: times as ISO-8601 UTC strings, counts as integers, rates as fractions (0.25 = 25 %),
unknown values as null.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from behavior_sync.health import HealthPoint, MembershipAge, PairHealth, WindowHealth, window_start
from behavior_sync.health_overlap import Overlap


def iso(moment: dt.datetime | None) -> str | None:
    """ISO-8601 text of an aware or naive-UTC ``moment`` in UTC (None stays None)."""
    if moment is None:
        return None
    return (moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)).isoformat()


def summary_json(rows: Sequence[WindowHealth], now: dt.datetime, days: int) -> dict[str, Any]:
    """``{"as_of", "window_days", "window_start", "destinations": [...]}``: one entry per behavior x destination."""
    return {
        "as_of": iso(now),
        "window_days": days,
        "window_start": iso(window_start(now, days)),
        "destinations": [asdict(r) | {"last_as_of": iso(r.last_as_of)} for r in rows],
    }


def point_json(point: HealthPoint) -> dict[str, Any]:
    """One synced run's health figures."""
    return asdict(point) | {"as_of": iso(point.as_of)}


def age_json(age: MembershipAge | None) -> dict[str, Any] | None:
    """Membership age: median days, unknown members and the buckets (null without a committed state)."""
    if age is None:
        return None
    return asdict(age) | {"as_of": iso(age.as_of)}


def pair_json(health: PairHealth) -> dict[str, Any]:
    """A behavior x destination: committed size, ``points`` (oldest first) and ``membership_age``."""
    return {
        "behavior": health.behavior,
        "destination_id": health.destination_id,
        "size": health.size,
        "points": [point_json(p) for p in health.points],
        "membership_age": age_json(health.age),
    }


def overlap_json(result: Overlap) -> dict[str, Any]:
    """The matrix: ``behaviors``, their ``sizes``, ``shared`` member counts and ``jaccard`` (row i, column j)."""
    return {
        "scope": result.scope,
        "behaviors": list(result.behaviors),
        "sizes": [result.shared[i][i] for i in range(len(result.behaviors))],
        "shared": [list(row) for row in result.shared],
        "jaccard": result.jaccard(),
    }
