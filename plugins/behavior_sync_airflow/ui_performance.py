"""Campaign performance compared across behaviors: an ``APIRouter`` for the Behavior Sync app (JSON, CSV, HTML).

Mounted by the page's app (``app.include_router(router)``). Every route requires Airflow's login (the router's
own dependency on the app's ``authenticated``, so it holds wherever the router is mounted) and shows only the
behaviors whose DAG the user may read (the app's ``readable_dags``: Airflow's auth manager). Figures come from
``behavior_sync.performance`` (what the daily read-back DAG stored); nothing here calls a vendor.

    GET /performance?since=&until=                     the comparison: tables and charts (HTML)
    GET /api/performance?since=&until=                 per behavior x destination: totals + daily series (JSON)
    GET /api/performance.csv?since=&until=&daily=      the same as CSV: one row per day, or (daily=false) per pair

``since`` / ``until`` are dates (YYYY-MM-DD, both included); by default the 28 days ending yesterday. A period
that ends before it starts, or longer than ``MAX_DAYS``, answers 400.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import jinja2
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from behavior_sync.config import PREFIX
from behavior_sync.performance import PairPerformance, PerformanceReport, performance_by_behavior
from behavior_sync_airflow.ui.app import Behaviors, Db, Now, Readable, ReadableDags, authenticated
from behavior_sync_airflow.ui.charts import Series, line_chart

DEFAULT_DAYS = 28
MAX_DAYS = 731
AD_TYPES = frozenset({"meta", "google_ads"})
COLORS = ("#2563eb", "#16a34a", "#dc2626", "#9333ea", "#ea580c", "#0891b2", "#ca8a04", "#db2777")
_TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).with_name("ui_performance_templates")),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)

router = APIRouter(dependencies=[Depends(authenticated)])
Day = Annotated[dt.date | None, Query()]


def period(since: dt.date | None, until: dt.date | None, moment: dt.datetime) -> tuple[dt.date, dt.date]:
    """The asked period, by default the ``DEFAULT_DAYS`` days ending yesterday; 400 when it is not a period."""
    end = until or moment.date() - dt.timedelta(days=1)
    start = since or end - dt.timedelta(days=DEFAULT_DAYS - 1)
    if start > end or (end - start).days >= MAX_DAYS:
        raise HTTPException(400, f"since must be on or before until, at most {MAX_DAYS} days apart")
    return start, end


def readable_report(db: Any, readable: ReadableDags, start: dt.date, end: dt.date) -> PerformanceReport:
    """The report of the behaviors whose DAG the user may read."""
    prefix = f"{PREFIX}__"
    slugs = {dag_id.removeprefix(prefix) for dag_id in readable.ids if dag_id.startswith(prefix)}
    return performance_by_behavior(db, start, end, slugs)


@router.get("/api/performance")
def api_performance(db: Db, readable: Readable, moment: Now, since: Day = None, until: Day = None) -> dict[str, Any]:
    """Per readable behavior x destination: totals, ratios and the daily series of the period."""
    return readable_report(db, readable, *period(since, until, moment)).as_json()


@router.get("/api/performance.csv")
def api_performance_csv(
    db: Db, readable: Readable, moment: Now, since: Day = None, until: Day = None, daily: bool = True
) -> Response:
    """The report as CSV (``CSV_COLUMNS``; empty cells where a figure is not reported)."""
    start, end = period(since, until, moment)
    text = readable_report(db, readable, start, end).to_csv(daily)
    name = f"behavior-sync-performance-{start.isoformat()}-{end.isoformat()}.csv"
    return Response(text, media_type="text/csv", headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/performance", response_class=HTMLResponse)
def performance_page(
    request: Request, db: Db, readable: Readable, loaded: Behaviors, moment: Now, since: Day = None, until: Day = None
) -> str:
    """The comparison across behaviors: ad and e-mail tables, and charts of CTR, ROAS and open rate by day."""
    report = readable_report(db, readable, *period(since, until, moment))
    names = {b.slug: b.name for b in loaded.behaviors}
    return _TEMPLATES.get_template("performance_page.html").render(
        section=performance_section(report, names, request.scope.get("root_path", ""))
    )


def performance_section(report: PerformanceReport, names: dict[str, str], base: str) -> Markup:
    """The comparison as an HTML fragment (``<section id="performance">``), for this router's page or another."""
    ads = [p for p in report.pairs if p.destination_type in AD_TYPES]
    emails = [p for p in report.pairs if p.destination_type not in AD_TYPES]
    charts = [
        _chart("CTR by behavior", ads, "ctr", "%"),
        _chart("ROAS by behavior", ads, "roas", "x"),
        _chart("Open rate by behavior", emails, "open_rate", "%"),
    ]
    query = f"since={report.since.isoformat()}&until={report.until.isoformat()}"
    html = _TEMPLATES.get_template("performance_section.html").render(
        report=report, ads=ads, emails=emails, names=names, charts=charts, base=base, query=query
    )
    return Markup(html)  # the environment autoescapes every value


def _chart(title: str, pairs: list[PairPerformance], ratio: str, unit: str) -> Markup:
    """One line per behavior x destination of ``ratio`` by day (percent ratios scaled to percent)."""
    scale = 100.0 if unit == "%" else 1.0
    series = []
    for index, pair in enumerate(pairs):
        points = []
        for point in pair.daily:
            value = getattr(point.totals, ratio)
            moment = dt.datetime.combine(point.day, dt.time(), dt.UTC)
            points.append((moment, None if value is None else value * scale))
        series.append(Series(f"{pair.behavior} / {pair.destination_id}", COLORS[index % len(COLORS)], points))
    return line_chart(title, series, unit)
