"""Drives the sync engine like a DAG run does (plan -> load -> commit), without Airflow, for destination tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from behavior_sync.statedb import StateDatabase
from behavior_sync.sync.execute import Destination, commit_plan
from behavior_sync.sync.fold import fold_open_plans
from behavior_sync.sync.ledger import Ledger
from behavior_sync.sync.plan import Capabilities, PreparedInput, SyncPlan, compute_plan
from behavior_sync.sync.state import StateStore
from behavior_sync.sync.steps import load_step

Row = tuple[str, str, str]


@dataclass
class EngineRun:
    """One behavior destination's engine: prepared rows in a folder, a state database, its capabilities."""

    folder: Path
    db: StateDatabase
    capabilities: Capabilities
    behavior: str
    destination_id: str

    @property
    def store(self) -> StateStore:
        return StateStore(self.db, str(self.folder / "artifacts"))

    def plan(self, run_id: str, rows: list[Row], full_resync: bool = False) -> SyncPlan:
        """Writes ``rows`` as the run's prepared identifiers and plans them against the committed state, after
        folding what earlier, never committed runs got acknowledged (as a DAG run's prepare step does)."""
        folder = self.folder / run_id
        folder.mkdir(parents=True, exist_ok=True)
        columns = list(zip(*rows, strict=True)) if rows else [(), (), ()]
        table = pa.table(
            {
                n: pa.array(list(c), pa.string())
                for n, c in zip(("member_key", "id_type", "value"), columns, strict=True)
            }
        )
        pq.write_table(table, folder / "prepared.parquet")
        ids = {"behavior": self.behavior, "destination_id": self.destination_id, "run_id": run_id}
        fold_open_plans(self.store, self.behavior, self.destination_id, run_id)
        state = self.store.current(self.behavior, self.destination_id)
        prepared = PreparedInput(str(folder / "prepared.parquet"))
        return compute_plan(ids, prepared, state, str(folder / "plan"), self.capabilities, full_resync)

    def ledger(self, plan: SyncPlan) -> Ledger:
        return Ledger(self.db, plan.behavior, plan.destination_id, plan.run_id, plan.base_version)

    def load(self, plan: SyncPlan, destination: Destination) -> None:
        """Loads through ``load_step`` (the Airflow load task's step: preflight, then the batches)."""
        load_step(str(self.folder / plan.run_id / "plan" / "plan.json"), destination, self.db, lambda _line: None)

    def commit(self, plan: SyncPlan) -> None:
        previous = self.store.current(self.behavior, self.destination_id)
        commit_plan(plan, self.ledger(plan), self.store, previous if plan.base_version else None)

    def committed(self) -> set[Row]:
        state = self.store.current(self.behavior, self.destination_id)
        assert state is not None
        return {(r["member_key"], r["id_type"], r["value"]) for r in pq.read_table(state.uri).to_pylist()}
