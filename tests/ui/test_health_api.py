"""Audience health on the page and its JSON API, in-process (login and the auth manager's DAG list replaced by fixed
answers, as in test_api.py): the same JSON as the CLI, figures of the seeded weekly runs, the DAG filter."""

from __future__ import annotations

import argparse
import json
from typing import Any

import pytest

from behavior_sync.health_cli import register, run_health
from tests.ui.test_api import NOW, ONE_DAG, client_for

PAIR = {"behavior": "value_hunters", "destination": "hubspot_list"}


def cli_json(state_url: str, capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    """What ``python -m behavior_sync health <argv> --json`` prints for the same state database at the page's now."""
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    capsys.readouterr()
    assert run_health(parser.parse_args(["health", *argv, "--json", "--state-url", state_url]), now=NOW) == 0
    return json.loads(capsys.readouterr().out)


def test_health_api_answers_what_the_cli_prints(seeded_state_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    client = client_for(seeded_state_url)
    summary = client.get("/api/health", params={"days": 21}).json()
    assert summary == cli_json(seeded_state_url, capsys, "summary", "--window-days", "21")
    pair = client.get("/api/health/pair", params=PAIR).json()
    assert pair == cli_json(
        seeded_state_url, capsys, "pair", "--behavior", "value_hunters", "--destination", "hubspot_list"
    )
    for scope in ("behavior", "meta"):
        body = client.get("/api/health/overlap", params={"scope": scope}).json()
        assert body == cli_json(seeded_state_url, capsys, "overlap", "--scope", scope)


def test_health_api_gives_the_weekly_runs_figures(seeded_state_url: str) -> None:
    client = client_for(seeded_state_url)
    rows = {(d["behavior"], d["destination_id"]): d for d in client.get("/api/health?days=21").json()["destinations"]}
    declining = rows["trend_followers", "meta"]  # 79 -> 76 over the last three weeks: 3 out, 2 in each week
    assert {k: declining[k] for k in ("size", "runs", "entries", "exits")} == {
        "size": 76,
        "runs": 3,
        "entries": 6,
        "exits": 9,
    }
    assert declining["growth_rate"] == pytest.approx(-3 / 79) and declining["churn_rate"] == pytest.approx(9 / 79)
    pair = client.get("/api/health/pair", params=PAIR).json()
    assert [p["size"] for p in pair["points"]] == [100, 105, 110, 115, 120]
    age = pair["membership_age"]
    assert (age["median_days"], age["unknown"], [b["members"] for b in age["buckets"][:2]]) == (28.0, 0, [10, 110])
    shared = client.get("/api/health/overlap").json()
    assert (shared["behaviors"], shared["sizes"]) == (
        ["cart_abandoners", "trend_followers", "value_hunters"],
        [100, 76, 140],
    )
    assert shared["shared"][1][2] == 76 and shared["jaccard"][1][2] == pytest.approx(76 / 140)


def test_unknown_scopes_and_bad_windows_are_refused(seeded_state_url: str) -> None:
    client = client_for(seeded_state_url)
    assert client.get("/api/health/overlap", params={"scope": "tiktok"}).status_code == 422
    assert client.get("/api/health", params={"days": 0}).status_code == 422


def test_health_page_shows_growth_churn_sizes_and_overlap(seeded_state_url: str) -> None:
    page = client_for(seeded_state_url).get("/health", params={"days": 21}).text
    assert page.count('class="health"') == 4
    assert 'title="declining">-3.8 %' in page  # trend_followers: 79 -> 76
    assert page.count("<polyline") == 3 and "<circle" in page  # one line a behavior (its largest), points marked
    assert page.count('class="num overlap"') == 9 and 'data-shared="76"' in page
    meta = client_for(seeded_state_url).get("/health", params={"scope": "meta"}).text
    assert meta.count('class="num overlap"') == 4 and "<strong>meta</strong>" in meta


def test_detail_page_shows_the_pairs_health_charts(seeded_state_url: str) -> None:
    detail = client_for(seeded_state_url).get("/detail", params=PAIR).text
    assert 'aria-label="Membership age"' in detail and 'aria-label="Entries and exits per run"' in detail
    assert "120 members committed" in detail and "Median membership age: 28 days" in detail


def test_a_user_sees_the_health_of_the_behaviors_whose_dag_they_may_read_only(seeded_state_url: str) -> None:
    client = client_for(seeded_state_url, readable=ONE_DAG)
    summary = client.get("/api/health").json()
    assert {d["behavior"] for d in summary["destinations"]} == {"value_hunters"}
    assert client.get("/api/health/pair", params=PAIR).status_code == 200
    assert (
        client.get("/api/health/pair", params={"behavior": "trend_followers", "destination": "meta"}).status_code == 403
    )
    assert client.get("/api/health/overlap").json()["behaviors"] == ["value_hunters"]
    assert client.get("/api/health/overlap", params={"behavior": "trend_followers"}).status_code == 403
    page = client.get("/health").text
    assert "value_hunters" in page and "trend_followers" not in page and "cart_abandoners" not in page
