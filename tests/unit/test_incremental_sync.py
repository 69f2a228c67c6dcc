"""Incremental prepare + plan (member fingerprints) give exactly the plans and states of full ones, and both
leave a destination holding exactly the current members' values, whatever it keys on.

Two pipelines run side by side over the same churning snapshots: one prepares only the members whose
fingerprint differs from the committed state, the other prepares everyone. Their plans (adds,
removes, settle rows, counts), destinations and committed states must be identical after every run, through
joins, leaves, changed identifiers, identifiers shared by several members, newly invalid identifiers,
rejected rows, failed batches and workers killed mid-load followed by a new run. Destinations key like
vendors (``KeyedDestination``): after every clean run each holds exactly what the current members need.
"""

from __future__ import annotations

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
from behavior_sync.sync.fold import fold_open_plans, register
from behavior_sync.sync.keying import Keying
from behavior_sync.sync.ledger import Ledger
from behavior_sync.sync.plan import Capabilities, PreparedInput, SyncPlan, compute_plan
from behavior_sync.sync.state import CommittedState, StateConflict, StateStore
from tests.support.fake_destination import KeyedDestination, Row, WorkerKilled

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


def person(rng: random.Random, i: int, others: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """One messy member row; some identifiers missing or invalid, and about one in five sharing an e-mail or
    a phone with one of ``others`` (households, shared inboxes, duplicate CRM records)."""
    row = {
        "id": f"m{i}",
        "email": rng.choice([f" User{i}@Example.com", f"user{i}@example.com", None, "not-an-email"]),
        "phone": rng.choice([f"+1 415 555 {i % 10000:04d}", None, "12"]),
        "first_name": rng.choice([*NAMES, None]),
        "last_name": rng.choice(["Silva", "Müller", None]),
        "postal_code": rng.choice(["94105", "01310-100", None]),
        "country": rng.choice([*COUNTRIES, None]),
    }
    if others and rng.random() < 0.2:
        shared = rng.choice(["email", "phone"])
        row[shared] = others[rng.choice(sorted(others))][shared]
    return row


def churn(rng: random.Random, people: dict[str, dict[str, Any]], next_id: int) -> int:
    """Members leave, join and change identifiers, in place; returns the next free id."""
    for key in rng.sample(sorted(people), k=len(people) // 8):
        del people[key]
    for key in rng.sample(sorted(people), k=len(people) // 6):
        field_name = rng.choice(list(IDENTIFIERS))
        people[key][field_name] = person(rng, rng.randrange(10_000), people)[field_name]
    for _ in range(rng.randrange(3, 9)):
        people[f"m{next_id}"] = person(rng, next_id, people)
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
    destinations: dict[str, KeyedDestination] = field(init=False)
    prepared: dict[str, str] = field(init=False, default_factory=dict)  # the last run's prepared rows

    def __post_init__(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.db = StateDatabase(f"sqlite:///{self.folder}/state.db")
        self.db.ensure_schema()
        self.store = StateStore(self.db, str(self.folder / "artifacts"))
        self.destinations = {d.id: KeyedDestination(self.capabilities) for d in DESTINATIONS}

    def state(self, destination_id: str) -> CommittedState | None:
        return self.store.current("b", destination_id)

    def prepare(self, run: str, identities: str, spec: IdentitySpec = SPEC) -> dict[str, PreparedSummary]:
        targets = {}
        for d in spec.destinations:
            fold_open_plans(self.store, "b", d.id, run)  # what a killed earlier run got acknowledged
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
        kill: set[tuple[str, int]] = frozenset(),  # type: ignore[assignment]
    ) -> dict[str, SyncPlan]:
        """One run; ``kill`` names batches after which the worker dies: that run never commits."""
        plans = {}
        for destination_id, summary in self.prepare(run, identities, spec).items():
            dest = self.destinations[destination_id]
            dest.reject, dest.fail_batches, dest.kill_after = reject, set(fail), set(kill)
            previous = self.state(destination_id)
            prepared = PreparedInput(summary.uri, summary.members_uri, summary.base_version)
            self.prepared[destination_id] = summary.uri if not summary.base_version else ""
            ids = {"behavior": "b", "destination_id": destination_id, "run_id": run}
            out = self.folder / run / destination_id / "plan"
            plan = compute_plan(ids, prepared, previous, str(out), dest.capabilities)
            register(self.db, plan, str(out / "plan.json"))
            ledger = Ledger(self.db, "b", destination_id, run, plan.base_version)
            try:
                load_plan(plan, dest, ledger)
            except RuntimeError:  # a failed batch: the commit keeps what was acknowledged
                pass
            except WorkerKilled:  # the run dies: the next run folds what it got acknowledged
                plans[destination_id] = plan
                continue
            if plan.has_commit(ledger):
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


def settle_rows(plan: SyncPlan) -> list[tuple[Any, ...]]:
    assert plan.settle_uri is not None
    return sorted((tuple(r.values()) for r in pq.read_table(plan.settle_uri).to_pylist()), key=repr)


def expected(dest: KeyedDestination, prepared_uri: str) -> set[frozenset[tuple[str, str]]]:
    """What ``dest`` must hold for the members prepared at ``prepared_uri`` (every current member)."""
    by_member: dict[str, set[tuple[str, str]]] = {}
    for r in pq.read_table(prepared_uri).to_pylist():
        by_member.setdefault(r["member_key"], set()).update(dest.pairs(r["member_key"], r["id_type"], r["value"]))
    model = KeyedDestination(dest.capabilities)
    for values in by_member.values():
        for part in [values] if dest.capabilities.keying != Keying.MEMBER else [{v} for v in values]:
            model._apply("add", frozenset(part))
    return model.stored


KEYINGS = {
    "member": Capabilities(3, 2),
    "value": Capabilities(
        3, 2, keying=Keying.VALUE, key_types=frozenset({"email"}), applied_stages=frozenset({"applying"})
    ),
    "row": Capabilities(3, 2, keying=Keying.ROW, key_types=frozenset({"email", "phone", "address"})),
}


def identities(folder: Path, run: str, people: dict[str, dict[str, Any]], spec: IdentitySpec = SPEC) -> str:
    snapshot = folder / f"{run}.parquet"
    pq.write_table(pa.Table.from_pylist(list(people.values())), snapshot)
    return validate_snapshot(str(snapshot), str(folder / run / "identity"), spec).identities_uri


@pytest.mark.parametrize("keying", sorted(KEYINGS))
@pytest.mark.parametrize("seed", [1, 2])
def test_incremental_and_full_plans_agree_and_destinations_end_exact_through_shared_values_faults_and_kills(
    tmp_path: Path, seed: int, keying: str
) -> None:
    rng = random.Random(seed)
    people: dict[str, dict[str, Any]] = {}
    for i in range(60):
        people[f"m{i}"] = person(rng, i, people)
    next_id = 60
    capabilities = KEYINGS[keying]
    fast, full = Pipeline(tmp_path / "fast", True, capabilities), Pipeline(tmp_path / "full", False, capabilities)
    foreign = {frozenset({("email", "foreign")} | ({("phone", "foreign")} if keying != "value" else set()))}
    for pipeline in (fast, full):  # content someone else put there: never ours to remove
        for dest in pipeline.destinations.values():
            dest.stored |= foreign
    for number in range(7):
        run = f"r{number}"
        uri = identities(tmp_path, run, people)
        bad = rng.choice("0123456789abcdef")
        faulty = number in (2, 3, 5)
        reject: Callable[[str, Row], str | None] = lambda op, row, bad=bad, faulty=faulty: (  # noqa: E731
            "BAD" if faulty and row[2].endswith(bad) else None
        )
        fail = {("add", 1)} if number == 2 else set()
        kill = {("remove", 0), ("add", 0)} if number in (3, 5) else set()
        fast_plans, full_plans = (
            fast.sync(run, uri, reject, fail, kill=kill),
            full.sync(run, uri, reject, fail, kill=kill),
        )
        for destination_id, plan in fast_plans.items():
            other = full_plans[destination_id]
            assert plan.incremental == (number > 0) and not other.incremental
            assert plan_rows(plan) == plan_rows(other), (run, destination_id)
            assert settle_rows(plan) == settle_rows(other), (run, destination_id)
            assert plan.counts == other.counts, (run, destination_id)
            assert fast.destinations[destination_id].stored == full.destinations[destination_id].stored
            assert fast.state_rows(destination_id) == full.state_rows(destination_id)
            dest = full.destinations[destination_id]
            if not (faulty or fail):
                assert dest.stored == expected(dest, full.prepared[destination_id]) | foreign, (run, destination_id)
            if keying == "value":  # a value is added when it enters, removed when it leaves: never twice
                assert not dest.redundant, (run, destination_id, dest.redundant)
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
