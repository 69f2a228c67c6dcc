"""Demo behaviors syncing into the Meta sandbox through whole DAG runs (dag.test()), and the Meta connection.

The connection ``meta_default`` comes from an AIRFLOW_CONN_ variable pointing at a sandbox on an
ephemeral port; the load task uses the real facebook-business SDK over HTTP.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from behavior_sync.statedb import StateDatabase
from behavior_sync.sync.objects import DestinationObjects
from behavior_sync.sync.state import StateStore
from tests.dags.helpers import history, load_dag, states
from tests.support.meta_harness import ACCOUNT, TOKEN, MetaHarness, meta_starter

WEEK1 = dt.datetime(2026, 11, 23, tzinfo=dt.UTC)


def meta_connection(host: str | None, token: str = TOKEN) -> str:
    """An AIRFLOW_CONN_ value of type meta_ads."""
    return json.dumps(
        {"conn_type": "meta_ads", "host": host, "password": token, "extra": {"ad_account_id": f"act_{ACCOUNT}"}}
    )


KNOWN_SHARE = 0.5  # the matching sandbox knows about half of all people (by digest)


@contextmanager
def meta_sandbox_env(
    run_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **overrides: object
) -> Iterator[MetaHarness]:
    """A Meta sandbox (``overrides``: its config) as ``meta_default``, a fresh state DB and artifacts folder."""
    monkeypatch.setenv(
        "AIRFLOW_CONN_SYNC_STATE_DEFAULT",
        json.dumps({"conn_type": "sync_state", "extra": {"url": f"sqlite:///{tmp_path}/state.db"}}),
    )
    monkeypatch.setenv("AIRFLOW_VAR_BEHAVIOR_SYNC_ARTIFACTS_BASE", str(tmp_path / "artifacts"))
    run_env["state"], run_env["artifacts"] = f"sqlite:///{tmp_path}/state.db", str(tmp_path / "artifacts")
    with meta_starter() as start:
        sandbox = start(**overrides)
        monkeypatch.setenv("AIRFLOW_CONN_META_DEFAULT", meta_connection(sandbox.base_url))
        yield sandbox


@pytest.fixture()
def meta_env(run_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[MetaHarness]:
    """A Meta sandbox as ``meta_default``, a fresh state DB and artifacts folder."""
    with meta_sandbox_env(run_env, tmp_path, monkeypatch) as sandbox:
        yield sandbox


@pytest.fixture()
def matching_meta_env(
    run_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[MetaHarness]:
    """Like ``meta_env``, with a sandbox that matches only the people it knows (``KNOWN_SHARE``)."""
    with meta_sandbox_env(run_env, tmp_path, monkeypatch, known_share=KNOWN_SHARE) as sandbox:
        yield sandbox


def sync_meta(behavior: str, when: dt.datetime) -> object:
    return load_dag(f"behavior__{behavior}").test(logical_date=when, run_conf={"destinations": ["meta"]})


@pytest.mark.slow
def test_a_demo_behavior_fills_its_meta_audience_and_history_records_its_size(
    meta_env: MetaHarness, run_env: dict[str, str]
) -> None:
    dag_run = sync_meta("value_hunters", WEEK1)
    assert states(dag_run)["meta.load"] == "success" and states(dag_run)["meta.record"] == "success"
    (record,) = [r for r in history(run_env, "value_hunters") if r.destination_id == "meta"]
    db = StateDatabase(run_env["state"])
    try:
        stored = DestinationObjects(db).recall("value_hunters", "meta", "audience")
        state = StateStore(db, run_env["artifacts"]).current("value_hunters", "meta")
    finally:
        db.close()
    assert stored is not None and state is not None
    held = meta_env.members(stored.object_id)
    assert record.status == "success" and record.acknowledged == record.adds == state.rows
    assert (record.audience_id, record.audience_name) == (stored.object_id, "[Behavior] - Value Hunters")
    assert len(held) == state.members >= 100 and record.audience_size is not None
    assert record.audience_size <= len(held) <= record.details["audience"]["size_upper_bound"]
    assert {"EMAIL", "PHONE", "FN", "LN", "ZIP", "COUNTRY"} <= {key for row in held for key in row}


@pytest.mark.slow
def test_a_meta_segment_below_100_members_pauses_then_resumes_by_itself(
    meta_env: MetaHarness, run_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from behavior_sync.demo_warehouse import generate_demo_warehouse

    small = tmp_path / "small.duckdb"
    generate_demo_warehouse(small, seed=7, as_of=WEEK1.date(), customers=300)
    monkeypatch.setenv(
        "AIRFLOW_CONN_WAREHOUSE_DEFAULT", json.dumps({"conn_type": "warehouse", "extra": {"url": f"duckdb:///{small}"}})
    )
    paused = sync_meta("quality_enthusiasts", WEEK1)
    (record,) = [r for r in history(run_env, "quality_enthusiasts") if r.run_id == paused.run_id]  # type: ignore[attr-defined]
    assert record.status == "paused_too_small" and "below the minimum of 100" in record.message
    assert meta_env.state()["audiences"] == [] and states(paused)["meta.load"] == "skipped"
    monkeypatch.setenv(
        "AIRFLOW_CONN_WAREHOUSE_DEFAULT",
        json.dumps({"conn_type": "warehouse", "extra": {"url": f"duckdb:///{run_env['warehouse']}"}}),
    )
    resumed = sync_meta("quality_enthusiasts", WEEK1 + dt.timedelta(hours=1))
    (record,) = [r for r in history(run_env, "quality_enthusiasts") if r.run_id == resumed.run_id]  # type: ignore[attr-defined]
    assert record.status == "success" and record.audience_size and len(meta_env.state()["audiences"]) == 1


def test_the_hook_reads_the_connection_and_tests_token_and_account(
    meta_env: MetaHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    from behavior_sync.destinations.meta_errors import MetaError
    from behavior_sync_airflow.hooks.destinations import MetaAdsHook

    credentials = MetaAdsHook().credentials()
    assert (credentials.ad_account_id, credentials.base_url) == (f"act_{ACCOUNT}", meta_env.base_url)
    assert TOKEN not in repr(credentials)
    assert MetaAdsHook().test_connection() == (True, f"the token can read ad account act_{ACCOUNT}")
    monkeypatch.setenv("AIRFLOW_CONN_META_DEFAULT", meta_connection(meta_env.base_url, token="expired-token-123"))
    ok, message = MetaAdsHook().test_connection()
    assert not ok and "code 190" in message and "expired-token-123" not in message
    monkeypatch.setenv("AIRFLOW_CONN_META_DEFAULT", meta_connection("https://graph.example.net"))
    with pytest.raises(MetaError, match="may only point at the local sandbox"):
        MetaAdsHook().credentials()
    monkeypatch.setenv("AIRFLOW_CONN_META_DEFAULT", meta_connection(None))
    assert MetaAdsHook().credentials().base_url is None  # Meta's own Graph URL


@pytest.mark.slow
def test_history_records_the_runs_meta_match_rate_like_googles_and_a_stuck_session_as_pending(
    matching_meta_env: MetaHarness, run_env: dict[str, str]
) -> None:
    first = sync_meta("value_hunters", WEEK1)
    db = StateDatabase(run_env["state"])
    try:
        stored = DestinationObjects(db).recall("value_hunters", "meta", "audience")
    finally:
        db.close()
    assert stored is not None
    (session,) = [dict(s.export_all_data()) for s in matching_meta_env.audience(stored.object_id).get_sessions()]
    matching_meta_env.control(f"audiences/{stored.object_id}/sessions_stuck", {"stuck": True})
    stuck = load_dag("behavior__value_hunters").test(
        logical_date=WEEK1 + dt.timedelta(days=7), run_conf={"destinations": ["meta"], "full_resync": True}
    )
    records = {r.run_id: r for r in history(run_env, "value_hunters") if r.destination_id == "meta"}

    matched, received = int(session["num_matched"]), int(session["num_received"])
    first_record = records[first.run_id]
    assert 0 < matched < received and first_record.match_rate == pytest.approx(matched / received)
    assert first_record.details["processing"]["match_rate"] == first_record.match_rate  # where Google's is
    assert f"Meta matched {matched} of {received} rows" in first_record.message
    stuck_record = records[stuck.run_id]
    assert states(stuck)["meta.record"] == "success" and stuck_record.match_rate is None  # pending, not 0
    assert stuck_record.details["processing"]["pending_sessions"] == 1
    assert "Meta's match rate is pending: 1 upload session(s) still uploading" in stuck_record.message
