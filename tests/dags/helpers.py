"""Helpers of the DAG tests: load a DAG from the project's DAG folder, read task states and history."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from behavior_sync.history import HistoryStore, SyncRecord

ROOT = Path(__file__).resolve().parents[2]


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
