"""Exactly once across runs: what an earlier run got acknowledged but never committed is folded in first.

A load registers its plan (``register``) before its first batch. A run normally commits its own plan
(``execute.commit_plan``), which moves the state past the plan's base version. When it does not (the
worker died, the run was marked failed, the DagRun was deleted, ``airflow dags test`` was run again),
its ledger still holds the batches the destination acknowledged. Before a later run of the same
destination reads the state, ``fold_open_plans`` commits those plans exactly as their own commit
would have (acknowledged rows, and batches left in the destination's ``applied_stages``), so the new
plan diffs against what the destination holds and re-sends only what was never acknowledged. The
folded plan's own run cannot send anything afterwards: its base version is gone (``check_current``).
Everything lives in the state database and under the artifacts base, so it survives a lost DagRun.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any

import sqlalchemy as sa

from behavior_sync.statedb import StateDatabase, now, plans
from behavior_sync.sync.execute import commit_plan
from behavior_sync.sync.ledger import Ledger
from behavior_sync.sync.plan import SyncPlan, read_plan
from behavior_sync.sync.state import StateConflict, StateStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FoldedPlan:
    """An earlier run's plan committed by a later run: its run, batches and rows counted applied, new version."""

    run_id: str
    batches: int
    rows: int
    version: int

    def as_dict(self) -> dict[str, Any]:
        """JSON-serializable form (history details)."""
        return asdict(self)


def register(db: StateDatabase, plan: SyncPlan, plan_uri: str) -> None:
    """Records that a load of ``plan`` (at ``plan_uri``) starts; idempotent."""
    key = _key(plan.behavior, plan.destination_id) & (plans.c.run_id == plan.run_id)
    key &= plans.c.plan_base == plan.base_version
    with db.engine.begin() as conn:
        if conn.execute(sa.select(plans.c.run_id).where(key)).first() is None:
            conn.execute(
                plans.insert().values(
                    behavior=plan.behavior,
                    destination_id=plan.destination_id,
                    run_id=plan.run_id,
                    plan_base=plan.base_version,
                    plan_uri=plan_uri,
                    opened_at=now(),
                )
            )


def check_current(store: StateStore, plan: SyncPlan) -> None:
    """Raises StateConflict when the state moved since ``plan`` was made (a later run folded it, or another
    commit won): sending its batches now would apply a stale diff."""
    state = store.current(plan.behavior, plan.destination_id)
    if (state.version if state else 0) != plan.base_version:
        raise StateConflict(
            f"{plan.behavior}/{plan.destination_id}: the committed state moved past version {plan.base_version} "
            f"since run {plan.run_id} planned (a later run committed or folded it); nothing was sent: "
            "the next run plans against the current state"
        )


def fold_open_plans(store: StateStore, behavior: str, destination_id: str, run_id: str) -> list[FoldedPlan]:
    """Commits the plans of other runs that were made against the current state and never committed, in the
    order they started; returns what was folded (empty when nothing was). Idempotent. A plan whose files
    are gone is skipped with a warning (its acknowledged batches are then sent again)."""
    folded: list[FoldedPlan] = []
    for other_run, plan_uri in _open_plans(store, behavior, destination_id, run_id):
        try:
            plan = read_plan(plan_uri)
        except (OSError, ValueError) as exc:
            log.warning("%s/%s: the plan of run %s cannot be read (%s): not folded", behavior, destination_id,
                        other_run, type(exc).__name__)  # fmt: skip
            continue
        result = _fold(store, plan, run_id)
        if result is not None:
            folded.append(result)
            break  # the state moved: other open plans of the old version no longer apply
    return folded


def folded_by(db: StateDatabase, behavior: str, destination_id: str, run_id: str) -> list[FoldedPlan]:
    """The plans ``run_id`` folded into the state of ``destination_id`` (history)."""
    query = (
        sa.select(plans.c.run_id, plans.c.folded_batches, plans.c.folded_rows, plans.c.plan_base)
        .where(_key(behavior, destination_id) & (plans.c.folded_by == run_id))
        .order_by(plans.c.folded_at)
    )
    with db.engine.connect() as conn:
        return [FoldedPlan(r[0], int(r[1] or 0), int(r[2] or 0), int(r[3]) + 1) for r in conn.execute(query)]


def _open_plans(store: StateStore, behavior: str, destination_id: str, run_id: str) -> list[tuple[str, str]]:
    state = store.current(behavior, destination_id)
    query = (
        sa.select(plans.c.run_id, plans.c.plan_uri)
        .where(_key(behavior, destination_id) & (plans.c.plan_base == (state.version if state else 0)))
        .where((plans.c.run_id != run_id) & plans.c.folded_by.is_(None))
        .order_by(plans.c.opened_at, plans.c.run_id)
    )
    with store.db.engine.connect() as conn:
        return [(r[0], r[1]) for r in conn.execute(query)]


def _fold(store: StateStore, plan: SyncPlan, run_id: str) -> FoldedPlan | None:
    """Commits ``plan`` by its ledger; None when it holds nothing to commit."""
    ledger = Ledger(store.db, plan.behavior, plan.destination_id, plan.run_id, plan.base_version)
    applied = ledger.applied(plan.applied_stages)
    if not plan.has_commit(ledger):
        return None
    if plan.replace and len(applied) < len(plan.batches):
        log.warning("%s/%s: run %s's full re-sync was interrupted: not folded; this run sends everything again",
                    plan.behavior, plan.destination_id, plan.run_id)  # fmt: skip
        return None
    previous = store.current(plan.behavior, plan.destination_id)
    state = commit_plan(plan, ledger, store, previous if plan.base_version else None)
    rows = sum(b.rows for b in plan.batches if (b.op, b.number) in applied)
    values = {"folded_by": run_id, "folded_at": now(), "folded_batches": len(applied), "folded_rows": rows}
    key = _key(plan.behavior, plan.destination_id) & (plans.c.run_id == plan.run_id)
    with store.db.engine.begin() as conn:
        conn.execute(plans.update().where(key & (plans.c.plan_base == plan.base_version)).values(**values))
    log.info("%s/%s: folded run %s's %d acknowledged batches (%d rows) into state version %d",
             plan.behavior, plan.destination_id, plan.run_id, len(applied), rows, state.version)  # fmt: skip
    return FoldedPlan(plan.run_id, len(applied), rows, state.version)


def _key(behavior: str, destination_id: str) -> sa.ColumnElement[bool]:
    return (plans.c.behavior == behavior) & (plans.c.destination_id == destination_id)
