"""Committed states and sync history for the audience-health tests, made the way DAG runs make them.

Each sync plans, loads (into an in-memory destination) and commits through the real sync engine, then writes
the history row the record task writes: the plan's counts and the run's data window in ``details``. Runs
finish one minute apart after ``ran_at`` (default ``RAN_AT``), after their data dates, as a backfill's runs do.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from behavior_sync.history import HistoryStore, SyncRecord
from behavior_sync.statedb import StateDatabase
from behavior_sync.sync.execute import load_plan
from behavior_sync.sync.plan import Capabilities, SyncPlan
from behavior_sync.sync.state import CommittedState
from tests.support.engine_run import EngineRun
from tests.support.fake_destination import FakeDestination

RAN_AT = dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC)


@dataclass
class HealthFixture:
    """A state database and artifacts folder where behaviors sync member sets and record their runs."""

    folder: Path
    url: str
    ran_at: dt.datetime = RAN_AT
    destinations: dict[tuple[str, str], FakeDestination] = field(default_factory=dict)
    runs: int = 0

    @functools.cached_property
    def db(self) -> StateDatabase:
        db = StateDatabase(self.url)
        db.ensure_schema()
        return db

    def engine(self, behavior: str, destination_id: str) -> EngineRun:
        folder = self.folder / behavior / destination_id
        return EngineRun(folder, self.db, Capabilities(1_000, 1_000), behavior, destination_id)

    def sync(
        self, behavior: str, destination_id: str, run_id: str, members: Iterable[str], as_of: dt.datetime
    ) -> SyncPlan:
        """Syncs ``members`` (one e-mail row each) for data date ``as_of`` and records it as a success."""
        run = self.engine(behavior, destination_id)
        plan = run.plan(run_id, [(m, "email", f"{m}-hash") for m in sorted(members)])
        destination = self.destinations.setdefault((behavior, destination_id), FakeDestination())
        load_plan(plan, destination, run.ledger(plan))
        run.commit(plan)
        self.record(plan, "success", as_of)
        return plan

    def fail(self, behavior: str, destination_id: str, run_id: str, members: Iterable[str], as_of: dt.datetime) -> None:
        """A run that planned ``members`` and failed before sending anything (nothing committed)."""
        plan = self.engine(behavior, destination_id).plan(run_id, [(m, "email", f"{m}-hash") for m in members])
        self.record(plan, "failed", as_of)

    def record(self, plan: SyncPlan, status: str, as_of: dt.datetime) -> None:
        """The run's history row: status, plan counts and data window, finished a minute after the previous run."""
        self.runs += 1
        store = HistoryStore(self.url)
        store.record(
            SyncRecord(
                behavior=plan.behavior,
                destination_id=plan.destination_id,
                destination_type=plan.destination_id.split("_")[0],
                connection_id="fake_default",
                run_id=plan.run_id,
                status=status,
                finished_at=self.ran_at + dt.timedelta(minutes=self.runs),
                details={
                    "window_start": (as_of - dt.timedelta(days=7)).isoformat(),
                    "window_end": as_of.isoformat(),
                    "plan": dataclasses.asdict(plan.counts),
                },
            )
        )
        store.close()

    def state(self, behavior: str, destination_id: str) -> CommittedState:
        state = self.engine(behavior, destination_id).store.current(behavior, destination_id)
        assert state is not None
        return state

    def forget_first_seen(self, behavior: str, destination_id: str) -> None:
        """Deletes the current version's first-seen file: a state committed before first-seen files existed."""
        Path(self.state(behavior, destination_id).since_uri).unlink()


# Weekly audiences of some demo behaviors (member ranges per week k = 0..4): growing, shrinking, overlapping.
WEEKLY_RANGES = {
    ("value_hunters", "hubspot_list"): lambda k: range(5 * k, 100 + 10 * k),  # 100 -> 120 members
    ("value_hunters", "clevertap"): lambda k: range(0, 90 + 5 * k),
    ("trend_followers", "meta"): lambda k: range(50 + 3 * k, 130 + 2 * k),  # 80 -> 76: declining
    ("cart_abandoners", "meta"): lambda k: range(200 - 10 * k, 260),  # 60 -> 100
}


def seed_weekly_health(folder: Path, url: str, end: dt.datetime, ran_at: dt.datetime) -> None:
    """Five weekly synced runs (data dates ``end`` - 4 weeks ... ``end``) of each pair of ``WEEKLY_RANGES``, finished
    from ``ran_at`` on: committed states with first-seen files and history rows with plan counts."""
    made = HealthFixture(folder, url, ran_at=ran_at)
    for k in range(5):
        for (behavior, destination_id), members in WEEKLY_RANGES.items():
            as_of = end - dt.timedelta(weeks=4 - k)
            made.sync(behavior, destination_id, f"weekly__{as_of:%Y-%m-%d}", [f"c{i:04d}" for i in members(k)], as_of)
    made.db.close()
