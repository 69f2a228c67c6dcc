"""Campaign performance in the state database: idempotent storage of read-backs, the read model's ratios
checked against hand-computed figures (tests/fixtures/performance/three_pairs.json), and the CLI export."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from behavior_sync.performance import performance_by_behavior
from behavior_sync.performance_cli import render
from behavior_sync.performance_store import DailyFigures, ReadWindow, replace_range, stored_figures
from behavior_sync.statedb import StateDatabase
from tests.support.performance_rows import FIXTURE, PERIOD, STORED, figures, seed_fixture, target


@pytest.fixture()
def db(tmp_path: Path) -> Iterator[StateDatabase]:
    database = StateDatabase(f"sqlite:///{tmp_path}/state.db")
    database.ensure_schema()
    yield database
    database.close()


def test_reading_a_window_again_replaces_it_and_leaves_other_days_alone(db: StateDatabase) -> None:
    meta = target("value_hunters", "meta", "meta")
    rows = figures(FIXTURE["pairs"][0]["rows"])
    assert replace_range(db, meta, STORED, rows, "run-1") == 4
    assert replace_range(db, meta, STORED, rows, "run-2") == 4  # the same read again: the same rows, once
    assert stored_figures(db, "value_hunters", "meta", STORED) == sorted(
        rows, key=lambda f: (f.day, f.object_type, f.object_id)
    )
    # A later read of 11-01..11-02 where ad set 2 no longer uses the audience and ad set 1 was restated.
    later = ReadWindow(dt.date(2026, 11, 1), dt.date(2026, 11, 2))
    restated = [f for f in rows if later.holds(f.day) and f.object_id == "1"]
    restated = [DailyFigures(**{**f.__dict__, "conversions": 3.0}) for f in restated]
    assert replace_range(db, meta, later, restated, "run-3") == 2
    kept = stored_figures(db, "value_hunters", "meta", STORED)
    assert [(f.day.isoformat(), f.object_id, f.conversions) for f in kept] == [
        ("2026-10-31", "1", 9.0),  # outside the later window: untouched
        ("2026-11-01", "1", 3.0),
        ("2026-11-02", "1", 3.0),
    ]


def test_a_figure_outside_the_window_is_refused_and_nothing_is_written(db: StateDatabase) -> None:
    meta = target("value_hunters", "meta", "meta")
    narrow = ReadWindow(dt.date(2026, 11, 1), dt.date(2026, 11, 1))
    with pytest.raises(ValueError, match="behavior value_hunters, destination meta"):
        replace_range(db, meta, narrow, figures(FIXTURE["pairs"][0]["rows"]), "run-1")
    assert stored_figures(db, "value_hunters", "meta", STORED) == []


def test_the_read_model_derives_ctr_cpa_roas_and_email_rates_as_computed_by_hand(db: StateDatabase) -> None:
    seed_fixture(db)
    report = performance_by_behavior(db, *PERIOD).as_json()
    pairs = {(p["behavior"], p["destination_id"]): p for p in report["pairs"]}
    assert list(pairs) == [("trend_followers", "meta"), ("value_hunters", "hubspot_list"), ("value_hunters", "meta")]
    for expected in FIXTURE["pairs"]:
        pair = pairs[expected["behavior"], expected["destination_id"]]
        assert pair["objects"] == expected["objects"] and pair["currency"] == "USD"
        assert {k: pair["totals"][k] for k in expected["totals"]} == expected["totals"]
        daily = {d["day"]: d for d in pair["daily"]}
        assert set(daily) == set(expected["daily"])
        for day, values in expected["daily"].items():
            assert {k: daily[day][k] for k in values} == values


def test_the_read_model_shows_only_the_behaviors_asked_for(db: StateDatabase) -> None:
    seed_fixture(db)
    report = performance_by_behavior(db, *PERIOD, behaviors={"trend_followers"})
    assert [(p.behavior, p.destination_id) for p in report.pairs] == [("trend_followers", "meta")]
    assert performance_by_behavior(db, *PERIOD, behaviors=set()).pairs == ()
    with pytest.raises(ValueError, match="since"):
        performance_by_behavior(db, PERIOD[1], PERIOD[0])


def test_the_cli_export_as_csv_and_table(db: StateDatabase) -> None:
    seed_fixture(db)
    report = performance_by_behavior(db, *PERIOD)
    daily = list(csv.DictReader(io.StringIO(render(report, "csv"))))
    assert len(daily) == 5 and daily[0]["behavior"] == "trend_followers" and daily[0]["day"] == "2026-11-02"
    totals = list(csv.DictReader(io.StringIO(render(report, "csv", daily=False))))
    hubspot = next(r for r in totals if r["destination_id"] == "hubspot_list")
    assert (hubspot["day"], hubspot["open_rate"], hubspot["roas"], hubspot["sent"]) == ("", "0.333333", "", "300")
    assert json.loads(render(report, "json")) == report.as_json()
    table = render(report, "table")
    lines = {line.split()[0] + "/" + line.split()[1]: line for line in table.splitlines()[3:]}
    assert sorted(lines) == ["trend_followers/meta", "value_hunters/hubspot_list", "value_hunters/meta"]
    assert "1.57%" in lines["value_hunters/meta"] and "33.33%" in lines["value_hunters/hubspot_list"]
