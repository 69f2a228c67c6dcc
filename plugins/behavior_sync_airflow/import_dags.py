"""Import DAGs: one per file in include/imports/, reading a HubSpot list's membership into a warehouse table.

Parsing reads only the import YAML files (design invariant 1); a broken file becomes a visible
placeholder DAG (``import__<name>``, or a placeholder id when the name cannot be one) whose task
fails with its problems. Files are isolated and bounded like behavior files (ADR 0012). The task runs in the pool of
the HubSpot connection, so imports share the portal's request budget with the behavior loads.
XCom carries the row count and the table name only (no e-mails).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import MutableMapping
from typing import Any

from airflow.sdk import DAG, BaseOperator

from behavior_sync.config import BehaviorFileError
from behavior_sync.file_guard import contained
from behavior_sync.imports import ImportSpec, load_imports
from behavior_sync_airflow.dag_factory import build_invalid_file_dag

log = logging.getLogger(__name__)
_START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def declare_import_dags(namespace: MutableMapping[str, Any]) -> list[str]:
    """Put one DAG per import file into ``namespace`` (a DAG module's globals()); returns the DAG ids."""
    specs, errors = load_imports()
    dags = [_build_or_placeholder(spec) for spec in specs]
    for error in errors:
        log.error("invalid import file (its DAG is replaced by a placeholder):\n%s", error)
        dags.append(build_invalid_file_dag(error))
    for dag in dags:
        namespace[dag.dag_id] = dag
    return [d.dag_id for d in dags]


def _build_or_placeholder(spec: ImportSpec) -> DAG:
    """The import's DAG, isolated like a behavior's (``behavior_sync.file_guard.contained``)."""
    try:
        return contained(spec.source_file, spec.dag_id, lambda: build_import_dag(spec))
    except BehaviorFileError as error:
        return build_invalid_file_dag(error)


def build_import_dag(spec: ImportSpec) -> DAG:
    """The DAG of one import: a single task ``import_list``."""
    with DAG(
        dag_id=spec.dag_id,
        description=(spec.description or f"HubSpot list {spec.list_name!r} -> table {spec.table}")[:200],
        schedule=spec.schedule,
        start_date=_START,
        catchup=False,
        max_active_runs=1,
        tags=["behavior-sync", "hubspot-import"],
        default_args={"owner": "behavior-sync", "retries": 2, "retry_exponential_backoff": True},
    ) as dag:
        ImportHubSpotListOperator(task_id="import_list", spec=spec, pool=spec.connection)
    return dag


class ImportHubSpotListOperator(BaseOperator):
    """Replaces the import's warehouse table with the list's members (email, contact_id, joined_at)."""

    ui_color = "#fdebd0"

    def __init__(self, *, spec: ImportSpec, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.spec = spec

    def execute(self, context: Any) -> dict[str, Any]:
        from behavior_sync.destinations.hubspot_import import read_membership
        from behavior_sync.warehouse.write import replace_table
        from behavior_sync_airflow.hooks.database import WarehouseHook
        from behavior_sync_airflow.hooks.destinations import HubSpotHook

        spec = self.spec
        client = HubSpotHook(spec.connection).get_conn(f"import {spec.name} (HubSpot, connection {spec.connection})")
        members = read_membership(client, spec.list_name)
        rows = replace_table(WarehouseHook(spec.warehouse).get_url(), spec.table, members)
        self.log.info(
            "import %s: %d members of list %r written to table %s", spec.name, rows, spec.list_name, spec.table
        )
        return {"rows": rows, "table": spec.table}
