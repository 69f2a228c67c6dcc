"""The per-destination steps of a behavior run, as the Airflow layer calls them (plain values in and out).

fold    commit what earlier, never committed runs got acknowledged (``fold.fold_open_plans``); prepare and
        plan call it before they read the state
plan    is the destination due? diff against committed state, guardrails, dry run -> ``PlanOutcome``
load    send the plan's unacknowledged batches through a destination (``execute.load_plan``)
commit  move the committed state by what was acknowledged (``execute.commit_plan``)
outcome what the ledger says happened: the run's status and counts for history
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from behavior_sync.artifacts import RunArtifacts
from behavior_sync.identity.prepare import read_summary
from behavior_sync.statedb import StateDatabase
from behavior_sync.sync.execute import Destination, LoadSummary, commit_plan, load_plan
from behavior_sync.sync.fold import check_current, fold_open_plans, folded_by, register
from behavior_sync.sync.ledger import ACKNOWLEDGED, Ledger
from behavior_sync.sync.plan import Capabilities, PreparedInput, SyncPlan, check_guardrails, compute_plan, read_plan
from behavior_sync.sync.state import CommittedState, StateStore

FREQUENCY_PERIODS = {"daily": dt.timedelta(days=1), "weekly": dt.timedelta(days=7)}
# A little slack so a daily sync that ran at 06:00:05 yesterday is due at 06:00:00 today.
_SLACK = dt.timedelta(hours=1)


@dataclass(frozen=True)
class PlanOutcome:
    """What the plan step decided: ``planned`` (send it), or ``blocked`` / ``paused_too_small`` /
    ``dry_run`` / ``not_due`` (send nothing), with the plan's location and counts when there is one."""

    status: str
    message: str
    plan_uri: str | None = None
    counts: dict[str, Any] | None = None
    folded: list[dict[str, Any]] | None = None  # earlier runs' batches this run folded into the state

    def as_dict(self) -> dict[str, Any]:
        """JSON-serializable form (XCom)."""
        return asdict(self)


def is_due(frequency: str, last_success: dt.datetime | None, now: dt.datetime, named_in_conf: bool) -> bool:
    """Whether a destination syncs in this run: every_run always; daily/weekly when the last successful
    sync is at least a period old; manual only when the run's conf names it."""
    if frequency == "manual":
        return named_in_conf
    period = FREQUENCY_PERIODS.get(frequency)
    return period is None or last_success is None or now - last_success >= period - _SLACK


def plan_step(
    ids: dict[str, str],
    artifacts: RunArtifacts,
    store: StateStore,
    capabilities: Capabilities,
    settings: dict[str, Any],
) -> PlanOutcome:
    """Plans one destination: ``ids`` holds behavior, destination_id, run_id; ``settings`` holds
    full_resync, dry_run, override_guardrails (bools), guardrails (mapping), min_audience_size.

    Folds earlier runs' acknowledged, never committed batches first (normally the prepare step did)."""
    fold_open_plans(store, ids["behavior"], ids["destination_id"], ids["run_id"])
    folded = [f.as_dict() for f in folded_by(store.db, ids["behavior"], ids["destination_id"], ids["run_id"])]
    state = store.current(ids["behavior"], ids["destination_id"])
    out_dir = f"{artifacts.destination_dir(ids['destination_id'])}/plan"
    prepared = read_summary(artifacts.prepared_summary_uri(ids["destination_id"]))
    source = PreparedInput(prepared.uri, prepared.members_uri, prepared.base_version)
    plan = compute_plan(ids, source, state, out_dir, capabilities, settings["full_resync"])
    verdict = check_guardrails(
        plan.counts, settings["guardrails"], settings.get("min_audience_size"), settings["override_guardrails"]
    )
    counts = asdict(plan.counts) | {"removal_share": round(plan.counts.removal_share, 6), "batches": len(plan.batches)}
    uri = f"{out_dir}/plan.json"
    if verdict.status != "ok":
        return PlanOutcome(verdict.status, verdict.message, uri, counts, folded or None)
    if settings["dry_run"]:
        message = "dry run: the plan was computed; nothing was sent and state did not move"
        return PlanOutcome("dry_run", message, uri, counts, folded or None)
    return PlanOutcome("planned", verdict.message, uri, counts, folded or None)


def load_step(plan_uri: str, destination: Destination, db: StateDatabase, log: Any) -> LoadSummary:
    """Sends the plan's batches that the ledger has not seen acknowledged, after the destination's
    ``Preflight`` check (if it has one) of those batches. Registers the plan first (a later run folds
    what it got acknowledged if this run never commits); raises StateConflict, sending nothing, when the
    state moved since the plan was made."""
    from behavior_sync.destinations import Preflight

    plan = read_plan(plan_uri)
    check_current(StateStore(db, ""), plan)
    register(db, plan, plan_uri)
    ledger = ledger_of(db, plan)
    if isinstance(destination, Preflight):
        done = ledger.acknowledged()
        destination.preflight([b for b in plan.batches if (b.op, b.number) not in done])
    return load_plan(plan, destination, ledger, on_batch=log)


def commit_step(plan_uri: str, store: StateStore) -> CommittedState | None:
    """Commits what was applied (and the plan's settle rows); None when there is nothing to commit (the state
    does not move). Idempotent; raises StateConflict when another commit moved the state since the plan
    was made."""
    plan = read_plan(plan_uri)
    ledger = ledger_of(store.db, plan)
    if not plan.has_commit(ledger):
        return None
    current = store.current(plan.behavior, plan.destination_id)
    if current is not None and current.run_id == plan.run_id and current.version == plan.base_version + 1:
        return current  # this plan was committed already (a retried commit task)
    return commit_plan(plan, ledger, store, current if plan.base_version else None)


def ledger_of(db: StateDatabase, plan: SyncPlan) -> Ledger:
    """The ledger of ``plan``."""
    return Ledger(db, plan.behavior, plan.destination_id, plan.run_id, plan.base_version)


@dataclass(frozen=True)
class LoadOutcome:
    """What the ledger says about a planned run: status and counts for history."""

    status: str  # success | partial | failed
    sent: int
    acknowledged: int
    rejected: int
    errors: list[dict[str, Any]]
    complete: bool


def load_outcome(plan_uri: str, db: StateDatabase) -> LoadOutcome:
    """success: every batch acknowledged, no row rejected; partial: acknowledged with rejections or not
    every batch acknowledged but some; failed: nothing acknowledged."""
    plan = read_plan(plan_uri)
    ledger = ledger_of(db, plan)
    entries = ledger.entries()
    acked = [e for e in entries if e.status == ACKNOWLEDGED]
    complete = len(acked) == len(plan.batches)
    rejected = sum(e.rejected or 0 for e in acked)
    errors = [{"code": code, "count": n} for code, n in sorted(ledger.rejection_codes().items())]
    status = "success" if complete and not rejected else "partial" if acked else "failed"
    return LoadOutcome(
        status, sum(e.rows for e in entries), sum(e.accepted or 0 for e in acked), rejected, errors, complete
    )
