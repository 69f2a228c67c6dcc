"""Thin operators of a behavior DAG: each reads the context, calls the core, logs counts."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException
from airflow.utils.trigger_rule import TriggerRule

from behavior_sync.config import Behavior, Destination
from behavior_sync.history import SyncRecord
from behavior_sync.runs import RunOptions
from behavior_sync_airflow.run_context import run_artifacts, run_options, run_window

PROGRESS_LOG_SECONDS = 10.0


class ExtractSnapshotOperator(BaseOperator):
    """Runs the behavior's SQL on its warehouse and streams the rows into the run's Parquet snapshot.

    Returns (XCom) only the snapshot URI, counts and the data window: never rows. Idempotent: a retry
    rewrites the same snapshot.
    """

    ui_color = "#d6eaf8"

    def __init__(self, *, behavior: Behavior, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.behavior = behavior

    def execute(self, context: Any) -> dict[str, Any]:
        from behavior_sync.warehouse import extract_to_parquet
        from behavior_sync_airflow.hooks.database import WarehouseHook

        window, artifacts = run_window(context, self.behavior), run_artifacts(context, self.behavior)
        hook = WarehouseHook(self.behavior.warehouse_connection)
        self.log.info(
            "extracting %s from %s for window %s .. %s", self.behavior.slug, hook.safe_url(), window.start, window.end
        )
        result = extract_to_parquet(
            hook.get_url(),
            self.behavior.read_query(),
            window.sql_params(),
            artifacts.snapshot_uri,
            batch_rows=hook.batch_rows(),
            required_columns=self.behavior.required_columns(),
            on_progress=_ProgressLog(self.log),
        )
        self.log.info(
            "extracted %d rows, %d bytes in %.2f s into %s", result.rows, result.bytes, result.seconds, result.uri
        )
        return {
            "snapshot_uri": result.uri,
            "rows": result.rows,
            "bytes": result.bytes,
            "seconds": round(result.seconds, 3),
            "window_start": window.start.isoformat(),
            "window_end": window.end.isoformat(),
        }


class _ProgressLog:
    """``on_progress`` callback logging the running row count at most every PROGRESS_LOG_SECONDS."""

    def __init__(self, log: Any) -> None:
        self._log, self._last = log, time.monotonic()

    def __call__(self, rows_so_far: int) -> None:
        if time.monotonic() - self._last >= PROGRESS_LOG_SECONDS:
            self._log.info("extract progress: %d rows so far", rows_so_far)
            self._last = time.monotonic()


class NotImplementedStepOperator(BaseOperator):
    """A pipeline step that is not built yet: says so in the log and ends SKIPPED, never pretending success."""

    ui_color = "#f5e6cc"

    def __init__(self, *, step: str, tracked_in: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.step, self.tracked_in = step, tracked_in

    def execute(self, context: Any) -> None:
        message = f"NOT IMPLEMENTED: {self.step} is not built yet ({self.tracked_in}); nothing was done"
        self.log.warning(message)
        raise AirflowSkipException(message)


class RecordSyncOperator(BaseOperator):
    """Writes this run's sync-history row for one destination; runs whatever happened upstream.

    When the sync failed it fails too (after writing history), so the DAG run is marked failed.
    Idempotent: a retried record replaces the row of the same (behavior, destination, run).
    """

    ui_color = "#d5f5e3"

    def __init__(
        self,
        *,
        behavior: Behavior,
        destination: Destination,
        upstream: RecordUpstream,
        pending_steps: str,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("trigger_rule", TriggerRule.ALL_DONE)
        super().__init__(**kwargs)
        self.behavior, self.destination = behavior, destination
        self.upstream, self.pending_steps = upstream, pending_steps

    def execute(self, context: Any) -> dict[str, Any]:
        options = run_options(context, self.behavior)
        if self.destination.id not in options.destinations:
            raise AirflowSkipException(
                f"destination {self.destination.id!r} not selected for this run (param destinations)"
            )
        record = _history_record(
            self.behavior,
            self.destination,
            context["dag_run"].run_id,
            self.upstream.pull(context["ti"]),
            self.pending_steps,
            options,
        )
        _write_history(record)
        self.log.info(
            "history: %s / %s run %s -> %s: %s",
            record.behavior,
            record.destination_id,
            record.run_id,
            record.status,
            record.message,
        )
        if record.status == "failed":  # a leaf task: without this the run would end green
            raise AirflowFailException(f"{self.behavior.slug} / {self.destination.id}: {record.message}")
        return {"status": record.status}


@dataclass(frozen=True)
class RecordUpstream:
    """Task ids whose XComs a record task reads."""

    extract: str
    validate: str
    prepare: str

    def pull(self, ti: Any) -> Upstream:
        """The upstream XComs of this run (None where a task did not complete)."""
        from behavior_sync_airflow.identity_operators import IDENTITY_XCOM_KEY

        return Upstream(
            extract=ti.xcom_pull(task_ids=self.extract),
            identity=ti.xcom_pull(task_ids=self.validate, key=IDENTITY_XCOM_KEY),
            prepared=ti.xcom_pull(task_ids=self.prepare),
        )


@dataclass(frozen=True)
class Upstream:
    """What the steps before planning produced (XCom values: counts and paths)."""

    extract: dict[str, Any] | None
    identity: dict[str, Any] | None
    prepared: dict[str, Any] | None


def _outcome(upstream: Upstream, destination_id: str, pending_steps: str) -> tuple[str, str]:
    """(status, message) of a run whose planning and loading are not built yet."""
    if upstream.extract is None:
        return "failed", "extract did not complete: see the extract task's log; nothing was sent"
    if upstream.identity is None:
        return "failed", "validate did not complete: see the validate task's log; nothing was sent"
    gate = upstream.identity["gate"]
    if not gate["success"]:
        failed = "; ".join(
            f"{c['column']} expected {c['bound']}, observed {c['observed']}" for c in gate["checks"] if not c["success"]
        )
        return "failed", f"data-quality gate failed ({failed}); nothing was sent"
    prepared = (upstream.prepared or {}).get(destination_id)
    if prepared is None:
        return "failed", "prepare did not complete: see the prepare task's log; nothing was sent"
    dest = upstream.identity["summary"]["destinations"][destination_id]
    return "not_implemented", (
        f"extracted {upstream.extract['rows']} rows; {dest['usable']} members usable, {dest['quarantined']} "
        f"quarantined; {prepared['rows']} identifiers prepared; not built yet: {pending_steps}; nothing was sent"
    )


def _history_record(
    behavior: Behavior,
    destination: Destination,
    run_id: str,
    upstream: Upstream,
    pending_steps: str,
    options: RunOptions,
) -> SyncRecord:
    """The history row of a run whose destination steps are not built yet (or whose earlier steps failed)."""
    from behavior_sync_airflow.identity_operators import identity_details

    status, message = _outcome(upstream, destination.id, pending_steps)
    extract = upstream.extract or {}
    return SyncRecord(
        behavior=behavior.slug,
        destination_id=destination.id,
        destination_type=destination.type,
        connection_id=destination.connection,
        run_id=run_id,
        status=status,
        message=message,
        finished_at=dt.datetime.now(dt.UTC),
        extracted_rows=extract.get("rows"),
        snapshot_bytes=extract.get("bytes"),
        extract_seconds=extract.get("seconds"),
        details={
            "dry_run": options.dry_run,
            "full_resync": options.full_resync,
            "window_start": extract.get("window_start"),
            "window_end": extract.get("window_end"),
            "identity": identity_details(upstream.identity, upstream.prepared, destination.id),
        },
    )


def _write_history(record: SyncRecord) -> None:
    from behavior_sync.history import HistoryStore
    from behavior_sync_airflow.hooks.database import SyncStateHook

    store = HistoryStore(SyncStateHook().get_url())
    try:
        store.ensure_schema()
        store.record(record)
    finally:
        store.close()
