"""``python -m tests.bench.dashboard_bench [--behaviors 500] [--days 730] [--members 20000]``: page render times.

Seeds a SQLite state DB (or ``--state-url``, e.g. a PostgreSQL database) with ``days`` daily runs for
``behaviors`` behaviors x the 5 destinations of value_hunters.yaml (500 x 5 x 730 = 1,825,000 history rows,
each with the plan counts and data window a run records) and one committed state per pair (``members``
member keys drawn from overlapping ranges of one customer population, with first-seen files), then times
every page and JSON route through the app in-process (login replaced by a no-op, as in tests/ui/test_api.py):
the first request (the overlap matrix cold) and the median of ``--repeat`` more. Target: under 1 s each.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import sqlalchemy as sa

from tests.support.sync_history import END

POPULATION = 1_000_000  # customers the behaviors' members are drawn from
ROUTES = {
    "overview page": "/",
    "overview API": "/api/overview",
    "detail page": "/detail?behavior=behavior_000&destination=meta",
    "history API": "/api/history?behavior=behavior_000&destination=meta",
    "health page": "/health",
    "health API": "/api/health",
    "health pair API": "/api/health/pair?behavior=behavior_000&destination=meta",
    "overlap API": "/api/health/overlap",
    "overlap API, meta": "/api/health/overlap?scope=meta",
}
TARGET_S = 1.0


def prepare(folder: Path, behaviors: int, days: int, members: int, url: str | None = None) -> tuple[str, list[str]]:
    """Behavior files, history and committed states in ``folder`` (state DB ``url``, default SQLite there);
    returns the state DB URL and the behavior slugs."""
    os.environ.setdefault("BEHAVIOR_SYNC_PROJECT_DIR", str(Path(__file__).resolve().parents[2]))
    from behavior_sync.config import load_behaviors
    from behavior_sync.paths import behaviors_dir
    from behavior_sync.statedb import StateDatabase

    template = (behaviors_dir() / "value_hunters.yaml").read_text()
    slugs = [f"behavior_{i:03d}" for i in range(behaviors)]
    for slug in slugs:
        (folder / f"{slug}.yaml").write_text(template)
    destinations = [(d.id, d.type) for d in load_behaviors(folder).behaviors[0].destinations]
    url = url or f"sqlite:///{folder}/state.db"
    db = StateDatabase(url)
    db.ensure_schema()
    with db.engine.begin() as conn:
        for chunk in _chunks(_history_rows(slugs, destinations, days, members), 20_000):
            conn.execute(sa.insert(_table("bsync_sync_history")), chunk)
        conn.execute(
            sa.insert(_table("bsync_state_pointer")), list(_states(folder, slugs, destinations, days, members))
        )
    db.close()
    return url, slugs


def _table(name: str) -> sa.Table:
    from behavior_sync.statedb import metadata

    return metadata.tables[name]


def _chunks(rows: Iterator[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _size(day: int, days: int, members: int) -> int:
    """Committed members after day ``day``: growing 10 a day to ``members`` on the last day."""
    return members - 10 * (days - 1 - day)


def _history_rows(
    slugs: list[str], destinations: list[tuple[str, str]], days: int, members: int
) -> Iterator[dict[str, Any]]:
    """One success per pair and day, with the details a run records (identity, plan counts, window, audience)."""
    for day in range(days):
        as_of = END.replace(hour=0) - dt.timedelta(days=days - 1 - day)
        leaving = 5 + day % 7
        committed, size = _size(day - 1, days, members), _size(day, days, members)
        plan = {"committed_members": committed, "prepared_members": size, "leaving_members": leaving}
        details = json.dumps(
            {
                "dry_run": False,
                "full_resync": False,
                "window_start": (as_of - dt.timedelta(days=1)).isoformat(),
                "window_end": as_of.isoformat(),
                "identity": {"invalid_identifiers": {"email": 3, "phone": 7}, "quarantined": 2, "prepared": size},
                "plan": plan | {"add_members": size - committed + leaving, "remove_members": leaving},
                "folded": None,
                "load_incomplete": False,
                "audience": None,
            }
        )
        for slug in slugs:
            for destination_id, kind in destinations:
                yield {
                    "behavior": slug,
                    "destination_id": destination_id,
                    "destination_type": kind,
                    "connection_id": f"{kind}_default",
                    "run_id": f"scheduled__{as_of:%Y-%m-%d}",
                    "status": "success",
                    "message": "sent rows",
                    "started_at": as_of + dt.timedelta(hours=6),
                    "finished_at": as_of + dt.timedelta(hours=6, seconds=42),
                    "details": details,
                    "adds": 3 * (size - committed + leaving),
                    "removes": 3 * leaving,
                    "audience_size": size,
                    "match_rate": 0.6,
                    "durations": '{"plan": 1.5, "load": 30.0}',
                    "errors": "[]",
                }


def _states(
    folder: Path, slugs: list[str], destinations: list[tuple[str, str]], days: int, members: int
) -> Iterator[dict[str, Any]]:
    """A committed state per pair: members and first-seen files (no rows file: the page never reads it)."""
    from behavior_sync.parquet_io import write_table
    from behavior_sync.sync.state import STATE_MEMBERS_SCHEMA, STATE_SINCE_SCHEMA, since_uri

    runs = [f"scheduled__{END.replace(hour=0) - dt.timedelta(days=days - 1 - d):%Y-%m-%d}" for d in range(days)]
    for i, slug in enumerate(slugs):
        for j, (destination_id, _) in enumerate(destinations):
            start = (i * 7_919 + j * 97) % (POPULATION - members)
            keys = pa.array([f"c{k:07d}" for k in range(start, start + members)], pa.string())
            uri = f"{folder}/states/{slug}/{destination_id}/v000730-run.parquet"
            members_uri = uri.removesuffix(".parquet") + ".members.parquet"
            write_table(members_uri, pa.table([keys, pa.nulls(members, pa.uint64())], schema=STATE_MEMBERS_SCHEMA))
            since = pa.array([runs[k % days] for k in range(members)], pa.string())
            write_table(since_uri(uri), pa.table([keys, since], schema=STATE_SINCE_SCHEMA))
            yield {
                "behavior": slug,
                "destination_id": destination_id,
                "version": days,
                "uri": uri,
                "members": members,
                "rows": 3 * members,
                "run_id": runs[-1],
                "members_uri": members_uri,
                "committed_at": END,
            }


def run(behaviors: int, days: int, members: int, repeat: int, url: str | None = None) -> dict[str, Any]:
    """Seeds, then times every route: ``{"seed_s", "parse_s", "routes": {name: {"first_ms", "median_ms", "bytes"}}}``.

    The app's dependency overrides and ``BEHAVIOR_SYNC_BEHAVIORS_DIR`` are restored afterwards.
    """
    from behavior_sync_airflow.ui import app

    folder_before = os.environ.get("BEHAVIOR_SYNC_BEHAVIORS_DIR")
    with tempfile.TemporaryDirectory(prefix="bsync_dash_bench_") as tmp:
        started = time.perf_counter()
        url, slugs = prepare(Path(tmp), behaviors, days, members, url)
        seeded = time.perf_counter() - started
        os.environ["BEHAVIOR_SYNC_BEHAVIORS_DIR"] = tmp
        try:
            parse, routes = _time_routes(app, url, slugs, repeat)
        finally:
            app.app.dependency_overrides.clear()
            os.environ.pop("BEHAVIOR_SYNC_BEHAVIORS_DIR")
            if folder_before is not None:
                os.environ["BEHAVIOR_SYNC_BEHAVIORS_DIR"] = folder_before
    return {
        "behaviors": behaviors,
        "days": days,
        "members": members,
        "seed_s": seeded,
        "parse_s": parse,
        "routes": routes,
    }


def _time_routes(app: Any, url: str, slugs: list[str], repeat: int) -> tuple[float, dict[str, dict[str, float]]]:
    """Seconds the behavior files take to parse, and each route's times, for a user who may read every DAG."""
    from behavior_sync.config import dag_id_for
    from tests.ui.test_api import client_for

    client = client_for(url, readable=app.ReadableDags(frozenset(dag_id_for(s) for s in slugs), every=True))
    del app.app.dependency_overrides[app.behaviors]  # the page's own loading (parsed once, then on change)
    client.get("/api/history?behavior=behavior_000&destination=meta")  # migrates the DB, warms the templates
    t0 = time.perf_counter()
    app.behaviors()  # the first request after a start or a change of the behavior files parses them all
    parse = time.perf_counter() - t0
    return parse, {name: _time(client, route, repeat) for name, route in ROUTES.items()}


def _time(client: Any, route: str, repeat: int) -> dict[str, float]:
    seconds = []
    for _ in range(repeat + 1):
        t0 = time.perf_counter()
        response = client.get(route)
        seconds.append(time.perf_counter() - t0)
        assert response.status_code == 200, response.text
    return {
        "first_ms": seconds[0] * 1000,
        "median_ms": statistics.median(seconds[1:]) * 1000,
        "bytes": len(response.content),
    }


def report(r: dict[str, Any]) -> str:
    """The markdown report of the page benchmark."""
    rows = r["behaviors"] * 5 * r["days"]
    lines = [
        "# Behavior Sync page benchmark: pages and JSON at scale",
        "",
        f"{r['behaviors']} behaviors x 5 destinations x {r['days']} daily runs = {rows:,} history rows (each with plan",
        f"counts and data window), one committed state per pair of {r['members']:,} members (first-seen files),",
        f"seeded in {r['seed_s']:.0f} s. Each route through the app in-process: the first request (the overlap",
        "matrix cold: it is cached per set of state files) and the median of the next ones. The behavior files are",
        f"parsed before (the first request after a start or a change of a file pays it: {r['parse_s'] * 1000:.0f} ms",
        f"for {r['behaviors']} files).",
        "",
        "| route | first (ms) | median (ms) | bytes | target |",
        "|---|---|---|---|---|",
    ]
    for name, t in r["routes"].items():
        worst = max(t["first_ms"], t["median_ms"]) / 1000
        mark = "meets" if worst < TARGET_S else "ABOVE target"
        lines.append(f"| {name} | {t['first_ms']:.0f} | {t['median_ms']:.0f} | {t['bytes']:,} | < 1 s: {mark} |")
    return "\n".join([*lines, ""])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--behaviors", type=int, default=500)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--members", type=int, default=20_000, help="members of each committed state")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--state-url", help="state database URL (default: a new SQLite file)")
    args = parser.parse_args()
    print(report(run(args.behaviors, args.days, args.members, args.repeat, args.state_url)))


if __name__ == "__main__":
    main()
