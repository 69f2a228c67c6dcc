"""The campaign-performance router (JSON, CSV, HTML) mounted on a small FastAPI app, in-process: Airflow's
login and the auth manager's DAG list replaced by fixed answers, as in test_api; without a login it answers 401.
Figures: tests/fixtures/performance/three_pairs.json (hand-computed)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from behavior_sync.config import dag_id_for, load_behaviors
from behavior_sync.statedb import StateDatabase
from behavior_sync_airflow import ui_performance
from behavior_sync_airflow.ui import app as ui
from tests.support.performance_rows import FIXTURE, seed_fixture

NOW = dt.datetime(2026, 11, 3, 8, tzinfo=dt.UTC)  # default period: 28 days ending 2026-11-02
SLUGS = sorted(b.slug for b in load_behaviors().behaviors)
EVERY_DAG = ui.ReadableDags(frozenset(dag_id_for(s) for s in SLUGS), every=True)
ONE_DAG = ui.ReadableDags(frozenset({"behavior__value_hunters"}), every=False)


@pytest.fixture(scope="module")
def state_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('performance_ui')}/state.db"
    db = StateDatabase(url)
    db.ensure_schema()
    seed_fixture(db)
    db.close()
    return url


@pytest.fixture()
def app() -> Iterator[FastAPI]:
    mounted = FastAPI()
    mounted.include_router(ui_performance.router)
    yield mounted
    mounted.dependency_overrides.clear()


def client_for(app: FastAPI, state_url: str, readable: ui.ReadableDags = EVERY_DAG) -> TestClient:
    app.dependency_overrides.update(
        {
            ui.authenticated: lambda: None,
            ui.readable_dags: lambda: readable,
            ui.state_url: lambda: state_url,
            ui.now: lambda: NOW,
            ui.behaviors: load_behaviors,
        }
    )
    return TestClient(app)


def test_json_gives_each_readable_pair_its_totals_ratios_and_daily_series(app: FastAPI, state_url: str) -> None:
    body = client_for(app, state_url).get("/api/performance", params={"since": "2026-11-01"}).json()
    assert (body["since"], body["until"]) == ("2026-11-01", "2026-11-02")
    pairs = {(p["behavior"], p["destination_id"]): p for p in body["pairs"]}
    for expected in FIXTURE["pairs"]:
        totals = pairs[expected["behavior"], expected["destination_id"]]["totals"]
        assert {k: totals[k] for k in expected["totals"]} == expected["totals"]
    assert [d["day"] for d in pairs["value_hunters", "meta"]["daily"]] == ["2026-11-01", "2026-11-02"]
    # The default period (28 days ending yesterday) also holds 2026-10-31.
    default = client_for(app, state_url).get("/api/performance").json()
    meta = next(p for p in default["pairs"] if (p["behavior"], p["destination_id"]) == ("value_hunters", "meta"))
    assert (default["since"], meta["totals"]["impressions"]) == ("2026-10-06", 3500 + 9999)


def test_a_user_sees_only_the_behaviors_whose_dag_they_may_read(app: FastAPI, state_url: str) -> None:
    client = client_for(app, state_url, ONE_DAG)
    body = client.get("/api/performance", params={"since": "2026-11-01"}).json()
    assert {p["behavior"] for p in body["pairs"]} == {"value_hunters"}
    assert "trend_followers" not in client.get("/api/performance.csv").text
    assert "trend_followers" not in client.get("/performance").text


def test_csv_exports_a_row_per_pair_and_day_or_per_pair(app: FastAPI, state_url: str) -> None:
    client = client_for(app, state_url)
    answer = client.get("/api/performance.csv", params={"since": "2026-11-01", "until": "2026-11-02"})
    assert answer.headers["content-type"].startswith("text/csv")
    assert 'filename="behavior-sync-performance-2026-11-01-2026-11-02.csv"' in answer.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert [(r["behavior"], r["destination_id"], r["day"]) for r in rows] == [
        ("trend_followers", "meta", "2026-11-02"),
        ("value_hunters", "hubspot_list", "2026-11-01"),
        ("value_hunters", "hubspot_list", "2026-11-02"),
        ("value_hunters", "meta", "2026-11-01"),
        ("value_hunters", "meta", "2026-11-02"),
    ]
    assert (rows[3]["ctr"], rows[3]["roas"], rows[3]["open_rate"]) == ("0.016667", "5.0", "")
    totals = client.get("/api/performance.csv", params={"since": "2026-11-01", "daily": "false"}).text
    meta = next(
        r
        for r in csv.DictReader(io.StringIO(totals))
        if r["destination_id"] == "meta" and r["behavior"] == "value_hunters"
    )
    assert (meta["day"], meta["cpa"], meta["roas"], meta["conversion_rate"]) == (
        "",
        "11.666667",
        "1.666667",
        "0.054545",
    )


def test_the_page_compares_behaviors_in_tables_and_charts(app: FastAPI, state_url: str) -> None:
    page = client_for(app, state_url).get("/performance", params={"since": "2026-11-01"}).text
    assert page.count('class="pair"') == 3 and 'id="performance-ads"' in page and 'id="performance-emails"' in page
    assert "Value Hunters" in page and "1.57 %" in page and "1.67\u00d7" in page and "33.33 %" in page
    assert page.count("<svg") == 3 and "CTR by behavior" in page and "Open rate by behavior" in page
    assert 'href="/api/performance.csv?since=2026-11-01&amp;until=2026-11-02&amp;daily=false"' in page
    empty = client_for(app, state_url).get("/performance", params={"since": "2025-01-01", "until": "2025-01-02"}).text
    assert "No campaign performance was read back" in empty and "<svg" not in empty


def test_a_period_that_is_not_one_is_refused(app: FastAPI, state_url: str) -> None:
    client = client_for(app, state_url)
    assert client.get("/api/performance", params={"since": "2026-11-02", "until": "2026-11-01"}).status_code == 400
    assert client.get("/api/performance", params={"since": "2020-01-01", "until": "2026-11-01"}).status_code == 400


def test_every_route_needs_a_login(app: FastAPI) -> None:
    client = TestClient(app)
    for path in ("/performance", "/api/performance", "/api/performance.csv"):
        assert client.get(path).status_code == 401
