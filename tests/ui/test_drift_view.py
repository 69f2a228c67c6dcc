"""Drift on the Behavior Sync page: each destination's newest read-back check in the overview (page and JSON), its
checks on the detail page, and only for the behaviors whose DAG the user may read (in-process, as test_api.py)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from behavior_sync.statedb import StateDatabase
from behavior_sync.sync.reconcile import DriftRecord, record_drift
from tests.ui.test_api import NOW, ONE_DAG, by_pair, client_for


def check(behavior: str, destination_id: str, status: str, days_ago: int, **counts: int) -> DriftRecord:
    return DriftRecord(
        behavior=behavior,
        destination_id=destination_id,
        destination_type=destination_id.split("_")[0],
        run_id=f"reconcile__{days_ago}",
        checked_at=NOW - dt.timedelta(days=days_ago),
        method="exact",
        status=status,
        message=f"{status} {days_ago} days ago",
        tolerance="exact",
        **counts,  # type: ignore[arg-type]
    )


@pytest.fixture()
def state_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path}/state.db"
    db = StateDatabase(url)
    db.ensure_schema()
    for record in (
        check("value_hunters", "hubspot_list", "in_sync", 14, committed=120, observed=120, missing=0, unexpected=0),
        check("value_hunters", "hubspot_list", "drift", 7, committed=120, observed=118, missing=3, unexpected=1),
        check("value_hunters", "meta", "in_sync", 7),
        check("trend_followers", "meta", "drift", 7, missing=9, unexpected=0),
    ):
        record_drift(db, record)
    db.close()
    return url


def test_the_overview_shows_each_destinations_newest_drift_check(state_url: str) -> None:
    client = client_for(state_url)
    pairs = by_pair(client.get("/api/overview").json())
    hubspot = pairs["value_hunters", "hubspot_list"]["drift"]
    assert (hubspot["status"], hubspot["status_label"], hubspot["missing"], hubspot["unexpected"]) == (
        "drift",
        "Drift",
        3,
        1,
    )
    assert pairs["value_hunters", "meta"]["drift"]["status_label"] == "In sync"
    assert pairs["value_hunters", "google_ads"]["drift"] is None
    page = client.get("/").text
    assert "3 missing, 1 unexpected" in page and page.count(">In sync</span>") == 1 and "not checked" in page


def test_the_detail_page_lists_the_destinations_drift_checks_newest_first(state_url: str) -> None:
    client = client_for(state_url)
    detail = client.get("/detail", params={"behavior": "value_hunters", "destination": "hubspot_list"}).text
    assert detail.count('class="drift-check"') == 2
    assert detail.index("drift 7 days ago") < detail.index("in_sync 14 days ago")
    quiet = client.get("/detail", params={"behavior": "value_hunters", "destination": "google_ads"}).text
    assert "Not checked yet" in quiet


def test_a_user_sees_the_drift_of_the_behaviors_whose_dag_they_may_read_only(state_url: str) -> None:
    client = client_for(state_url, readable=ONE_DAG)
    body = client.get("/api/overview").json()
    assert {d["behavior"] for d in body["destinations"] if d["drift"]} == {"value_hunters"}
    assert "9 missing" not in client.get("/").text
