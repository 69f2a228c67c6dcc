"""``python -m tests.bench.dashboard_bench [--behaviors 50] [--days 365]``: Behavior Sync page render times.

Seeds a SQLite state DB with ``days`` daily runs for ``behaviors`` behaviors x 4 destinations (50 x 4 x 365 =
73,000 rows; behavior files are copies of value_hunters.yaml, so a 5th destination has no history), then
times the overview page, the overview API, a detail page and the history API through the app in-process
(login replaced by a no-op, as in tests/ui/test_api.py). Prints the median of ``--repeat`` requests each.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from tests.support.sync_history import daily_runs, seed

DESTINATIONS = ("meta", "google_ads", "hubspot_list", "clevertap")
ROUTES = {
    "overview page": "/",
    "overview API": "/api/overview",
    "detail page": "/detail?behavior=behavior_00&destination=meta",
    "history API": "/api/history?behavior=behavior_00&destination=meta",
}


def prepare(folder: Path, behaviors: int, days: int) -> str:
    """Behavior files and a seeded state DB in ``folder``; returns the state DB URL."""
    os.environ.setdefault("BEHAVIOR_SYNC_PROJECT_DIR", str(Path(__file__).resolve().parents[2]))
    from behavior_sync.paths import behaviors_dir

    template = (behaviors_dir() / "value_hunters.yaml").read_text()
    slugs = [f"behavior_{i:02d}" for i in range(behaviors)]
    for slug in slugs:
        (folder / f"{slug}.yaml").write_text(template)
    url = f"sqlite:///{folder}/state.db"
    seed(url, (r for slug in slugs for d in DESTINATIONS for r in daily_runs(slug, d, days)))
    return url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--behaviors", type=int, default=50)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bsync_dash_bench_") as tmp:
        started = time.perf_counter()
        url = prepare(Path(tmp), args.behaviors, args.days)
        rows = args.behaviors * len(DESTINATIONS) * args.days
        print(f"seeded {rows:,} rows in {time.perf_counter() - started:.1f} s")
        from tests.ui.test_api import client_for

        client = client_for(url, behaviors_folder=Path(tmp))
        client.get("/")  # first request migrates the state DB and warms the template cache
        for name, route in ROUTES.items():
            seconds = []
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                response = client.get(route)
                seconds.append(time.perf_counter() - t0)
                assert response.status_code == 200, response.text
            print(f"{name:14} median {statistics.median(seconds) * 1000:7.1f} ms  ({len(response.content):,} bytes)")


if __name__ == "__main__":
    main()
