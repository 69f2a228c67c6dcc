"""``python -m behavior_sync health``: the health views as tables and as the page API's JSON, from the run function
(``health_cli.run_health``) the CLI dispatches to."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from behavior_sync.health_cli import register, run_health
from tests.support.health_fixtures import HealthFixture
from tests.unit.test_health import W1, W4, weekly_churn


@pytest.fixture()
def fixture(tmp_path: Path) -> Iterator[HealthFixture]:
    made = HealthFixture(tmp_path, f"sqlite:///{tmp_path}/state.db")
    yield made
    made.db.close()


def health(fixture: HealthFixture, capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """The output of ``health <argv> --state-url <fixture's>`` (its summary window ends at W4)."""
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    args = parser.parse_args(["health", *argv, "--state-url", fixture.url])
    assert run_health(args, now=W4) == 0
    return capsys.readouterr().out


def as_json(fixture: HealthFixture, capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    return json.loads(health(fixture, capsys, *argv, "--json"))


def test_summary_gives_growth_and_churn_per_destination(
    fixture: HealthFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    weekly_churn(fixture)
    body = as_json(fixture, capsys, "summary", "--window-days", "14")
    assert (body["as_of"], body["window_days"], body["window_start"]) == (
        "2026-11-23T00:00:00+00:00",
        14,
        "2026-11-09T00:00:00+00:00",
    )
    (meta,) = body["destinations"]
    assert {k: meta[k] for k in ("size", "runs", "growth_rate", "churn_rate", "entries", "exits")} == {
        "size": 4,
        "runs": 2,
        "growth_rate": 0.0,
        "churn_rate": 0.75,
        "entries": 3,
        "exits": 3,
    }
    table = health(fixture, capsys, "summary", "--window-days", "14")
    assert "value_hunters  meta" in table and "0.750" in table and "2026-11-23" in table


def test_pair_lists_each_synced_run_and_the_membership_age(
    fixture: HealthFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    weekly_churn(fixture)
    argv = ("pair", "--behavior", "value_hunters", "--destination", "meta")
    body = as_json(fixture, capsys, *argv)
    assert [(p["as_of"][:10], p["size"], p["entries"], p["exits"]) for p in body["points"]] == [
        ("2026-11-02", 4, 4, 0),
        ("2026-11-09", 5, 2, 1),
        ("2026-11-23", 4, 1, 2),
    ]
    assert body["membership_age"]["median_days"] == 14.0
    lines = health(fixture, capsys, *argv).splitlines()
    assert lines[2].split() == ["2026-11-02", "r1", "4", "4", "0"]
    assert lines[3].split() == ["2026-11-09", "r2", "5", "2", "1", "0.250", "0.250"]
    assert ["age", "1-4", "weeks", "3"] in [line.split() for line in lines]


def test_overlap_compares_the_behaviors_in_a_scope(fixture: HealthFixture, capsys: pytest.CaptureFixture[str]) -> None:
    fixture.sync("value_hunters", "meta", "r1", ["m1", "m2", "m3", "m4"], W1)
    fixture.sync("value_hunters", "hubspot_list", "r1", ["m5"], W1)
    fixture.sync("trend_followers", "meta", "r1", ["m3", "m4", "m5", "m6"], W1)
    every = as_json(fixture, capsys, "overlap")
    assert (every["behaviors"], every["shared"], every["jaccard"][0][1]) == (
        ["trend_followers", "value_hunters"],
        [[4, 3], [3, 5]],
        0.5,
    )
    meta = as_json(fixture, capsys, "overlap", "--scope", "meta")
    assert (meta["sizes"], meta["jaccard"][0][1]) == ([4, 4], 2 / 6)
    one = as_json(fixture, capsys, "overlap", "--behavior", "value_hunters")
    assert one["behaviors"] == ["value_hunters"]
    assert health(fixture, capsys, "overlap").splitlines()[2].split() == [
        "trend_followers",
        "value_hunters",
        "3",
        "0.500",
    ]


def test_an_empty_state_database_says_so(fixture: HealthFixture, capsys: pytest.CaptureFixture[str]) -> None:
    assert health(fixture, capsys, "summary").strip() == "no committed state yet"
