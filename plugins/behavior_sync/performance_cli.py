"""``python -m behavior_sync performance``: campaign performance compared across behaviors, as a table, JSON or CSV.

Reads what the daily read-back DAG (``behavior_sync__performance``) stored in the state database (no vendor
call): per behavior x destination the period's totals and ratios (CTR, CPA, ROAS, conversion rate; e-mail
open, click and unsubscribe rates), the same numbers as the Behavior Sync page's ``/api/performance``.
``--format table`` (default) prints one line per behavior x destination; ``json`` the API's body; ``csv`` one
row per day (``--totals``: one per behavior x destination). ``--output`` writes to a file instead of stdout.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

from behavior_sync.cli_args import add_state_url
from behavior_sync.performance import PerformanceReport, performance_by_behavior

DEFAULT_DAYS = 28
TABLE_COLUMNS = (
    "behavior",
    "destination_id",
    "impressions",
    "clicks",
    "ctr",
    "spend",
    "conversions",
    "cpa",
    "roas",
    "conversion_rate",
    "sent",
    "open_rate",
    "click_rate",
    "unsubscribe_rate",
)
PERCENT = frozenset({"ctr", "conversion_rate", "open_rate", "click_rate", "unsubscribe_rate"})


def register(subparsers: Any) -> None:
    """Adds the ``performance`` command to the CLI's subparsers."""
    command = subparsers.add_parser(
        "performance",
        help="campaign performance per behavior x destination (CTR, CPA, ROAS, e-mail rates) as table, JSON or CSV",
    )
    command.add_argument("--since", type=dt.date.fromisoformat, help="first day, YYYY-MM-DD (default: 28 days back)")
    command.add_argument("--until", type=dt.date.fromisoformat, help="last day, YYYY-MM-DD (default: yesterday)")
    command.add_argument("--behavior", action="append", help="only this behavior (slug); repeat for several")
    command.add_argument("--format", choices=("table", "json", "csv"), default="table")
    command.add_argument("--totals", action="store_true", help="CSV: one row per behavior x destination, not per day")
    command.add_argument("--output", type=Path, help="write to this file instead of stdout")
    add_state_url(command)
    command.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Prints (or writes) the report; exit code 2 for a period that ends before it starts."""
    from behavior_sync.statedb import StateDatabase

    until = args.until or dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    since = args.since or until - dt.timedelta(days=DEFAULT_DAYS - 1)
    if since > until:
        print(f"error: --since {since} is after --until {until}", file=sys.stderr)
        return 2
    db = StateDatabase(args.state_url)
    try:
        db.ensure_schema()
        report = performance_by_behavior(db, since, until, args.behavior)
    finally:
        db.close()
    text = render(report, args.format, daily=not args.totals)
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def render(report: PerformanceReport, form: str, daily: bool = True) -> str:
    """The report as ``form`` (table, json or csv) text, ending with a newline."""
    if form == "json":
        return json.dumps(report.as_json(), indent=2) + "\n"
    if form == "csv":
        return report.to_csv(daily)
    return _table(report)


def _table(report: PerformanceReport) -> str:
    from behavior_sync.cli import format_table

    if not report.pairs:
        return f"no campaign performance stored for {report.since} .. {report.until}\n"
    rows = [[_cell(name, row.get(name)) for name in TABLE_COLUMNS] for row in report.csv_rows(daily=False)]
    return f"{report.since} .. {report.until}\n{format_table(TABLE_COLUMNS, rows)}\n"


def _cell(name: str, value: Any) -> str:
    if value is None:
        return "-"
    if name in PERCENT:
        return f"{value * 100:.2f}%"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return f"{value:,}" if isinstance(value, int) else str(value)
