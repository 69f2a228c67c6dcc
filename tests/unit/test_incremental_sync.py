"""Incremental prepare + plan (member fingerprints) give exactly the plans and states of full ones.

Two pipelines run side by side over the same churning snapshots: one prepares only the members whose
fingerprint differs from the committed state, the other prepares everyone. Their plans (adds,
removes, counts), destinations and committed states must be identical after every run, through
joins, leaves, changed identifiers, newly invalid identifiers, rejected rows and failed batches.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from behavior_sync.identity.prepare import PreparedSummary, PrepareTarget, prepare_destinations
from behavior_sync.identity.spec import DestinationSpec, IdentitySpec
from behavior_sync.identity.validate import validate_snapshot
from behavior_sync.statedb import StateDatabase
from behavior_sync.sync.execute import commit_plan, load_plan
from behavior_sync.sync.ledger import Ledger
from behavior_sync.sync.plan import Capabilities, PreparedInput, SyncPlan, compute_plan
from behavior_sync.sync.state import CommittedState, StateConflict, StateStore
from tests.support.fake_destination import FakeDestination, Row

IDENTIFIERS = {name: name for name in ("email", "phone", "first_name", "last_name", "postal_code", "country")}
DESTINATIONS = (
    DestinationSpec("meta", "meta"),
    DestinationSpec(
        "google_ads", "google_ads", {"consent": {"ad_user_data": "GRANTED", "ad_personalization": "GRANTED"}}
    ),
    DestinationSpec("hubspot_list", "hubspot", {"mode": "list"}),
)
SPEC = IdentitySpec("id", IDENTIFIERS, DESTINATIONS)
NAMES = ("Ana", "Bo", "Chloé", "Dmitri", "Eve", "Fátima")
COUNTRIES = ("US", "Brasil", "FR", "de")


def person(rng: random.Random, i: int) -> dict[str, Any]:
    """One messy member row; some identifiers missing or invalid."""
    return {
        "id": f"m{i}",
        "email": rng.choice([f" User{i}@Example.com", f"user{i}@example.com", None, "not-an-email"]),
        "phone": rng.choice([f"+1 415 555 {i % 10000:04d}", None, "12"]),
        "first_name": rng.choice([*NAMES, None]),
        "last_name": rng.choice(["Silva", "Müller", None]),
        "postal_code": rng.choice(["94105", "01310-100", None]),
        "country": rng.choice([*COUNTRIES, None]),
    }


def churn(rng: random.Random, people: dict[str, dict[str, Any]], next_id: int) -> int:
    """Members leave, join and change identifiers, in place; returns the next free id."""
    for key in rng.sample(sorted(people), k=len(people) // 8):
        del people[key]
    for key in rng.sample(sorted(people), k=len(people) // 6):
        field_name = rng.choice(list(IDENTIFIERS))
        people[key][field_name] = person(rng, rng.randrange(10_000))[field_name]
    for _ in range(rng.randrange(3, 9)):
        people[f"m{next_id}"] = person(rng, next_id)
        next_id += 1
    return next_id


@dataclass
class Pipeline:
    """Prepare -> plan -> load -> commit for every destination, incremental or full."""

    folder: Path
    incremental: bool
    capabilities: Capabilities = field(default_factory=lambda: Capabilities(3, 2))
    db: StateDatabase = field(init=False)
    store: StateStore = field(init=False)
    destinations: dict[str, FakeDestination] = field(init=False)

    def __post_init__(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.db = StateDatabase(f"sqlite:///{self.folder}/state.db")
        self.db.ensure_schema()
        self.store = StateStore(self.db, str(self.folder / "artifacts"))
        self.destinations = {d.id: FakeDestination(capabilities=self.capabilities) for d in DESTINATIONS}

    def state(self, destination_id: str) -> CommittedState | None:
        return self.store.current("b", destination_id)

    def prepare(self, run: str, identities: str, spec: IdentitySpec = SPEC) -> dict[str, PreparedSummary]:
        targets = {}
        for d in spec.destinations:
            state = self.state(d.id)
            out = self.folder / run / d.id
            base = {}
            if self.incremental and state is not None and state.members_uri is not None:
                base = {"base_version": state.version, "base_members_uri": state.members_uri}
            targets[d.id] = PrepareTarget(f"{out}/prepared.parquet", f"{out}/members.parquet", **base)
        return prepare_destinations(identities, spec, targets)

    def sync(
        self,
        run: str,
        identities: str,
        reject: Callable[[str, Row], str | None],
        fail: set[tuple[str, int]],
        spec: IdentitySpec = SPEC,
    ) -> dict[str, SyncPlan]:
        plans = {}
        for destination_id, summary in self.prepare(run, identities, spec).items():
            dest = self.destinations[destination_id]
            dest.reject, dest.fail_batches = reject, set(fail)
            previous = self.state(destination_id)
            prepared = PreparedInput(summary.uri, summary.members_uri, summary.base_version)
            ids = {"behavior": "b", "destination_id": destination_id, "run_id": run}
            plan = compute_plan(
                ids, prepared, previous, str(self.folder / run / destination_id / "plan"), dest.capabilities
            )
            ledger = Ledger(self.db, "b", destination_id, run, plan.base_version)
            with contextlib.suppress(RuntimeError):  # a failed batch: the commit keeps what was acknowledged
                load_plan(plan, dest, ledger)
            if ledger.acknowledged():
                commit_plan(plan, ledger, self.store, previous)
            plans[destination_id] = plan
        return plans

    def state_rows(self, destination_id: str) -> set[Row]:
        state = self.state(destination_id)
        return set() if state is None else {tuple(r.values()) for r in pq.read_table(state.uri).to_pylist()}  # type: ignore[misc]


def plan_rows(plan: SyncPlan) -> tuple[set[Row], set[Row]]:
    adds, removes = (
        pq.read_table(uri).select(["member_key", "id_type", "value"]).to_pylist()
        for uri in (plan.adds_uri, plan.removes_uri)
    )
    return {tuple(r.values()) for r in adds}, {tuple(r.values()) for r in removes}  # type: ignore[misc]


def identities(folder: Path, run: str, people: dict[str, dict[str, Any]], spec: IdentitySpec = SPEC) -> str:
    snapshot = folder / f"{run}.parquet"
    pq.write_table(pa.Table.from_pylist(list(people.values())), snapshot)
    return validate_snapshot(str(snapshot), str(folder / run / "identity"), spec).identities_uri


@pytest.mark.parametrize("whole_member_rows", [False, True], ids=["row_level", "whole_member_rows"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_incremental_prepare_and_plan_match_full_ones_through_churn_rejections_and_failed_batches(
    tmp_path: Path, seed: int, whole_member_rows: bool
) -> None:
    rng = random.Random(seed)
    people = {f"m{i}": person(rng, i) for i in range(60)}
    next_id = 60
    capabilities = Capabilities(3, 2, whole_member_rows=whole_member_rows)
    fast, full = Pipeline(tmp_path / "fast", True, capabilities), Pipeline(tmp_path / "full", False, capabilities)
    for number in range(5):
        run = f"r{number}"
        uri = identities(tmp_path, run, people)
        bad = rng.choice("0123456789abcdef")
        reject: Callable[[str, Row], str | None] = lambda op, row, bad=bad: "BAD" if row[2].endswith(bad) else None  # noqa: E731
        fail = {("add", 1)} if number == 2 else set()
        fast_plans, full_plans = fast.sync(run, uri, reject, fail), full.sync(run, uri, reject, fail)
        for destination_id, plan in fast_plans.items():
            other = full_plans[destination_id]
            assert plan.incremental == (number > 0) and not other.incremental
            assert plan_rows(plan) == plan_rows(other), (run, destination_id)
            assert plan.counts == other.counts, (run, destination_id)
            assert fast.destinations[destination_id].rows == full.destinations[destination_id].rows
            assert fast.state_rows(destination_id) == full.state_rows(destination_id)
        next_id = churn(rng, people, next_id)


def test_only_changed_members_are_prepared_and_unchanged_ones_cost_nothing(tmp_path: Path) -> None:
    rng = random.Random(7)
    people = {f"m{i}": person(rng, i) | {"email": f"user{i}@example.com"} for i in range(40)}
    pipeline = Pipeline(tmp_path, True)
    pipeline.sync("r0", identities(tmp_path, "r0", people), lambda op, row: None, set())
    people["m1"]["email"] = "changed@example.com"
    del people["m2"]
    second = pipeline.prepare("r1", identities(tmp_path, "r1", people))
    meta = second["meta"]
    assert (meta.members, meta.changed_members, meta.base_version) == (39, 1, 1)
    assert {r["member_key"] for r in pq.read_table(meta.uri).to_pylist()} == {"m1"}


def test_a_rejected_row_leaves_its_member_unsettled_so_the_next_run_retries_it(tmp_path: Path) -> None:
    people = {f"m{i}": {"id": f"m{i}", "email": f"user{i}@example.com"} for i in range(5)}
    spec = IdentitySpec("id", {"email": "email"}, DESTINATIONS[:1])
    pipeline = Pipeline(tmp_path, True)
    uri = identities(tmp_path, "r0", people, spec)
    summary = pipeline.prepare("r0", uri, spec)["meta"]
    dest = pipeline.destinations["meta"]
    dest.reject = lambda op, row: "INVALID" if row[0] == "m3" else None
    plan = compute_plan(
        {"behavior": "b", "destination_id": "meta", "run_id": "r0"},
        PreparedInput(summary.uri, summary.members_uri),
        None,
        str(tmp_path / "plan0"),
        dest.capabilities,
    )
    ledger = Ledger(pipeline.db, "b", "meta", "r0", 0)
    load_plan(plan, dest, ledger)
    state = commit_plan(plan, ledger, pipeline.store, None)
    fps = {r["member_key"]: r["fp"] for r in pq.read_table(state.members_uri).to_pylist()}  # type: ignore[arg-type]
    assert "m3" not in fps and all(fps[k] is not None for k in ("m0", "m1", "m2", "m4"))
    dest.reject = lambda op, row: None
    again = pipeline.prepare("r1", identities(tmp_path, "r1", people, spec), spec)["meta"]
    assert (again.changed_members, again.base_version) == (1, 1)  # only the rejected member is redone
    retry = compute_plan(
        {"behavior": "b", "destination_id": "meta", "run_id": "r1"},
        PreparedInput(again.uri, again.members_uri, again.base_version),
        state,
        str(tmp_path / "plan1"),
        dest.capabilities,
    )
    assert [r[0] for r in plan_rows(retry)[0]] == ["m3"] and retry.counts.unchanged_rows == 4


def test_changed_rules_or_mappings_make_every_member_changed(tmp_path: Path) -> None:
    people = {f"m{i}": {"id": f"m{i}", "email": f"user{i}@example.com", "first_name": "Ana"} for i in range(4)}
    spec = IdentitySpec("id", {"email": "email", "first_name": "first_name"}, DESTINATIONS[:1])
    pipeline = Pipeline(tmp_path, True)
    pipeline.sync("r0", identities(tmp_path, "r0", people, spec), lambda op, row: None, set(), spec)
    narrower = IdentitySpec("id", {"email": "email"}, DESTINATIONS[:1])
    summary = pipeline.prepare("r1", identities(tmp_path, "r1", people, narrower), narrower)["meta"]
    assert summary.changed_members == summary.members == 4
    plan = compute_plan(
        {"behavior": "b", "destination_id": "meta", "run_id": "r1"},
        PreparedInput(summary.uri, summary.members_uri, summary.base_version),
        pipeline.state("meta"),
        str(tmp_path / "plan1"),
        Capabilities(10, 10),
    )
    adds, removes = plan_rows(plan)
    assert not adds and {r[1] for r in removes} == {"first_name", "first_initial"}


def test_a_plan_refuses_an_incremental_prepare_made_against_another_state_version(tmp_path: Path) -> None:
    people = {f"m{i}": {"id": f"m{i}", "email": f"user{i}@example.com"} for i in range(3)}
    spec = IdentitySpec("id", {"email": "email"}, DESTINATIONS[:1])
    pipeline = Pipeline(tmp_path, True)
    pipeline.sync("r0", identities(tmp_path, "r0", people, spec), lambda op, row: None, set(), spec)
    summary = pipeline.prepare("r1", identities(tmp_path, "r1", people, spec), spec)["meta"]
    prepared = PreparedInput(summary.uri, summary.members_uri, summary.base_version)
    ids = {"behavior": "b", "destination_id": "meta", "run_id": "r1"}
    with pytest.raises(StateConflict, match="clear the prepare task"):
        compute_plan(ids, prepared, None, str(tmp_path / "p"), Capabilities(10, 10))
    with pytest.raises(ValueError, match="full_resync needs every member prepared"):
        compute_plan(ids, prepared, pipeline.state("meta"), str(tmp_path / "p"), Capabilities(10, 10), True)
