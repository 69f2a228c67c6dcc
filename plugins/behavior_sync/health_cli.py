"""``python -m behavior_sync health``: audience health from the state database (no Airflow, no vendor calls).

    health summary [--window-days 30]                           size, growth, churn, entries, exits per pair
    health pair --behavior B --destination D                    each synced run, and membership age
    health overlap [--scope behavior|TYPE] [--behavior B ...]   shared members and Jaccard between behaviors

Each view prints a table, or with ``--json`` the JSON the Behavior Sync page's API answers
(``/behavior-sync/api/health/...``). ``--state-url`` names the state database (default
``$BEHAVIOR_SYNC_STATE_URL`` or ``data/state.db``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from collections.abc import Callable, Sequence
from typing import Any

from behavior_sync.cli_args import add_state_url
from behavior_sync.config import load_behaviors
from behavior_sync.health import DEFAULT_WINDOW_DAYS, health_summary, pair_health
from behavior_sync.health_json import overlap_json, pair_json, summary_json
from behavior_sync.health_overlap import OVERLAP_LIMIT, SCOPE_BEHAVIOR, SCOPES, overlap, scope_destinations
from behavior_sync.statedb import StateDatabase

Text = tuple[Sequence[str], list[list[str]]]  # a table: header, rows


def register(subparsers: Any) -> None:
    """Adds ``health summary|pair|overlap`` to the CLI's subparsers (``argparse`` ``add_subparsers()``)."""
    health = subparsers.add_parser("health", help="audience health: growth, churn, entries/exits, age, overlap")
    views = health.add_subparsers(required=True, metavar="VIEW")
    summary = _view(views, "summary", "size, growth, churn, entries and exits of every behavior x destination")
    summary.add_argument("--window-days", type=int, default=DEFAULT_WINDOW_DAYS, help="days back from now")
    pair = _view(views, "pair", "each synced run of one behavior x destination, and its membership age")
    pair.add_argument("--behavior", required=True, help="behavior slug")
    pair.add_argument("--destination", required=True, help="destination id")
    shared = _view(views, "overlap", "shared members (counts and Jaccard) between behaviors")
    shared.add_argument("--scope", choices=SCOPES, default=SCOPE_BEHAVIOR, help="all destinations, or one type")
    shared.add_argument("--behavior", action="append", help="compare these (repeat; default: the largest)")
    shared.add_argument("--limit", type=int, default=OVERLAP_LIMIT, help="behaviors compared at most")


def _view(views: Any, name: str, help_text: str) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = views.add_parser(name, help=help_text)
    parser.add_argument("--json", action="store_true", help="print the page API's JSON")
    add_state_url(parser)
    parser.set_defaults(handler=run_health, view=name)
    return parser


def run_health(args: argparse.Namespace, now: dt.datetime | None = None) -> int:
    """Prints the chosen view (``args.view``) of the state database at ``args.state_url``; returns 0.

    ``now`` (default: the current time) ends the summary's window.
    """
    db = StateDatabase(args.state_url)
    try:
        db.ensure_schema()
        body, table = _VIEWS[args.view](db, args, now or dt.datetime.now(dt.UTC))
    finally:
        db.close()
    if args.json:
        print(json.dumps(body, indent=1))
    else:
        from behavior_sync.cli import format_table

        header, rows = table
        print(format_table(header, rows) if rows else "no committed state yet")
    return 0


def _summary(db: StateDatabase, args: argparse.Namespace, now: dt.datetime) -> tuple[dict[str, Any], Text]:
    body = summary_json(health_summary(db, now, days=args.window_days), now, args.window_days)
    header = ("behavior", "destination", "size", "runs", "growth", "churn", "entries", "exits", "last data date")
    keys = ("behavior", "destination_id", "size", "runs", "growth_rate", "churn_rate", "entries", "exits")
    rows = [[*(_cell(d[k]) for k in keys), _cell(d["last_as_of"])] for d in body["destinations"]]
    return body, (header, rows)


def _pair(db: StateDatabase, args: argparse.Namespace, now: dt.datetime) -> tuple[dict[str, Any], Text]:
    body = pair_json(pair_health(db, args.behavior, args.destination))
    keys = ("as_of", "run_id", "size", "entries", "exits", "growth_rate", "churn_rate")
    rows = [[_cell(p[k]) for k in keys] for p in body["points"]]
    age = body["membership_age"]
    if age is not None:
        rows += [[f"age {b['label']}", "", _cell(b["members"]), "", "", "", ""] for b in age["buckets"]]
        rows += [["age unknown", "", _cell(age["unknown"]), "", "", "", ""]]
        rows += [["median age (days)", "", _cell(age["median_days"]), "", "", "", ""]]
    return body, (("data date", "run", "size", "entries", "exits", "growth", "churn"), rows)


def _overlap(db: StateDatabase, args: argparse.Namespace, now: dt.datetime) -> tuple[dict[str, Any], Text]:
    scoped = scope_destinations(load_behaviors().behaviors, args.scope)
    if args.behavior:
        scoped = {slug: ids for slug, ids in scoped.items() if slug in args.behavior}
    body = overlap_json(overlap(db, scoped, args.scope, args.limit))
    names, jaccard = body["behaviors"], body["jaccard"]
    rows = [
        [a, b, _cell(body["shared"][i][j]), _cell(jaccard[i][j])]
        for i, a in enumerate(names)
        for j, b in enumerate(names)
        if i < j
    ]
    return body, (("behavior", "other behavior", "shared members", "jaccard"), rows)


_VIEWS: dict[str, Callable[[StateDatabase, argparse.Namespace, dt.datetime], tuple[dict[str, Any], Text]]] = {
    "summary": _summary,
    "pair": _pair,
    "overlap": _overlap,
}


def _cell(value: object) -> str:
    """Counts as integers, rates and days with 3 decimals, dates as YYYY-MM-DD; null as empty."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.3f}"
    if isinstance(value, str) and "T" in value and value[:4].isdigit():
        return value[:10]
    return str(value)
