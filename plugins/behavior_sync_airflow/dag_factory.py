"""Builds one Airflow DAG per behavior file, and a visible placeholder DAG per broken file.

Only local YAML is read at parse time (design invariant 1). Each file is loaded and built in
isolation (``behavior_sync.file_guard.contained``: any exception, ``SystemExit`` and
``RecursionError`` included, and a time limit): in Airflow 3 an import error marks every DAG of
the module stale, so nothing may raise out of here. A broken file becomes a DAG with the id its
file name gives (``behavior__<slug>``, or a placeholder id that no good DAG can have:
``behavior_sync.file_slots``), no schedule, the problems in its description and docs, and one
task that fails with them if triggered (ADR 0001, ADR 0012).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import MutableMapping
from typing import Any

from airflow.sdk import DAG, BaseOperator, Param, TaskGroup, chain, get_parsing_context
from airflow.sdk.exceptions import AirflowFailException

from behavior_sync.config import PREFIX, Behavior, BehaviorFileError, Destination, display_path, load_behaviors
from behavior_sync.file_guard import contained
from behavior_sync.file_slots import placeholder_dag_id
from behavior_sync_airflow.identity_operators import PrepareIdentifiersOperator, ValidateIdentifiersOperator
from behavior_sync_airflow.notifications import failure_callbacks
from behavior_sync_airflow.operators import ExtractSnapshotOperator
from behavior_sync_airflow.reconcile_operators import ReconcileDestinationsOperator
from behavior_sync_airflow.record import RecordSyncOperator, RecordUpstream
from behavior_sync_airflow.sync_operators import (
    CommitDestinationOperator,
    LoadDestinationOperator,
    PlanDestinationOperator,
)
from behavior_sync_airflow.wait_operators import WAITING_TYPES, WaitForGoogleProcessingOperator

log = logging.getLogger(__name__)

INVALID_TAG = "invalid-behavior-file"
_PLACEHOLDER_START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def declare_behavior_dags(namespace: MutableMapping[str, Any]) -> list[str]:
    """Put one DAG per behavior file into ``namespace`` (a DAG module's globals()); returns the DAG ids.

    When a worker parses the file to run one task, only that behavior's file is read.
    """
    wanted = get_parsing_context().dag_id
    only = [wanted.removeprefix(f"{PREFIX}__")] if wanted and wanted.startswith(f"{PREFIX}__") else None
    loaded = load_behaviors(only=only)
    dags = [_build_or_placeholder(b) for b in loaded.behaviors]
    for error in loaded.errors:
        log.error("invalid behavior file (its DAG is replaced by a placeholder):\n%s", error)
        dags.append(build_invalid_file_dag(error))
    for dag in dags:
        namespace[dag.dag_id] = dag
    return [d.dag_id for d in dags]


def _build_or_placeholder(behavior: Behavior) -> DAG:
    """The behavior's DAG, or its placeholder when Airflow refuses it (e.g. ``AirflowTimetableInvalid``)."""
    try:
        return contained(behavior.source_file, behavior.dag_id, lambda: build_behavior_dag(behavior))
    except BehaviorFileError as error:
        log.error("invalid behavior file (its DAG is replaced by a placeholder):\n%s", error)
        return build_invalid_file_dag(error)


def build_behavior_dag(behavior: Behavior) -> DAG:
    """The DAG of one valid behavior.

    Tasks: extract -> validate -> prepare -> per destination (a task group) plan -> load -> commit -> record, and
    reconcile (read-back and drift, when due or asked: ADR 0015) -> prepare, so a repair is sent by the same run.
    """
    with DAG(
        dag_id=behavior.dag_id,
        dag_display_name=f"{behavior.name} ({behavior.dag_id})",
        description=behavior.description.strip().split("\n")[0][:200] or behavior.name,
        doc_md=_doc_md(behavior),
        schedule=behavior.schedule,
        start_date=dt.datetime.combine(behavior.start_date, dt.time(), tzinfo=dt.UTC),
        catchup=behavior.catchup,
        max_active_runs=1,
        tags=sorted({"behavior-sync", *behavior.tags}),
        default_args={
            "owner": behavior.owner,
            "retries": behavior.retries,
            "retry_delay": dt.timedelta(minutes=2),
            "retry_exponential_backoff": True,
            **({"on_failure_callback": failure_callbacks(behavior.on_failure)} if behavior.on_failure else {}),
        },
        params=_params(behavior),
        auto_register=False,
    ) as dag:
        extract = ExtractSnapshotOperator(task_id="extract", behavior=behavior, pool=behavior.warehouse_connection)
        validate = ValidateIdentifiersOperator(task_id="validate", behavior=behavior, extract_task_id=extract.task_id)
        prepare = PrepareIdentifiersOperator(task_id="prepare", behavior=behavior)
        extract >> validate >> prepare
        ReconcileDestinationsOperator(task_id="reconcile", behavior=behavior) >> prepare
        upstream = RecordUpstream(extract=extract.task_id, validate=validate.task_id, prepare=prepare.task_id)
        for destination in behavior.destinations:
            prepare >> _destination_group(behavior, destination, upstream)
    dag.validate()
    return dag


def _destination_group(behavior: Behavior, destination: Destination, upstream: RecordUpstream) -> TaskGroup:
    with TaskGroup(
        group_id=destination.id, tooltip=f"{destination.type} via connection {destination.connection}"
    ) as group:
        b, d = behavior, destination
        plan = PlanDestinationOperator(task_id="plan", behavior=b, destination=d)
        # The destination account's pool keeps all behaviors together inside its API quota (design invariant 7).
        load = LoadDestinationOperator(task_id="load", behavior=b, destination=d, pool=d.connection)
        commit = CommitDestinationOperator(task_id="commit", behavior=b, destination=d)
        record = RecordSyncOperator(task_id="record", behavior=b, destination=d, upstream=upstream)
        steps: list[BaseOperator] = [plan, load]
        if d.type in WAITING_TYPES:  # Google processes uploads asynchronously: wait before commit
            steps.append(WaitForGoogleProcessingOperator(task_id="wait", behavior=b, destination=d, upstream=upstream))
        chain(*steps, commit, record)
    return group


def _params(behavior: Behavior) -> dict[str, Param]:
    ids = [d.id for d in behavior.destinations]
    return {
        "dry_run": Param(
            False,
            type="boolean",
            title="Dry run",
            description="Extract, validate, prepare and plan only: nothing is sent and state does not move.",
        ),
        "full_resync": Param(
            False,
            type="boolean",
            title="Full re-sync",
            description="Re-send every member instead of only the changes since the last sync.",
        ),
        "override_guardrails": Param(
            False,
            type="boolean",
            title="Override guardrails",
            description="Sync even when a guardrail blocks it (empty segment, mass removal). Use after checking why.",
        ),
        "reconcile": Param(
            False,
            type="boolean",
            title="Read back now",
            description="Read back what the selected destinations hold and record their drift, whatever the "
            "reconcile schedule.",
        ),
        "repair": Param(
            False,
            type="boolean",
            title="Repair drift",
            description="Read back, then re-send missing members and remove unexpected ones we had added (never "
            "foreign ones) in this run. Count-only destinations (Meta, Google) need a full re-sync instead.",
        ),
        "destinations": Param(
            ids,
            type="array",
            items={"type": "string", "enum": ids},
            examples=ids,
            uniqueItems=True,
            title="Destinations",
            description="Sync only these destinations (default: all of them).",
        ),
    }


def _doc_md(behavior: Behavior) -> str:
    rows = "\n".join(f"| `{d.id}` | {d.type} | `{d.connection}` | {d.frequency} |" for d in behavior.destinations)
    return (
        f"# {behavior.name}\n\n{behavior.description}\n\n"
        f"* File: `{display_path(behavior.source_file)}`\n* Query: `{display_path(behavior.query_path)}` "
        f"on connection `{behavior.warehouse_connection}`\n* Member key: `{behavior.member_key}`; identifiers: "
        f"{', '.join(sorted(behavior.identifiers))}\n\n"
        f"| destination | type | connection | frequency |\n|---|---|---|---|\n{rows}\n\n"
        f"Read-back and drift: {behavior.reconcile.get('schedule', 'weekly')} (the reconcile task; "
        "conf `reconcile` / `repair`).\n"
    )


def build_invalid_file_dag(error: BehaviorFileError) -> DAG:
    """A never-scheduled DAG that shows a broken file's problems in the UI; its task fails with them.

    Its id is ``error.dag_id`` (set for every file loaded through ``behavior_sync.file_guard``), else a
    behavior placeholder id. Every text comes from capped, printable problems (``Problem``).
    """
    file = display_path(error.file)
    problems = [str(p) for p in error.problems]
    more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
    with DAG(
        dag_id=error.dag_id or placeholder_dag_id(error.file, PREFIX),
        dag_display_name=f"INVALID {file}: {problems[0][:300]}{more}",
        description=f"INVALID behavior file {file}: {'; '.join(problems)}"[:1000],
        schedule=None,
        start_date=_PLACEHOLDER_START,
        catchup=False,
        tags=["behavior-sync", INVALID_TAG],
        auto_register=False,
        default_args={"owner": "behavior-sync"},
        doc_md=f"# Invalid behavior file `{file}`\n\nThis behavior is not scheduled until the file is fixed "
        f"(`python -m behavior_sync validate {file}`).\n\n" + "\n".join(f"* `{p}`" for p in problems),
    ) as dag:
        _InvalidFileOperator(task_id="report_invalid_file", message=str(error))
    return dag


class _InvalidFileOperator(BaseOperator):
    """Fails (no retries) with the file's problems."""

    def __init__(self, *, message: str, **kwargs: Any) -> None:
        super().__init__(retries=0, **kwargs)
        self.message = message

    def execute(self, context: Any) -> None:
        raise AirflowFailException(self.message)
