"""The extract operator of a behavior DAG (identity: identity_operators.py; destinations: sync_operators.py;
history: record.py)."""

from __future__ import annotations

import time
from typing import Any

from airflow.sdk import BaseOperator

from behavior_sync.config import Behavior
from behavior_sync_airflow.run_context import run_artifacts, run_window

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
