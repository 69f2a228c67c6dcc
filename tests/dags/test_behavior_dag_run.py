"""Whole behavior DAGs run with dag.test(): real Airflow, real DuckDB, real Parquet and history.

Extraction, identifier validation (with the quality gate) and preparation run for real. Until
planning and the destinations land, their tasks must end SKIPPED with a "not implemented" message and
history must say ``not_implemented``: never a fake success.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from behavior_sync.artifacts import RunArtifacts
from behavior_sync.history import HistoryStore, SyncRecord

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
AS_OF = dt.date(2026, 11, 23)
LOGICAL = dt.datetime(2026, 11, 23, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def run_env(airflow_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A small demo warehouse, a state DB and an artifacts folder, wired through AIRFLOW_CONN_/AIRFLOW_VAR_ env vars."""
    from behavior_sync.demo_warehouse import generate_demo_warehouse

    folder = tmp_path_factory.mktemp("run_env")
    warehouse = folder / "warehouse.duckdb"
    generate_demo_warehouse(warehouse, seed=7, as_of=AS_OF, customers=3_000)
    env = {
        "AIRFLOW_CONN_WAREHOUSE_DEFAULT": json.dumps(
            {"conn_type": "warehouse", "extra": {"url": f"duckdb:///{warehouse}", "batch_rows": 1000}}
        ),
        "AIRFLOW_CONN_SYNC_STATE_DEFAULT": json.dumps(
            {"conn_type": "sync_state", "extra": {"url": f"sqlite:///{folder}/state.db"}}
        ),
        "AIRFLOW_VAR_BEHAVIOR_SYNC_ARTIFACTS_BASE": str(folder / "artifacts"),
    }
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        yield {
            "warehouse": str(warehouse),
            "state": f"sqlite:///{folder}/state.db",
            "artifacts": str(folder / "artifacts"),
        }


def load_dag(dag_id: str) -> Any:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(ROOT / "dags"))
    assert bag.import_errors == {}
    return bag.get_dag(dag_id)


def states(dag_run: Any) -> dict[str, str]:
    return {ti.task_id: str(ti.state) for ti in dag_run.get_task_instances()}


def history(run_env: dict[str, str], behavior: str) -> list[SyncRecord]:
    store = HistoryStore(run_env["state"])
    try:
        return store.recent(behavior=behavior, limit=100)
    finally:
        store.close()


def direct_count(run_env: dict[str, str], sql_file: str, end: dt.datetime) -> int:
    from behavior_sync.runs import resolve_window
    from behavior_sync.warehouse import iter_record_batches

    params = resolve_window(None, end, end, "@daily").sql_params()
    sql = (ROOT / sql_file).read_text()
    return sum(b.num_rows for b in iter_record_batches(f"duckdb:///{run_env['warehouse']}", sql, params))


def test_scheduled_run_extracts_validates_prepares_and_records_not_implemented_per_destination(
    run_env: dict[str, str],
) -> None:
    dag = load_dag("behavior__value_hunters")
    dag_run = dag.test(logical_date=LOGICAL)
    groups = ["meta", "google_ads", "hubspot_list", "hubspot_property", "clevertap"]
    expected = {"extract": "success", "validate": "success", "prepare": "success"}
    expected |= {f"{g}.{s}": "skipped" for g in groups for s in ("plan", "load", "commit")}
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
    for record in records.values():
        assert record.status == "not_implemented" and record.extracted_rows == rows
        assert "not built yet" in record.message and "nothing was sent" in record.message
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
    assert record.destination_id == "meta" and record.details["dry_run"] is True
    assert dt.datetime.fromisoformat(record.details["window_end"]) - dt.datetime.fromisoformat(
        record.details["window_start"]
    ) == dt.timedelta(days=1)


def test_failed_extract_fails_the_run_and_history_says_failed(
    run_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    behaviors = tmp_path / "behaviors"
    behaviors.mkdir()
    (behaviors / "missing_table.yaml").write_text(
        "name: Missing table\nretries: 0\nquery: tests/fixtures/sql/members_in_window.sql\nmember_key: customer_id\n"
        "identifiers: {email: email}\ndestinations: [{type: meta}]\n"
    )
    monkeypatch.setenv("BEHAVIOR_SYNC_BEHAVIORS_DIR", str(behaviors))
    dag_run = load_dag("behavior__missing_table").test(logical_date=LOGICAL)
    assert str(dag_run.state) == "failed"
    assert states(dag_run)["extract"] == "failed" and states(dag_run)["meta.record"] == "failed"
    (record,) = [r for r in history(run_env, "missing_table") if r.run_id == dag_run.run_id]
    assert record.status == "failed" and "extract did not complete" in record.message
