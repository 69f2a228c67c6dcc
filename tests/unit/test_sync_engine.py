"""The destination-agnostic sync engine: plans, guardrails, ledger, crash/re-run, commit (SQLite state DB).

The same scenarios run on PostgreSQL in tests/integration/test_sync_engine_postgres.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from behavior_sync.identity.engine import IdentityError
from behavior_sync.statedb import StateDatabase
from behavior_sync.sync.execute import commit_plan, load_plan
from behavior_sync.sync.keying import Keying
from behavior_sync.sync.ledger import Ledger
from behavior_sync.sync.plan import Capabilities, PreparedInput, SyncPlan, check_guardrails, compute_plan, read_plan
from behavior_sync.sync.state import CommittedState, StateConflict, StateStore
from tests.support.fake_destination import FakeDestination, Row, WorkerKilled

ALICE = [("a", "email", "ha1"), ("a", "phone", "hp1")]
BOB = [("b", "email", "hb1")]
CAROL = [("c", "email", "hc1"), ("c", "first_name", "hcf")]
DAVE = [("d", "email", "hd1")]
ERIN = [("e", "email", "he1")]


@dataclass
class Engine:
    """One destination's engine on a state database and an artifacts folder."""

    folder: Path
    db: StateDatabase
    store: StateStore
    destination_id: str = "fake"

    def prepared(self, run_id: str, rows: list[Row]) -> str:
        uri = str(self.folder / run_id / "prepared.parquet")
        (self.folder / run_id).mkdir(parents=True, exist_ok=True)
        columns = list(zip(*rows, strict=True)) if rows else [[], [], []]
        table = pa.table(
            {
                n: pa.array(list(c), pa.string())
                for n, c in zip(("member_key", "id_type", "value"), columns, strict=True)
            }
        )
        pq.write_table(table, uri)
        return uri

    def plan(self, run_id: str, rows: list[Row], dest: FakeDestination, full_resync: bool = False) -> SyncPlan:
        ids = {"behavior": "b1", "destination_id": self.destination_id, "run_id": run_id}
        state = self.state()
        out = str(self.folder / run_id / "plan")
        prepared = PreparedInput(self.prepared(run_id, rows))
        return compute_plan(ids, prepared, state, out, dest.capabilities, full_resync)

    def ledger(self, plan: SyncPlan) -> Ledger:
        return Ledger(self.db, plan.behavior, plan.destination_id, plan.run_id, plan.base_version)

    def state(self) -> CommittedState | None:
        return self.store.current("b1", self.destination_id)

    def state_rows(self) -> set[Row]:
        state = self.state()
        return set() if state is None else {tuple(r.values()) for r in pq.read_table(state.uri).to_pylist()}  # type: ignore[misc]

    def sync(self, run_id: str, rows: list[Row], dest: FakeDestination, full_resync: bool = False) -> SyncPlan:
        previous = self.state()
        plan = self.plan(run_id, rows, dest, full_resync)
        load_plan(plan, dest, self.ledger(plan))
        commit_plan(plan, self.ledger(plan), self.store, previous)
        return plan


@pytest.fixture()
def engine(tmp_path: Path) -> Iterator[Engine]:
    db = StateDatabase(f"sqlite:///{tmp_path}/state.db")
    db.ensure_schema()
    yield Engine(tmp_path, db, StateStore(db, str(tmp_path / "artifacts")))
    db.close()


def exercise_first_sync_then_churn(engine: Engine) -> None:
    dest = FakeDestination()
    first = engine.sync("r1", ALICE + BOB + CAROL, dest)
    assert first.counts.add_members == 3 and first.counts.remove_rows == 0
    assert dest.rows == engine.state_rows() == set(ALICE + BOB + CAROL)
    # Bob leaves, Dave joins, Carol changes e-mail, Alice unchanged.
    churned = [*ALICE, ("c", "email", "hc2"), ("c", "first_name", "hcf"), *DAVE]
    second = engine.sync("r2", churned, dest)
    assert (second.counts.add_rows, second.counts.remove_rows, second.counts.unchanged_rows) == (2, 2, 3)
    assert second.counts.leaving_members == 1 and second.base_version == 1
    assert dest.rows == engine.state_rows() == set(churned)
    assert engine.state() is not None and engine.state().version == 2  # type: ignore[union-attr]


def test_first_sync_adds_everything_and_churn_adds_joiners_removes_leavers_and_replaces_changed_ids(
    engine: Engine,
) -> None:
    exercise_first_sync_then_churn(engine)


def test_we_only_remove_what_we_added(engine: Engine) -> None:
    dest = FakeDestination(rows={("z", "email", "someone-elses")})
    engine.sync("r1", ALICE + BOB, dest)
    plan = engine.sync("r2", ALICE, dest)
    assert plan.counts.remove_rows == 1
    assert dest.rows == {*ALICE, ("z", "email", "someone-elses")}


def test_a_whole_member_rows_destination_gets_a_changed_member_removed_whole_before_added_whole(
    engine: Engine,
) -> None:
    dest = FakeDestination(capabilities=Capabilities(2, 2, keying=Keying.ROW, key_types=frozenset({"email", "phone"})))
    engine.sync("r1", ALICE + BOB + CAROL, dest)
    first_calls = len(dest.calls)
    churned = [*ALICE, ("c", "email", "hc2"), ("c", "first_name", "hcf"), *DAVE]  # Carol changes e-mail, Bob leaves
    plan = engine.sync("r2", churned, dest)
    adds, removes = (
        {(r["member_key"], r["id_type"], r["value"]) for r in pq.read_table(uri).to_pylist()}
        for uri in (plan.adds_uri, plan.removes_uri)
    )
    assert adds == {("c", "email", "hc2"), ("c", "first_name", "hcf"), *DAVE}  # Carol whole, Dave new
    assert removes == set(BOB + CAROL)  # Bob left, Carol's old row whole
    assert [b.op for b in plan.batches] == ["remove", "add"]
    assert plan.counts.unchanged_rows == 3  # Alice's two rows and Carol's first name: only the e-mail is new
    assert [op for op, _, _ in dest.calls[first_calls:]] == ["remove", "add"]
    assert dest.rows == engine.state_rows() == set(churned)


def test_a_destination_that_cannot_remove_keeps_leavers_in_state(engine: Engine) -> None:
    dest = FakeDestination(capabilities=Capabilities(2, 2, supports_remove=False))
    engine.sync("r1", ALICE + BOB, dest)
    plan = engine.sync("r2", ALICE, dest)
    assert plan.counts.remove_rows == 1 and [b.op for b in plan.batches] == []
    assert dest.rows == engine.state_rows() == set(ALICE + BOB)  # nothing removed, so nothing forgotten


def test_batches_hold_whole_members_sized_by_capabilities(engine: Engine) -> None:
    dest = FakeDestination(capabilities=Capabilities(add_batch_members=2, remove_batch_members=1))
    plan = engine.plan("r1", ALICE + BOB + CAROL + DAVE + ERIN, dest)
    assert [(b.op, b.number, b.members, b.rows) for b in plan.batches] == [
        ("add", 0, 2, 3),
        ("add", 1, 2, 3),
        ("add", 2, 1, 1),
    ]
    assert read_plan(str(engine.folder / "r1" / "plan" / "plan.json")) == plan


@pytest.mark.parametrize(("batch_members", "kill_at"), [(1, 0), (1, 2), (1, 4), (2, 0), (2, 1), (2, 2), (4, 1)])
def test_a_load_killed_at_batch_k_resumes_without_resending_acknowledged_batches(
    engine: Engine, batch_members: int, kill_at: int
) -> None:
    rows = ALICE + BOB + CAROL + DAVE + ERIN
    dest = FakeDestination(capabilities=Capabilities(batch_members, batch_members))
    plan = engine.plan("r1", rows, dest)
    assert kill_at < len(plan.batches) == -(-5 // batch_members)
    dest.kill_before = {("add", kill_at)}
    with pytest.raises(WorkerKilled):
        load_plan(plan, dest, engine.ledger(plan))
    assert [c[1] for c in dest.calls] == list(range(kill_at))
    summary = load_plan(plan, dest, engine.ledger(plan))  # the task's retry, same run and plan
    assert summary.skipped_batches == kill_at and summary.sent_batches == len(plan.batches) - kill_at
    assert sorted(c[1] for c in dest.calls) == list(range(len(plan.batches)))  # each batch sent once
    commit_plan(plan, engine.ledger(plan), engine.store, None)
    assert dest.rows == engine.state_rows() == set(rows)


def test_a_kill_after_the_destination_applied_resends_only_that_batch(engine: Engine) -> None:
    dest = FakeDestination(kill_after={("add", 1)})
    plan = engine.plan("r1", ALICE + BOB + CAROL + DAVE, dest)
    with pytest.raises(WorkerKilled):
        load_plan(plan, dest, engine.ledger(plan))
    load_plan(plan, dest, engine.ledger(plan))
    assert [c[1] for c in dest.calls] == [0, 1, 1]  # batch 1 was never acknowledged, so it went again
    commit_plan(plan, engine.ledger(plan), engine.store, None)
    assert dest.rows == engine.state_rows()


def test_a_failed_load_commits_what_was_acknowledged_and_the_next_run_sends_the_rest(engine: Engine) -> None:
    dest = FakeDestination(fail_batches={("add", 1)})
    plan = engine.plan("r1", ALICE + BOB + CAROL + DAVE, dest)
    with pytest.raises(RuntimeError, match="503"):
        load_plan(plan, dest, engine.ledger(plan))
    commit_plan(plan, engine.ledger(plan), engine.store, None)
    assert engine.state_rows() == set(ALICE + BOB)  # only what the destination acknowledged
    dest.fail_batches.clear()
    again = engine.sync("r2", ALICE + BOB + CAROL + DAVE, dest)
    assert again.counts.add_members == 2 and dest.rows == engine.state_rows() == set(ALICE + BOB + CAROL + DAVE)


def test_rejected_rows_stay_out_of_state_and_are_retried_next_run(engine: Engine) -> None:
    dest = FakeDestination(reject=lambda op, row: "INVALID_PHONE" if row[1] == "phone" else None)
    plan = engine.sync("r1", ALICE + BOB, dest)
    assert engine.state_rows() == {ALICE[0], *BOB}
    assert engine.ledger(plan).rejection_codes() == {"INVALID_PHONE": 1}
    dest.reject = lambda op, row: None
    second = engine.sync("r2", ALICE + BOB, dest)
    assert second.counts.add_rows == 1 and engine.state_rows() == set(ALICE + BOB)


def test_rejected_removes_stay_in_state_and_are_retried(engine: Engine) -> None:
    dest = FakeDestination()
    engine.sync("r1", ALICE + BOB, dest)
    dest.reject = lambda op, row: "BUSY" if op == "remove" else None
    engine.sync("r2", ALICE, dest)
    assert set(BOB) <= engine.state_rows() and set(BOB) <= dest.rows
    dest.reject = lambda op, row: None
    third = engine.sync("r3", ALICE, dest)
    assert third.counts.remove_rows == 1 and engine.state_rows() == dest.rows == set(ALICE)


def test_commit_is_atomic_and_idempotent(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    dest = FakeDestination()
    engine.sync("r1", ALICE, dest)
    before = engine.state()
    plan = engine.plan("r2", ALICE + BOB, dest)
    load_plan(plan, dest, engine.ledger(plan))
    from behavior_sync.sync import state as state_module

    def crash(*_: Any, **__: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(state_module.StateStore, "_move_pointer", crash)
    with pytest.raises(IdentityError, match="disk full"):
        commit_plan(plan, engine.ledger(plan), engine.store, before)
    assert engine.state() == before and engine.state_rows() == set(ALICE)  # old state, whole
    monkeypatch.undo()
    after = commit_plan(plan, engine.ledger(plan), engine.store, before)
    assert commit_plan(plan, engine.ledger(plan), engine.store, before) == after  # a retried commit
    assert engine.state_rows() == set(ALICE + BOB)
    with pytest.raises(StateConflict):  # a plan computed from version 1 cannot commit over version 2
        engine.store.commit("b1", "fake", "r9", lambda rows_uri, members_uri: (0, 0), 1)
    assert engine.state() == after


def test_full_resync_replaces_when_the_destination_supports_it(engine: Engine) -> None:
    dest = FakeDestination(capabilities=Capabilities(2, 2, supports_replace=True))
    engine.sync("r1", ALICE + BOB, dest)
    dest.rows.add(("b", "email", "stale"))  # drift inside the destination
    plan = engine.sync("r2", ALICE + CAROL, dest, full_resync=True)
    assert plan.replace and {b.op for b in plan.batches} == {"replace"}
    assert dest.rows == engine.state_rows() == set(ALICE + CAROL)


def test_full_resync_without_replace_resends_everything_and_removes_leavers(engine: Engine) -> None:
    dest = FakeDestination()
    engine.sync("r1", ALICE + BOB, dest)
    plan = engine.sync("r2", ALICE, dest, full_resync=True)
    assert plan.counts.add_rows == 2 and plan.counts.remove_rows == 1
    assert dest.rows == engine.state_rows() == set(ALICE)


def test_guardrails_block_mass_removal_and_empty_segments_unless_overridden(engine: Engine) -> None:
    dest = FakeDestination()
    engine.sync("r1", ALICE + BOB + CAROL + DAVE, dest)
    counts = engine.plan("r2", ALICE, dest).counts
    verdict = check_guardrails(counts, {"max_removal_fraction": 0.5}, None, override=False)
    assert verdict.status == "blocked" and "3 of 4 members (75%)" in verdict.message
    assert '{"override_guardrails": true}' in verdict.message
    assert check_guardrails(counts, {"max_removal_fraction": 0.8}, None, override=False).status == "ok"
    assert check_guardrails(counts, {"max_removal_fraction": 0.5}, None, override=True).status == "ok"
    empty = engine.plan("r3", [], dest).counts
    assert check_guardrails(empty, {}, None, override=False).status == "blocked"
    assert check_guardrails(empty, {"allow_empty": True, "max_removal_fraction": 1.0}, None, False).status == "ok"
    assert check_guardrails(counts, {}, 100, override=True).status == "paused_too_small"


def test_planning_alone_never_moves_state(engine: Engine) -> None:
    dest = FakeDestination()
    engine.sync("r1", ALICE, dest)
    before = engine.state()
    engine.plan("r2", BOB, dest)
    assert engine.state() == before and dest.rows == set(ALICE)


def test_destination_frequency_decides_whether_a_run_syncs_it() -> None:
    import datetime as dt

    from behavior_sync.sync.steps import is_due

    now = dt.datetime(2026, 11, 30, 6, tzinfo=dt.UTC)
    assert is_due("every_run", now, now, named_in_conf=False)
    assert is_due("weekly", None, now, named_in_conf=False)  # never synced: due
    assert not is_due("weekly", now - dt.timedelta(days=3), now, named_in_conf=False)
    assert is_due("weekly", now - dt.timedelta(days=7, seconds=-30), now, named_in_conf=False)  # within the slack
    assert not is_due("daily", now - dt.timedelta(hours=12), now, named_in_conf=False)
    assert not is_due("manual", None, now, named_in_conf=False) and is_due("manual", now, now, named_in_conf=True)


def test_destination_objects_are_remembered_replaced_and_forgotten_per_behavior_and_destination(tmp_path: Path) -> None:
    from behavior_sync.sync.objects import DestinationObjects, StoredObject

    db = StateDatabase(f"sqlite:///{tmp_path}/state.db")
    db.ensure_schema()
    objects = DestinationObjects(db)
    assert objects.recall("b", "meta", "audience") is None
    objects.remember("b", "meta", "audience", StoredObject("123", "[Behavior] - B", "act_1"))
    objects.remember("b", "meta2", "audience", StoredObject("999", "other", "act_2"))
    assert objects.recall("b", "meta", "audience") == StoredObject("123", "[Behavior] - B", "act_1")
    objects.remember("b", "meta", "audience", StoredObject("456", "[Behavior] - B", "act_1"))
    assert objects.recall("b", "meta", "audience") == StoredObject("456", "[Behavior] - B", "act_1")
    objects.forget("b", "meta", "audience")
    assert objects.recall("b", "meta", "audience") is None
    assert objects.recall("b", "meta2", "audience") == StoredObject("999", "other", "act_2")
    db.close()
