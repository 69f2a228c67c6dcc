"""Operators of a destination's task group: plan -> load -> commit (record is in operators.py).

Each reads the context, calls ``behavior_sync.sync.steps`` and logs counts. XCom carries the plan's
location and counts only. Skips end the task SKIPPED with the reason in the log; the record task
turns the outcome into the history row.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowSkipException
from airflow.utils.trigger_rule import TriggerRule

from behavior_sync.config import Behavior, Destination
from behavior_sync.statedb import StateDatabase
from behavior_sync.sync.state import StateStore
from behavior_sync_airflow.run_context import run_artifacts, run_options, run_window


@contextmanager
def state_store(context: Any, behavior: Behavior) -> Iterator[StateStore]:
    """The state store of this run (state database from ``sync_state_default``, artifacts base)."""
    from behavior_sync_airflow.hooks.database import SyncStateHook

    db = StateDatabase(SyncStateHook().get_url())
    try:
        db.ensure_schema()
        yield StateStore(db, run_artifacts(context, behavior).base)
    finally:
        db.close()


class _DestinationOperator(BaseOperator):
    def __init__(self, *, behavior: Behavior, destination: Destination, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.behavior, self.destination = behavior, destination

    def plan_xcom(self, context: Any) -> dict[str, Any] | None:
        value: dict[str, Any] | None = context["ti"].xcom_pull(task_ids=f"{self.destination.id}.plan")
        return value


class PlanDestinationOperator(_DestinationOperator):
    """Diffs the prepared identifiers against the committed state; applies frequency, guardrails, dry run.

    Returns (XCom) the outcome: status, message, plan location and counts. Anything but ``planned``
    ends the task after pushing it (load and commit skip; record writes the status).
    """

    ui_color = "#e8daef"

    def execute(self, context: Any) -> dict[str, Any]:
        from behavior_sync.history import last_success
        from behavior_sync.sync.steps import PlanOutcome, is_due, plan_step
        from behavior_sync_airflow.destination_registry import already_exported, capabilities_for, check_mapping

        options = run_options(context, self.behavior)
        if self.destination.id not in options.destinations:
            raise AirflowSkipException(
                f"destination {self.destination.id!r} not selected for this run (param destinations)"
            )
        with state_store(context, self.behavior) as store:
            last = last_success(store.db, self.behavior.slug, self.destination.id)
            named = self.destination.id in ((context["dag_run"].conf or {}).get("destinations") or [])
            if not is_due(self.destination.frequency, last, run_window(context, self.behavior).end, named):
                outcome = PlanOutcome(
                    "not_due", f"{self.destination.frequency} destination, last synced {last}: not due"
                )
            elif (exported := already_exported(self.destination, last, options.full_resync)) is not None:
                outcome = PlanOutcome("not_due", exported)
            else:
                ids = {
                    "behavior": self.behavior.slug,
                    "destination_id": self.destination.id,
                    "run_id": context["dag_run"].run_id,
                }
                settings = {
                    "full_resync": options.full_resync,
                    "dry_run": options.dry_run,
                    "override_guardrails": options.override_guardrails,
                    "guardrails": dict(self.behavior.guardrails),
                    "min_audience_size": self.destination.settings.get("min_audience_size"),
                }
                check_mapping(self.destination, self.behavior)  # fails early on a mapping the vendor cannot take
                artifacts, capabilities = (
                    run_artifacts(context, self.behavior),
                    capabilities_for(self.destination.type, self.destination.settings),
                )
                outcome = plan_step(ids, artifacts, store, capabilities, settings)
        self.log.info("%s: %s %s %s", self.destination.id, outcome.status, outcome.counts or {}, outcome.message)
        return outcome.as_dict()


class LoadDestinationOperator(_DestinationOperator):
    """Sends the plan's unacknowledged batches through the destination; skips when there is nothing to send.

    A retry resumes: acknowledged batches are skipped (the ledger). Types without a loader yet end
    skipped (history: not_implemented). Returns (XCom) batch counts and, for destinations that keep an
    audience, what the vendor reports about it (id, name, size bounds, status: no identifiers); for Meta also
    the run's upload sessions read back (``sessions``: counts and match rate, or pending).
    """

    ui_color = "#d4e6f1"

    def execute(self, context: Any) -> dict[str, Any]:
        from behavior_sync.destinations import Reporting
        from behavior_sync.sync.steps import load_step
        from behavior_sync_airflow.destination_registry import LoadTarget, build, pending

        plan = self.plan_xcom(context)
        if plan is None or plan["status"] != "planned":
            raise AirflowSkipException(f"nothing to send ({(plan or {}).get('status', 'no plan')})")
        if (reason := pending(self.destination)) is not None:
            raise AirflowSkipException(f"NOT IMPLEMENTED: {reason}; nothing was sent")
        with state_store(context, self.behavior) as store:
            committed = int((plan.get("counts") or {}).get("committed_members") or 0)
            day = run_window(context, self.behavior).end.date()
            folder = run_artifacts(context, self.behavior).destination_dir(self.destination.id)
            resync = run_options(context, self.behavior).full_resync
            target = LoadTarget(self.behavior, store.db, context["dag_run"].run_id, committed, day, resync, folder)
            destination = build(self.destination, target)
            assert destination is not None  # the type has a factory
            summary = load_step(plan["plan_uri"], destination, store.db, self.log.info)
            report = destination.report() if isinstance(destination, Reporting) else None
            sessions = _meta_sessions(destination) if self.destination.type == "meta" else None
        self.log.info(
            "load: %d batches sent, %d already acknowledged, %d rows; audience %s",
            summary.sent_batches,
            summary.skipped_batches,
            summary.sent_rows,
            report,
        )
        audience = None if report is None else report.as_dict()
        return {
            "sent_batches": summary.sent_batches,
            "skipped_batches": summary.skipped_batches,
            "audience": audience,
            "sessions": sessions,
        }


def _meta_sessions(destination: Any) -> dict[str, Any] | None:
    """What Meta reports about this run's upload sessions (``MetaDestination.session_report``); None for a
    loader of another class registered for the type."""
    from behavior_sync.destinations.meta import MetaDestination

    return destination.session_report() if isinstance(destination, MetaDestination) else None


class CommitDestinationOperator(_DestinationOperator):
    """Moves the committed state by what the destination acknowledged, even after a failed load.

    Runs whatever happened upstream (trigger rule all_done): a load that failed at batch k still
    commits batches 0..k-1, so they are not sent again next run. Idempotent.
    """

    ui_color = "#d1f2eb"

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("trigger_rule", TriggerRule.ALL_DONE)
        super().__init__(**kwargs)

    def execute(self, context: Any) -> dict[str, Any]:
        from behavior_sync.sync.steps import commit_step

        plan = self.plan_xcom(context)
        if plan is None or plan["status"] != "planned":
            raise AirflowSkipException(f"nothing to commit ({(plan or {}).get('status', 'no plan')})")
        with state_store(context, self.behavior) as store:
            state = commit_step(plan["plan_uri"], store)
        if state is None:
            raise AirflowSkipException("no batch was acknowledged: the committed state did not move")
        self.log.info("committed state version %d: %d members, %d rows", state.version, state.members, state.rows)
        return {"version": state.version, "members": state.members, "rows": state.rows}
