"""The record task of a destination: turns what the run's steps did into one sync-history row.

Runs whatever happened upstream (trigger rule all_done). The status comes from the steps' XComs
and, for a planned sync, from the batch ledger: success (all acknowledged, nothing rejected),
partial, failed, or the plan's own status (blocked, paused_too_small, dry_run, not_due), or
not_implemented for destination types that cannot load yet. Where the load task reported the
vendor's audience (Meta), its id, name and approximate size go into the row, and where it read the
run's upload sessions back (Meta), their match rate: ``match_rate`` and ``details.processing`` as for
Google's wait step (a session still uploading leaves the rate pending, never 0). A failed sync fails
this task after writing history, so the DAG run is red. Idempotent: a retry replaces the row of
the same run.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException
from airflow.utils.trigger_rule import TriggerRule

from behavior_sync.config import Behavior, Destination
from behavior_sync.history import HistoryStore, SyncRecord
from behavior_sync_airflow.run_context import run_options

_PLAN_STATUSES = frozenset({"not_due", "blocked", "paused_too_small", "dry_run"})


@dataclass(frozen=True)
class RecordUpstream:
    """Task ids whose XComs a record task reads (the destination's own tasks are in its group)."""

    extract: str
    validate: str
    prepare: str

    def pull(self, ti: Any, destination_id: str) -> Upstream:
        """The upstream XComs of this run (None where a task did not complete)."""
        from behavior_sync_airflow.identity_operators import IDENTITY_XCOM_KEY

        return Upstream(
            extract=ti.xcom_pull(task_ids=self.extract),
            identity=ti.xcom_pull(task_ids=self.validate, key=IDENTITY_XCOM_KEY),
            prepared=(ti.xcom_pull(task_ids=self.prepare) or {}).get(destination_id),
            plan=ti.xcom_pull(task_ids=f"{destination_id}.plan"),
            loaded=ti.xcom_pull(task_ids=f"{destination_id}.load"),
            committed=ti.xcom_pull(task_ids=f"{destination_id}.commit"),
            processed=ti.xcom_pull(task_ids=f"{destination_id}.wait"),
        )


@dataclass(frozen=True)
class Upstream:
    """What the steps produced for one destination (XCom values: counts and paths)."""

    extract: dict[str, Any] | None
    identity: dict[str, Any] | None
    prepared: dict[str, Any] | None
    plan: dict[str, Any] | None
    loaded: dict[str, Any] | None
    committed: dict[str, Any] | None
    processed: dict[str, Any] | None = None  # the wait task's report (asynchronous destinations)


def _early_failure(up: Upstream) -> str | None:
    """Why the run failed before planning, or None."""
    if up.extract is None:
        return "extract did not complete: see the extract task's log; nothing was sent"
    if up.identity is None:
        return "validate did not complete: see the validate task's log; nothing was sent"
    if not up.identity["gate"]["success"]:
        failed = "; ".join(
            f"{c['column']} expected {c['bound']}, observed {c['observed']}"
            for c in up.identity["gate"]["checks"]
            if not c["success"]
        )
        return f"data-quality gate failed ({failed}); nothing was sent"
    if up.prepared is None:
        return "prepare did not complete: see the prepare task's log; nothing was sent"
    if up.plan is None:
        return "plan did not complete: see the plan task's log; nothing was sent"
    return None


class RecordSyncOperator(BaseOperator):
    """Writes this run's sync-history row for one destination (see the module docstring)."""

    ui_color = "#d5f5e3"

    def __init__(
        self, *, behavior: Behavior, destination: Destination, upstream: RecordUpstream, **kwargs: Any
    ) -> None:
        kwargs.setdefault("trigger_rule", TriggerRule.ALL_DONE)
        super().__init__(**kwargs)
        self.behavior, self.destination, self.upstream = behavior, destination, upstream

    def execute(self, context: Any) -> dict[str, Any]:
        from behavior_sync_airflow.hooks.database import SyncStateHook

        options = run_options(context, self.behavior)
        if self.destination.id not in options.destinations:
            raise AirflowSkipException(
                f"destination {self.destination.id!r} not selected for this run (param destinations)"
            )
        up = self.upstream.pull(context["ti"], self.destination.id)
        store = HistoryStore(SyncStateHook().get_url())
        try:
            store.ensure_schema()
            record = self._record(context["dag_run"].run_id, up, options, store)
            store.record(record)
            if self.behavior.webhooks:
                record = _notify(self.behavior, record, store)
                store.record(record)
        finally:
            store.close()
        self.log.info(
            "history: %s / %s -> %s: %s", record.behavior, record.destination_id, record.status, record.message
        )
        # A leaf task: without this a failed or unfinished sync would leave the run green.
        if record.status == "failed" or record.details.get("load_incomplete"):
            raise AirflowFailException(f"{self.behavior.slug} / {self.destination.id}: {record.message}")
        return {"status": record.status}

    def _record(self, run_id: str, up: Upstream, options: Any, store: HistoryStore) -> SyncRecord:
        base = _base_record(self.behavior, self.destination, run_id, up, options)
        failure = _early_failure(up)
        if failure is not None:
            return replace(base, status="failed", message=failure)
        assert up.plan is not None  # _early_failure checked it
        counts = up.plan.get("counts") or {}
        planned = replace(
            base,
            adds=counts.get("add_rows"),
            removes=counts.get("remove_rows"),
            unchanged=counts.get("unchanged_rows"),
            audience_size=counts.get("committed_members"),
        )
        if up.plan["status"] in _PLAN_STATUSES:
            return replace(planned, status=up.plan["status"], message=up.plan["message"])
        return _loaded(planned, up, self.destination, store)


_EARLIER_ROWS = 50  # rows of other runs that webhook events look back on (audience_created, size thresholds)


def _notify(behavior: Behavior, record: SyncRecord, store: HistoryStore) -> SyncRecord:
    """Delivers the webhook events ``record`` fires; returns it with their outcomes in ``details.webhooks``."""
    from behavior_sync.webhooks import WebhookSpec, events_for, payload
    from behavior_sync_airflow.webhooks import deliver

    recent = store.recent(record.behavior, record.destination_id, _EARLIER_ROWS + 1)
    earlier = [r for r in recent if r.run_id != record.run_id]
    now = dt.datetime.now(dt.UTC)
    outcomes: list[dict[str, Any]] = []
    for entry in behavior.webhooks:
        spec = WebhookSpec.from_config(entry)
        documents = [payload(e, record, behavior.name, now) for e in events_for(record, earlier, spec)]
        outcomes += deliver(spec, documents) if documents else []
    if not outcomes:
        return record
    return replace(record, details=dict(record.details) | {"webhooks": outcomes})


def _loaded(record: SyncRecord, up: Upstream, destination: Destination, store: HistoryStore) -> SyncRecord:
    """The record of a planned sync: not_implemented, or what the ledger says."""
    from behavior_sync.sync.steps import load_outcome
    from behavior_sync_airflow.destination_registry import pending

    assert up.plan is not None
    if (reason := pending(destination)) is not None:
        return replace(
            record,
            status="not_implemented",
            message=(
                f"planned {record.adds} additions and {record.removes} removals; not built yet: "
                f"{reason}; nothing was sent"
            ),
        )
    outcome = load_outcome(up.plan["plan_uri"], store.db)
    status, message = (
        outcome.status,
        f"sent {outcome.sent} rows: {outcome.acknowledged} accepted, {outcome.rejected} rejected",
    )
    if not outcome.complete:
        message += "; not every batch was acknowledged (the rest is sent next run)"
    if up.committed is None and outcome.acknowledged:
        status, message = "failed", message + "; the commit did not complete: see the commit task's log"
    size = (up.committed or {}).get("members", record.audience_size)
    audience = (up.loaded or {}).get("audience")
    loaded = replace(
        _with_audience(record, audience),
        details=dict(record.details) | {"load_incomplete": not outcome.complete, "audience": audience},
        status=status,
        message=message,
        sent=outcome.sent,
        acknowledged=outcome.acknowledged,
        rejected=outcome.rejected,
        errors=outcome.errors,
        audience_size=size if audience is None else audience["size_lower_bound"],
    )
    return _with_sessions(_with_processing(loaded, up.processed), (up.loaded or {}).get("sessions"))


def _with_processing(record: SyncRecord, processed: dict[str, Any] | None) -> SyncRecord:
    """What the wait task reported (Google's processing): match rate, list size, warnings, records Google counted
    as not applied (rejected) or warned about; a request Google did not fully apply makes a success partial."""
    if not processed:
        return record
    size, failed, warnings = processed.get("list"), processed["failed_requests"], processed["warnings"]
    return replace(
        record,
        status="partial" if failed and record.status == "success" else record.status,
        message=f"{record.message}; {_processing_message(processed)}",
        match_rate=processed["match_rate"],
        rejected=(record.rejected or 0) + processed.get("rejected_records", 0),
        audience_size=record.audience_size if size is None else min(size["search"], size["display"]),
        details=dict(record.details) | {"processing": processed, "warnings": warnings},
    )


def _processing_message(processed: dict[str, Any]) -> str:
    """The history message's account of Google's processing (counts and reason names only)."""
    failed, warnings = processed["failed_requests"], processed["warnings"]
    message = f"Google processed {processed['requests']} requests"
    message += f", {len(failed)} not fully applied" if failed else ""
    taken_back = processed.get("uncommitted_batches", 0)
    message += f" ({taken_back} batches not committed: the next run sends them again)" if taken_back else ""
    if processed.get("removed_all"):
        message += "; the full re-sync emptied the list (RemoveAllAudienceMembers) and Google "
        message += "did not apply all of the re-ingest" if failed else "re-ingested its members"
        message += ": only another full re-sync loads the list now" if taken_back else ""
    for label, key in (("not applied", "error_counts"), ("with warnings", "warning_counts")):
        if counts := processed.get(key):
            message += f"; records {label}: {_counted(counts)}"
    if counts := processed.get("field_warnings"):
        message += f"; field warnings: {_counted(counts)}"
    return message + (f"; warnings: {'; '.join(warnings)}" if warnings else "")


def _counted(counts: dict[str, int]) -> str:
    """``REASON n, REASON n`` in reason order."""
    return ", ".join(f"{reason} {n}" for reason, n in sorted(counts.items()))


def _with_sessions(record: SyncRecord, sessions: dict[str, Any] | None) -> SyncRecord:
    """What the load read back from Meta's upload sessions of this run: the match rate (matched / received rows),
    or, while a session is still uploading, a pending rate (None, never 0)."""
    if not sessions or not sessions["sessions"]:
        return record
    rate, pending = sessions["match_rate"], sessions["pending_sessions"]
    message = record.message
    if rate is not None:
        message += f"; Meta matched {sessions['matched']} of {sessions['received']} rows ({rate:.0%})"
    if pending:
        message += f"; Meta's match rate is pending: {pending} upload session(s) still {sessions['pending_stage']}"
    return replace(record, message=message, match_rate=rate, details=dict(record.details) | {"processing": sessions})


def record_pending(
    context: Any, behavior: Behavior, destination: Destination, upstream: RecordUpstream, message: str
) -> None:
    """Writes this run's history row as ``pending`` (the vendor is still processing the load); the record
    task replaces it when the run ends."""
    from behavior_sync_airflow.hooks.database import SyncStateHook

    up = upstream.pull(context["ti"], destination.id)
    base = _base_record(behavior, destination, context["dag_run"].run_id, up, run_options(context, behavior))
    counts = (up.plan or {}).get("counts") or {}
    record = replace(base, message=message, adds=counts.get("add_rows"), removes=counts.get("remove_rows"))
    store = HistoryStore(SyncStateHook().get_url())
    try:
        store.ensure_schema()
        store.record(record)
    finally:
        store.close()


def _with_audience(record: SyncRecord, audience: dict[str, Any] | None) -> SyncRecord:
    """The vendor's audience id and name (from the load task's report), when there is one."""
    if audience is None:
        return record
    return replace(record, audience_id=audience["audience_id"], audience_name=audience["name"])


def _base_record(behavior: Behavior, destination: Destination, run_id: str, up: Upstream, options: Any) -> SyncRecord:
    from behavior_sync_airflow.identity_operators import identity_details

    extract = up.extract or {}
    identity = identity_details(up.identity, {destination.id: up.prepared} if up.prepared else None, destination.id)
    return SyncRecord(
        behavior=behavior.slug,
        destination_id=destination.id,
        destination_type=destination.type,
        connection_id=destination.connection,
        run_id=run_id,
        status="pending",
        finished_at=dt.datetime.now(dt.UTC),
        extracted_rows=extract.get("rows"),
        snapshot_bytes=extract.get("bytes"),
        extract_seconds=extract.get("seconds"),
        invalid=sum(identity.get("invalid_identifiers", {}).values()) if identity else None,
        quarantined=identity.get("quarantined") if identity else None,
        durations={"extract": extract["seconds"]} if "seconds" in extract else {},
        details={
            "dry_run": options.dry_run,
            "full_resync": options.full_resync,
            "window_start": extract.get("window_start"),
            "window_end": extract.get("window_end"),
            "identity": identity,
            "plan": (up.plan or {}).get("counts"),
            "folded": (up.plan or {}).get("folded"),  # earlier, never committed runs' batches folded in first
        },
    )
