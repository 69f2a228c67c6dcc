"""What the page and the JSON API show, built from the core's read models (``behavior_sync.dashboard``).

JSON values are plain: times as ISO-8601 UTC strings, counts as integers or null. HTML goes through Jinja2
with autoescaping; links to Airflow use its UI routes (``/dags/<dag_id>``, ``/dags/<dag_id>/runs/<run_id>``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from markupsafe import Markup

from behavior_sync.dashboard import (
    InvalidFile,
    PairSummary,
    RejectionCount,
    StatusView,
    run_as_of,
    run_seconds,
    status_view,
)
from behavior_sync.health import HealthPoint, MembershipAge, WindowHealth
from behavior_sync.history import SyncRecord
from behavior_sync.sync.reconcile import DriftRecord
from behavior_sync_airflow.ui.charts import Bars, Series, bar_chart, line_chart

DRIFT_VIEWS = {
    "in_sync": StatusView("In sync", "ok"),
    "drift": StatusView("Drift", "error"),
    "unknown": StatusView("Unknown", "info"),
}
Drift = dict[tuple[str, str], DriftRecord]  # the newest drift check of each behavior x destination
PALETTE = ("#2563eb", "#16a34a", "#dc2626", "#9333ea", "#ea580c", "#0891b2", "#4d7c0f", "#be185d")

_TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).with_name("templates")),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)


def utc(moment: dt.datetime | None) -> dt.datetime | None:
    """``moment`` as aware UTC (SQLite returns naive UTC datetimes); None stays None."""
    if moment is None:
        return None
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def iso(moment: dt.datetime | None) -> str | None:
    """ISO-8601 UTC text of ``moment`` (None stays None)."""
    aware = utc(moment)
    return aware.isoformat() if aware else None


def dag_url(dag_id: str) -> str:
    """The DAG's page in the Airflow UI."""
    return f"/dags/{quote(dag_id, safe='')}"


def run_url(dag_id: str, run_id: str) -> str:
    """A DAG run's page in the Airflow UI."""
    return f"{dag_url(dag_id)}/runs/{quote(run_id, safe='')}"


def record_json(record: SyncRecord) -> dict[str, Any]:
    """One history row as JSON: every SyncRecord field, the product status and the run's wall seconds."""
    values = asdict(record)
    values.update(
        started_at=iso(record.started_at),
        finished_at=iso(record.finished_at),
        status_label=status_view(record.status).label,
        run_seconds=run_seconds(record),
    )
    return values


def pair_json(pair: PairSummary, drift: DriftRecord | None = None) -> dict[str, Any]:
    """One overview row as JSON (``last_run``/``last_sync``/``drift`` null when there is no such row)."""
    return {
        "behavior": pair.behavior,
        "behavior_name": pair.behavior_name,
        "destination_id": pair.destination_id,
        "destination_type": pair.destination_type,
        "dag_id": pair.dag_id,
        "configured": pair.configured,
        "status": pair.last_run.status if pair.last_run else None,
        "status_label": pair.status.label,
        "next_run": iso(pair.next_run),
        "last_run": record_json(pair.last_run) if pair.last_run else None,
        "last_sync": record_json(pair.last_sync) if pair.last_sync else None,
        "drift": drift_json(drift) if drift else None,
    }


def drift_json(record: DriftRecord) -> dict[str, Any]:
    """A drift check as JSON (``DriftRecord.as_dict``, the CLI's form) with UTC time and the status as shown."""
    return record.as_dict() | {"checked_at": iso(record.checked_at), "status_label": drift_view(record.status).label}


def drift_view(status: str) -> StatusView:
    """How a drift status is shown (label, tone)."""
    return DRIFT_VIEWS.get(status, StatusView(status, "info"))


def overview_json(pairs: Sequence[PairSummary], invalid: Sequence[InvalidFile], drift: Drift) -> dict[str, Any]:
    """The overview API's body: ``destinations`` (one per behavior x destination, with its newest drift check)
    and ``invalid_files``."""
    return {
        "destinations": [pair_json(p, drift.get((p.behavior, p.destination_id))) for p in pairs],
        "invalid_files": [
            {"file": f.file, "problems": [{"field": a, "message": b} for a, b in f.problems]} for f in invalid
        ],
    }


def history_json(runs: Sequence[SyncRecord], rejected: Sequence[RejectionCount]) -> dict[str, Any]:
    """The history API's body: ``runs`` oldest first and ``rejections`` by vendor code."""
    return {"runs": [record_json(r) for r in runs], "rejections": [asdict(r) for r in rejected]}


def render(template: str, **values: Any) -> str:
    """Render one of the page's templates with the helpers the templates use."""
    helpers = {
        "iso": iso,
        "utc": utc,
        "dag_url": dag_url,
        "run_url": run_url,
        "status_view": status_view,
        "run_seconds": run_seconds,
        "run_as_of": run_as_of,
        "percent": percent,
        "drift_view": drift_view,
    }
    return _TEMPLATES.get_template(template).render(**helpers, **values)


def charts(runs: Sequence[SyncRecord]) -> list[Markup]:
    """The detail page's charts over the runs' data dates: audience size, adds/removes, match rate (synced runs)."""
    synced = [(run_as_of(r), r) for r in runs if r.status in ("success", "partial")]

    def points(attribute: str) -> list[tuple[dt.datetime, float | None]]:
        return [(t, getattr(r, attribute)) for t, r in synced]

    return [
        line_chart("Audience size", [Series("audience size", PALETTE[0], points("audience_size"))], from_zero=False),
        line_chart(
            "Adds and removes",
            [Series("adds", PALETTE[1], points("adds")), Series("removes", PALETTE[2], points("removes"))],
        ),
        line_chart("Match rate", [Series("match rate", PALETTE[3], points("match_rate"))]),
    ]


def percent(rate: float, signed: bool = False) -> str:
    """0.253 -> "25.3 %" ("+25.3 %" when ``signed``: a rate of change)."""
    return f"{rate * 100:{'+' if signed else ''}.1f} %"


def health_charts(points: Sequence[HealthPoint], age: MembershipAge | None) -> list[Markup]:
    """A pair's health charts: committed size, entries and exits per run, growth and churn rates, membership age."""
    dates = [f"{p.as_of:%Y-%m-%d}" for p in points]
    charts = [
        line_chart(
            "Committed audience size", [Series("committed members", PALETTE[0], size_points(points))], from_zero=False
        ),
        bar_chart(
            "Entries and exits per run",
            dates,
            [
                Bars("entries", PALETTE[1], [p.entries for p in points]),
                Bars("exits", PALETTE[2], [-p.exits for p in points]),
            ],
        ),
        line_chart(
            "Growth and churn per run",
            [
                Series("growth", PALETTE[1], [(p.as_of, _pct(p.growth_rate)) for p in points]),
                Series("churn", PALETTE[2], [(p.as_of, _pct(p.churn_rate)) for p in points]),
            ],
            unit=" %",
        ),
    ]
    if age is not None:
        labels = [b.label for b in age.buckets] + ["unknown"]
        members = [float(b.members) for b in age.buckets] + [float(age.unknown)]
        charts.append(bar_chart("Membership age", labels, [Bars("members", PALETTE[3], members)]))
    return charts


def health_rows(summary: Sequence[WindowHealth]) -> list[dict[str, str]]:
    """The health table's cells, formatted here (a Jinja macro per cell costs too much for thousands of rows):
    counts with thousands separators, rates in %, "" for unknown; ``declining`` "1" when growth is negative."""

    def count(value: int | None) -> str:
        return "" if value is None else f"{value:,}"

    return [
        {
            "behavior": r.behavior,
            "destination_id": r.destination_id,
            "size": count(r.size),
            "runs": count(r.runs),
            "growth": "" if r.growth_rate is None else percent(r.growth_rate, signed=True),
            "declining": "1" if r.growth_rate is not None and r.growth_rate < 0 else "",
            "churn": "" if r.churn_rate is None else percent(r.churn_rate),
            "entries": count(r.entries),
            "exits": count(r.exits),
            "last": "" if r.last_as_of is None else f"{r.last_as_of:%Y-%m-%d}",
        }
        for r in summary
    ]


def largest_audiences(summary: Sequence[WindowHealth], count: int) -> list[WindowHealth]:
    """The largest destination of each behavior, of the ``count`` behaviors whose largest is largest (one line
    per behavior: a behavior's destinations often hold nearly the same members)."""
    largest: dict[str, WindowHealth] = {}
    for row in sorted(summary, key=lambda r: (-r.size, r.behavior, r.destination_id)):
        largest.setdefault(row.behavior, row)
    return list(largest.values())[:count]


def size_points(points: Sequence[HealthPoint]) -> list[tuple[dt.datetime, float | None]]:
    """(data date, committed members) of each synced run."""
    return [(p.as_of, p.size) for p in points]


def sizes_chart(series: Sequence[tuple[str, Sequence[HealthPoint]]]) -> Markup:
    """Committed size over time of several behavior x destination pairs (one line each, named)."""
    lines = [Series(name, PALETTE[i % len(PALETTE)], size_points(points)) for i, (name, points) in enumerate(series)]
    return line_chart("Committed audience size, largest audiences", lines, from_zero=False)


def _pct(rate: float | None) -> float | None:
    return None if rate is None else rate * 100
