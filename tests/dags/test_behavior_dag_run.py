"""Whole behavior DAGs run with dag.test(): real Airflow, real DuckDB, real Parquet and history.

Extraction, identifier validation (with the quality gate), preparation and planning run for real; Meta,
HubSpot (lists and properties), Google (Data Manager API) and CleverTap load into their sandboxes
(``run_env``). A destination type without a loader would end SKIPPED with a "not implemented" message
and history ``not_implemented``: never a fake success.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from behavior_sync.artifacts import RunArtifacts
from tests.dags.helpers import history, load_dag, states

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
AS_OF = dt.date(2026, 11, 23)
LOGICAL = dt.datetime(2026, 11, 23, tzinfo=dt.UTC)


def direct_count(run_env: dict[str, str], sql_file: str, end: dt.datetime) -> int:
    from behavior_sync.runs import resolve_window
    from behavior_sync.warehouse import iter_record_batches

    params = resolve_window(None, end, end, "@daily").sql_params()
    sql = (ROOT / sql_file).read_text()
    return sum(b.num_rows for b in iter_record_batches(f"duckdb:///{run_env['warehouse']}", sql, params))


def test_scheduled_run_loads_every_destination_into_its_sandbox(
    run_env: dict[str, str],
) -> None:
    dag = load_dag("behavior__value_hunters")
    dag_run = dag.test(logical_date=LOGICAL)
    groups = ["meta", "google_ads", "hubspot_list", "hubspot_property", "clevertap"]
    expected = {"extract": "success", "validate": "success", "reconcile": "success", "prepare": "success"}
    expected |= {f"{g}.plan": "success" for g in groups}
    expected |= {f"{g}.{s}": "success" for g in groups for s in ("load", "commit")}
    expected |= {"google_ads.wait": "success"}
    expected |= {f"{g}.record": "success" for g in groups}
    assert states(dag_run) == expected
    assert str(dag_run.state) == "success"

    snapshot = RunArtifacts(run_env["artifacts"], "value_hunters", dag_run.run_id).snapshot_uri
    table = pq.read_table(snapshot)
    rows = direct_count(run_env, "include/sql/behaviors/value_hunters.sql", LOGICAL)
    assert table.num_rows == rows > 50
    assert {"customer_id", "email", "phone", "consent_ads"} <= set(table.column_names)
    assert str(table.schema.field("customer_id").type) == "int64"

    records = {r.destination_id: r for r in history(run_env, "value_hunters") if r.run_id == dag_run.run_id}
    assert sorted(records) == sorted(groups)
    artifacts = RunArtifacts(run_env["artifacts"], "value_hunters", dag_run.run_id)
    members = pq.read_table(f"{artifacts.identity_dir}/identities.parquet")
    assert members.num_rows == len(set(table.column("customer_id").to_pylist()))
    assert records["meta"].status == "success" and records["meta"].audience_size
    hubspot = records["hubspot_list"]
    assert hubspot.status == "success" and hubspot.audience_name == "BEH - Value Hunters - 2026-11-23"
    assert hubspot.audience_size == hubspot.acknowledged == hubspot.adds  # a new list: every member added
    assert records["hubspot_property"].status == "success"
    assert records["hubspot_property"].acknowledged == records["hubspot_property"].adds
    for record in records.values():
        assert record.extracted_rows == rows
        assert record.adds == record.details["plan"]["add_rows"] > 0 and record.removes == 0
        assert record.details["window_end"] == LOGICAL.isoformat()
        identity = record.details["identity"]
        assert identity["members"] == members.num_rows and identity["quality_gate"]["success"] is True
        prepared = pq.read_table(artifacts.prepared_uri(record.destination_id))
        assert prepared.column_names == ["member_key", "id_type", "value"]
        assert identity["prepared"]["rows"] == prepared.num_rows > 0
        assert identity["usable"] + identity["quarantined"] == members.num_rows
    xcom = dag_run.get_task_instance("extract").xcom_pull(task_ids="extract")
    assert set(xcom) == {"snapshot_uri", "rows", "bytes", "seconds", "window_start", "window_end"}


def test_manual_run_without_logical_date_syncs_only_the_chosen_destinations(run_env: dict[str, str]) -> None:
    dag = load_dag("behavior__comfort_seekers")
    dag_run = dag.test(logical_date=None, run_conf={"destinations": ["meta"], "dry_run": True})
    assert dag_run.logical_date is None
    result = states(dag_run)
    assert result["extract"] == "success"
    assert result["meta.record"] == "success" and result["hubspot_property.record"] == "skipped"
    (record,) = [r for r in history(run_env, "comfort_seekers") if r.run_id == dag_run.run_id]
    assert record.destination_id == "meta" and record.details["dry_run"] is True and record.status == "dry_run"
    assert record.adds == record.details["plan"]["add_rows"] > 0
    assert dt.datetime.fromisoformat(record.details["window_end"]) - dt.datetime.fromisoformat(
        record.details["window_start"]
    ) == dt.timedelta(days=1)


def test_failed_extract_fails_the_run_history_says_failed_and_the_failure_notifiers_are_called(
    run_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    behaviors = tmp_path / "behaviors"
    behaviors.mkdir()
    (behaviors / "missing_table.yaml").write_text(
        "name: Missing table\nretries: 0\nquery: tests/fixtures/sql/members_in_window.sql\nmember_key: customer_id\n"
        "identifiers: {email: email}\ndestinations: [{type: meta}]\n"
        "notifications: {on_failure: [{notifier: 'tests.support.notifier:RECORDER'}]}\n"
    )
    monkeypatch.setenv("BEHAVIOR_SYNC_BEHAVIORS_DIR", str(behaviors))
    monkeypatch.setenv("BSYNC_TEST_NOTIFY_FILE", str(tmp_path / "notified.txt"))
    dag_run = load_dag("behavior__missing_table").test(logical_date=LOGICAL)
    assert str(dag_run.state) == "failed"
    assert states(dag_run)["extract"] == "failed" and states(dag_run)["meta.record"] == "failed"
    (record,) = [r for r in history(run_env, "missing_table") if r.run_id == dag_run.run_id]
    assert record.status == "failed" and "extract did not complete" in record.message
    notified = (tmp_path / "notified.txt").read_text().splitlines()
    assert sorted(notified) == ["behavior__missing_table extract", "behavior__missing_table meta.record"]
