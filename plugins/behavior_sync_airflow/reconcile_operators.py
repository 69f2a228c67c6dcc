"""The behavior DAG's reconcile task: read back each destination when due, record drift, repair on request.

It runs first in every behavior run, next to extract and before prepare (docs/adr/0015): a destination whose
check is due (``reconcile.schedule`` of the behavior file, weekly by default), or every selected destination when
the run's conf says ``reconcile: true`` or ``repair: true``, is read back and compared with its committed state
(``behavior_sync.sync.reconcile_run``). With ``repair: true`` (not in a dry run) the drift becomes a state edit
that this same run's prepare and plan then send. Each check is a ``bsync_drift`` row; drift fires the behavior's
``drift_detected`` webhooks, whose outcomes go into the row's ``details.webhooks``. A destination that cannot be
read is recorded ``unknown``: the task never fails for a vendor, so a check never stops a sync. XCom: counts only.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

from airflow.sdk import BaseOperator

from behavior_sync.config import Behavior
from behavior_sync.statedb import StateDatabase
from behavior_sync.sync.reconcile import DriftRecord
from behavior_sync_airflow.run_context import run_options
from behavior_sync_airflow.sync_operators import state_store

_XCOM_FIELDS = ("destination_id", "method", "status", "committed", "missing", "unexpected", "repaired_missing")


class ReconcileDestinationsOperator(BaseOperator):
    """Reads back the behavior's due (or asked-for) destinations; returns one line of counts per check."""

    ui_color = "#fdebd0"

    def __init__(self, *, behavior: Behavior, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.behavior = behavior

    def execute(self, context: Any) -> list[dict[str, Any]]:
        from behavior_sync.sync.reconcile_run import ReconcileOptions, reconcile_behavior
        from behavior_sync_airflow.hooks.destinations import connection_values

        options, params = run_options(context, self.behavior), context["params"]
        repair = bool(params.get("repair")) and not options.dry_run
        with state_store(context, self.behavior) as store:
            asked = ReconcileOptions(
                run_id=context["dag_run"].run_id,
                now=dt.datetime.now(dt.UTC),
                destinations=options.destinations,
                repair=repair,
                forced=bool(params.get("reconcile")) or bool(params.get("repair")),
                fold_base=store.base,
            )
            records = reconcile_behavior(self.behavior, store.db, connection_values, asked)
            records = [self._notify(store.db, r) for r in records]
        for record in records:
            self.log.info("reconcile %s: %s (%s): %s", record.destination_id, record.status, record.method,
                          record.message)  # fmt: skip
        if not records:
            schedule = self.behavior.reconcile.get("schedule", "weekly")
            self.log.info("no destination is due for a read-back (schedule %s)", schedule)
        return [{name: getattr(r, name) for name in _XCOM_FIELDS} for r in records]

    def _notify(self, db: StateDatabase, record: DriftRecord) -> DriftRecord:
        """Delivers the record's ``drift_detected`` webhooks; records their outcomes in ``details.webhooks``."""
        from behavior_sync.sync.reconcile import record_drift
        from behavior_sync.webhooks import WebhookSpec, drift_events, drift_payload
        from behavior_sync_airflow.webhooks import deliver

        outcomes: list[dict[str, Any]] = []
        for entry in self.behavior.webhooks:
            spec = WebhookSpec.from_config(entry)
            if drift_events(record, spec):
                outcomes += deliver(spec, [drift_payload(record, self.behavior.name, record.checked_at)])
        if not outcomes:
            return record
        notified = replace(record, details=dict(record.details) | {"webhooks": outcomes})
        record_drift(db, notified)
        return notified
