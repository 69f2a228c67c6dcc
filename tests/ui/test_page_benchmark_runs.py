"""The page benchmark (``make bench``: tests/bench/dashboard_bench.py) runs: at a tiny size every route it times
answers 200 with the history, states and behaviors it seeds, and its report has a row per route."""

from __future__ import annotations

import pytest

from tests.bench import dashboard_bench


def test_the_page_benchmark_times_every_route_of_its_seeded_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BEHAVIOR_SYNC_BEHAVIORS_DIR", raising=False)
    result = dashboard_bench.run(behaviors=3, days=5, members=50, repeat=1)
    assert set(result["routes"]) == set(dashboard_bench.ROUTES)
    assert result["routes"]["health pair API"]["bytes"] > 1_000  # five runs of points, membership age
    report = dashboard_bench.report(result)
    assert report.count("| < 1 s:") == len(dashboard_bench.ROUTES)
