"""The Behavior Sync page's read models (core, no Airflow): overview, pair history, rejections, statuses."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from behavior_sync.config import load_behaviors
from behavior_sync.dashboard import (
    STATUS_VIEWS,
    next_run,
    overview,
    pair_history,
    rejection_counts,
    run_seconds,
    status_view,
)
from behavior_sync.history import STATUSES
from behavior_sync.statedb import StateDatabase
from tests.support.sync_history import END, daily_runs, seed, seed_rejections

NOW = END + dt.timedelta(hours=1)


@pytest.fixture()
def state_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/state.db"


def test_every_history_status_has_a_product_status() -> None:
    assert set(STATUS_VIEWS) == STATUSES
    assert [status_view(s).label for s in ("success", "failed", "paused_too_small", None)] == [
        "Active",
        "Error",
        "Paused (audience too small)",
        "Never synced",
    ]


def test_next_run_follows_the_schedule() -> None:
    at = dt.datetime(2026, 11, 23, 6, 30, tzinfo=dt.UTC)
    assert next_run("@daily", at) == dt.datetime(2026, 11, 24, tzinfo=dt.UTC)
    assert next_run("15 4 * * 1", at) == dt.datetime(2026, 11, 30, 4, 15, tzinfo=dt.UTC)
    assert next_run(None, at) is None


def test_overview_of_an_empty_install_lists_the_configured_destinations(state_url: str) -> None:
    db = StateDatabase(state_url)
    db.ensure_schema()
    loaded = load_behaviors()
    pairs = overview(db, loaded.behaviors, NOW)
    assert len(pairs) == sum(len(b.destinations) for b in loaded.behaviors) > 0
    assert {p.status.label for p in pairs} == {"Never synced"}
    assert all(p.last_run is None and p.last_sync is None and p.configured for p in pairs)


def test_overview_shows_the_latest_run_and_the_latest_sync(state_url: str) -> None:
    synced = list(daily_runs("value_hunters", "meta", days=30))
    not_due = dataclasses.replace(synced[-1], run_id="manual__late", status="not_due", finished_at=NOW, adds=None)
    seed(state_url, [*synced, not_due, *daily_runs("retired_behavior", "meta", days=2)])
    db = StateDatabase(state_url)
    pairs = {(p.behavior, p.destination_id): p for p in overview(db, load_behaviors().behaviors, NOW)}
    meta = pairs["value_hunters", "meta"]
    assert (meta.status.label, meta.last_run and meta.last_run.run_id) == ("Not due", "manual__late")
    assert meta.last_sync is not None
    assert (meta.last_sync.run_id, meta.last_sync.audience_size, meta.last_sync.adds) == (
        synced[-1].run_id,
        1_290,
        synced[-1].adds,
    )
    assert meta.next_run == dt.datetime(2026, 11, 24, tzinfo=dt.UTC)
    retired = pairs["retired_behavior", "meta"]
    assert not retired.configured and retired.status.label == "Active"


def test_pair_history_is_oldest_first_and_limited(state_url: str) -> None:
    seed(state_url, [*daily_runs("value_hunters", "meta", days=10), *daily_runs("value_hunters", "google_ads", 3)])
    runs = pair_history(StateDatabase(state_url), "value_hunters", "meta", limit=4)
    assert [r.audience_size for r in runs] == [1_060, 1_070, 1_080, 1_090]
    assert run_seconds(runs[0]) == 42.0


def test_rejections_are_counted_by_vendor_code(state_url: str) -> None:
    seed(state_url, [])
    seed_rejections(state_url, "value_hunters", "meta", "r1", {"invalid_email": 3, "bad_phone": 1})
    seed_rejections(state_url, "value_hunters", "meta", "r2", {"bad_phone": 1})
    seed_rejections(state_url, "value_hunters", "hubspot_list", "r2", {"other": 5})
    counts = rejection_counts(StateDatabase(state_url), "value_hunters", "meta")
    assert [(c.code, c.op, c.rows) for c in counts] == [("invalid_email", "add", 3), ("bad_phone", "add", 2)]
