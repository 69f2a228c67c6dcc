"""The page's JSON API and HTML in-process (login and the auth manager's DAG list replaced by fixed answers;
test_live_server checks the real ones)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from behavior_sync.config import dag_id_for, load_behaviors
from behavior_sync_airflow.ui import app as ui
from tests.conftest import ROOT
from tests.support.sync_history import END

NOW = END + dt.timedelta(hours=4)
SLUGS = sorted(b.slug for b in load_behaviors().behaviors)
EVERY_DAG = ui.ReadableDags(frozenset(dag_id_for(s) for s in SLUGS), every=True)
ONE_DAG = ui.ReadableDags(frozenset({"behavior__value_hunters"}), every=False)


def client_for(
    state_url: str, behaviors_folder: Path | None = None, readable: ui.ReadableDags = EVERY_DAG
) -> TestClient:
    """A client of the app reading ``state_url`` (and behavior files from ``behaviors_folder``) for a user who
    may read ``readable``."""
    ui.app.dependency_overrides.update(
        {
            ui.authenticated: lambda: None,
            ui.readable_dags: lambda: readable,
            ui.state_url: lambda: state_url,
            ui.now: lambda: NOW,
            ui.behaviors: lambda: load_behaviors(behaviors_folder),
        }
    )
    return TestClient(ui.app)


@pytest.fixture(autouse=True)
def _reset_overrides() -> Iterator[None]:
    yield
    ui.app.dependency_overrides.clear()


def by_pair(body: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(d["behavior"], d["destination_id"]): d for d in body["destinations"]}


def test_overview_api_returns_what_history_holds(seeded_state_url: str) -> None:
    pairs = by_pair(client_for(seeded_state_url).get("/api/overview").json())
    configured = {(b.slug, d.id) for b in load_behaviors().behaviors for d in b.destinations}
    assert set(pairs) == configured
    meta = pairs["value_hunters", "meta"]
    assert (meta["status"], meta["status_label"], meta["last_run"]["run_id"]) == ("failed", "Error", "manual__failed")
    assert meta["last_run"]["errors"] == [{"code": "190", "count": 1, "message": "invalid token"}]
    sync = meta["last_sync"]
    assert (sync["run_id"], sync["audience_size"], sync["adds"], sync["removes"]) == (
        "scheduled__2026-11-23",
        1_290,
        21,
        11,
    )
    assert sync["finished_at"] == "2026-11-23T06:30:00+00:00" and sync["run_seconds"] == 42.0
    assert meta["next_run"] == "2026-11-24T00:00:00+00:00"
    assert {d["status_label"] for k, d in pairs.items() if k != ("value_hunters", "meta")} == {"Active"}


def test_history_api_returns_runs_and_rejections(seeded_state_url: str) -> None:
    client = client_for(seeded_state_url)
    body = client.get("/api/history", params={"behavior": "value_hunters", "destination": "meta"}).json()
    assert len(body["runs"]) == 31
    assert [r["audience_size"] for r in body["runs"][:2]] == [1_000, 1_010]
    assert body["runs"][-1]["status"] == "failed"
    assert body["rejections"] == [
        {"code": "invalid_email", "op": "add", "rows": 3},
        {"code": "bad_phone", "op": "add", "rows": 1},
    ]
    limited = client.get("/api/history", params={"behavior": "value_hunters", "destination": "meta", "limit": 2})
    assert [r["run_id"] for r in limited.json()["runs"]] == ["scheduled__2026-11-23", "manual__failed"]


def test_an_empty_install_answers_with_empty_history(tmp_path: Path) -> None:
    client = client_for(f"sqlite:///{tmp_path}/new-state.db")
    pairs = by_pair(client.get("/api/overview").json())
    assert pairs and all(p["last_run"] is None and p["status_label"] == "Never synced" for p in pairs.values())
    history = client.get("/api/history", params={"behavior": "value_hunters", "destination": "meta"}).json()
    assert history == {"runs": [], "rejections": []}
    assert (
        "No sync history for this behavior"
        in client.get("/detail", params={"behavior": "value_hunters", "destination": "meta"}).text
    )


def test_invalid_behavior_files_are_listed_with_their_errors(tmp_path: Path) -> None:
    (tmp_path / "Bad-Name.yaml").write_text("name: Broken\n")
    client = client_for(f"sqlite:///{tmp_path}/state.db", behaviors_folder=tmp_path)
    invalid = client.get("/api/overview").json()["invalid_files"]
    assert [f["file"] for f in invalid] == [str(tmp_path / "Bad-Name.yaml")]
    assert any("is a required property" in p["message"] for p in invalid[0]["problems"])
    assert "is a required property" in client.get("/").text


def test_pages_show_rows_links_and_charts(seeded_state_url: str) -> None:
    client = client_for(seeded_state_url)
    page = client.get("/").text
    assert page.count('class="pair"') == sum(len(b.destinations) for b in load_behaviors().behaviors)
    assert 'href="/dags/behavior__value_hunters/runs/manual__failed"' in page
    detail = client.get("/detail", params={"behavior": "value_hunters", "destination": "meta"}).text
    assert detail.count("<svg") == 3 and "<polyline" in detail
    assert "invalid_email" in detail and "token expired" in detail and "<code>190</code>" in detail


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/openapi.json", "/docs/oauth2-redirect"])
def test_fastapis_docs_and_schema_do_not_answer(seeded_state_url: str, path: str) -> None:
    assert client_for(seeded_state_url).get(path).status_code == 404


def test_a_user_sees_only_the_behaviors_whose_dag_they_may_read(seeded_state_url: str) -> None:
    client = client_for(seeded_state_url, readable=ONE_DAG)
    overview = client.get("/api/overview")
    assert {d["behavior"] for d in overview.json()["destinations"]} == {"value_hunters"}
    meta = {"behavior": "value_hunters", "destination": "meta"}
    assert client.get("/api/history", params=meta).status_code == 200
    assert client.get("/detail", params=meta).status_code == 200
    for slug in set(SLUGS) - {"value_hunters"}:
        assert slug not in overview.text and slug not in client.get("/").text
        pair = {"behavior": slug, "destination": "meta"}
        assert client.get("/api/history", params=pair).status_code == 403
        assert client.get("/detail", params=pair).status_code == 403
    unknown = {"behavior": "no_such_behavior", "destination": "meta"}
    assert client.get("/api/history", params=unknown).status_code == 403  # the same answer: existence not told


def test_broken_files_are_listed_only_to_a_user_who_may_read_every_dag(tmp_path: Path) -> None:
    (tmp_path / "broken_one.yaml").write_text("name: Broken\n")
    state = f"sqlite:///{tmp_path}/state.db"
    assert client_for(state, tmp_path).get("/api/overview").json()["invalid_files"] != []
    restricted = client_for(state, tmp_path, readable=ONE_DAG)
    assert restricted.get("/api/overview").json()["invalid_files"] == []
    assert "broken_one" not in restricted.get("/").text


def test_the_page_sees_behavior_files_change_without_a_restart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "behaviors"
    folder.mkdir()
    source = (ROOT / "include" / "behaviors" / "value_hunters.yaml").read_text()
    (folder / "value_hunters.yaml").write_text(source)
    monkeypatch.setenv("BEHAVIOR_SYNC_BEHAVIORS_DIR", str(folder))
    client = client_for(f"sqlite:///{tmp_path}/state.db")
    del ui.app.dependency_overrides[ui.behaviors]  # the page's own loading: parsed once, again on a change

    def names() -> set[str]:
        return {d["behavior_name"] for d in client.get("/api/overview").json()["destinations"]}

    assert names() == names() == {"Value Hunters"}
    (folder / "value_hunters.yaml").write_text(source.replace("name: Value Hunters", "name: Bargain Hunters"))
    assert names() == {"Bargain Hunters"}
    (folder / "broken.yaml").write_text("name: Broken\n")
    assert [f["file"] for f in client.get("/api/overview").json()["invalid_files"]] == [str(folder / "broken.yaml")]
