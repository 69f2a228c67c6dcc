"""The Meta destination through the sync engine, reaching the Meta sandbox with the real facebook-business SDK.

Each test plans, loads and commits like a DAG run does (engine functions, no Airflow), then asserts what
the sandbox holds (its inspection endpoint), what the committed state says and what the ledger recorded.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import pyarrow as pa
import pytest

from behavior_sync.destinations.meta import MetaDestination, MetaTarget
from behavior_sync.destinations.meta_audience import AudienceSpec, LoadKey
from behavior_sync.destinations.meta_client import MetaClient, MetaCredentials
from behavior_sync.destinations.meta_errors import MetaError
from behavior_sync.destinations.meta_rows import WIRE_KEYS, MetaRows, delete_chunks
from behavior_sync.destinations.retry import RetryPolicy
from behavior_sync.statedb import StateDatabase
from behavior_sync.sync.execute import BatchContext, Destination
from behavior_sync.sync.objects import DestinationObjects
from behavior_sync.sync.plan import SyncPlan
from behavior_sync_airflow.destination_registry import CAPABILITIES
from tests.support.engine_run import EngineRun, Row
from tests.support.fake_destination import WorkerKilled
from tests.support.meta_harness import ACCOUNT, OTHER_TOKEN, READ_ONLY_TOKEN, TOKEN, MetaHarness, meta_starter, sha

SMALL_BATCHES = replace(CAPABILITIES["meta"], add_batch_members=40, remove_batch_members=15)
LABEL = "behavior value_hunters, destination meta"


def member(key: str, email: str | None = None) -> list[Row]:
    """A member with the demo's seven Meta keys, values hashed as the identity core sends them."""
    values = {
        "email": sha(email or f"{key}@example.com"),
        "phone": sha(f"44{int(sha(key)[:8], 16)}"),
        "first_name": sha(f"first{key}"),
        "last_name": sha(f"last{key}"),
        "postal_code": sha("sw1a1"),
        "country": sha("gb"),
        "mobile_id": str(uuid.uuid5(uuid.NAMESPACE_OID, key)),
    }
    return [(key, id_type, value) for id_type, value in values.items()]


def members(keys: range | list[str]) -> list[Row]:
    return [row for k in keys for row in member(str(k))]


def as_meta_rows(rows: list[Row]) -> set[frozenset[tuple[str, str]]]:
    """What the sandbox should hold for these rows: one row of (KEY, value) pairs per member."""
    by_member: dict[str, set[tuple[str, str]]] = {}
    for key, id_type, value in rows:
        by_member.setdefault(key, set()).add((WIRE_KEYS[id_type], value))
    return {frozenset(pairs) for pairs in by_member.values()}


@dataclass
class MetaSync(EngineRun):
    """The engine (``EngineRun``: state database, plan/load/commit) and the Meta destination against one sandbox."""

    sandbox: MetaHarness
    sleeps: list[float] = field(default_factory=list)

    def destination(self, run_id: str, token: str = TOKEN, policy: RetryPolicy | None = None) -> MetaDestination:
        credentials = MetaCredentials(token, f"act_{ACCOUNT}", base_url=self.sandbox.base_url)
        client = MetaClient(credentials, LABEL, policy, sleep=self.sleeps.append)
        state = self.store.current("value_hunters", "meta")
        spec = AudienceSpec("[Behavior] - Value Hunters", "Customers who mostly buy on discount.", "USER_PROVIDED_ONLY")
        key = LoadKey("value_hunters", "meta", state is not None and state.members > 0)
        return MetaDestination(client, DestinationObjects(self.db), MetaTarget(spec, key, run_id), self.capabilities)

    def load(self, plan: SyncPlan, destination: Destination | None = None) -> None:
        super().load(plan, destination or self.destination(plan.run_id))

    def sync(self, run_id: str, rows: list[Row], full_resync: bool = False) -> SyncPlan:
        plan = self.plan(run_id, rows, full_resync)
        self.load(plan)
        self.commit(plan)
        return plan

    def audience_id(self) -> str:
        stored = DestinationObjects(self.db).recall("value_hunters", "meta", "audience")
        assert stored is not None
        return stored.object_id

    def audience(self) -> set[frozenset[tuple[str, str]]]:
        return {frozenset(row.items()) for row in self.sandbox.members(self.audience_id())}

    def calls(self, key: str) -> int:
        return int(self.sandbox.state()["calls"].get(key, 0))


@pytest.fixture()
def meta_sync(tmp_path: Path) -> Iterator[MetaSync]:
    db = StateDatabase(f"sqlite:///{tmp_path}/state.db")
    db.ensure_schema()
    with meta_starter() as start:
        yield MetaSync(tmp_path, db, SMALL_BATCHES, "value_hunters", "meta", start())
    db.close()


def test_first_sync_fills_the_audience_with_exactly_the_expected_hashed_rows(meta_sync: MetaSync) -> None:
    rows = members(range(100))
    plan = meta_sync.sync("r1", rows)
    assert [b.op for b in plan.batches] == ["add"] * 3
    assert meta_sync.audience() == as_meta_rows(rows) and meta_sync.committed() == set(rows)
    assert meta_sync.calls("POST audience/users") == 3 and meta_sync.calls("POST account/customaudiences") == 1
    report = meta_sync.destination("r1").report()
    assert report is not None and report.name == "[Behavior] - Value Hunters"
    assert report.size_lower_bound <= 100 <= report.size_upper_bound and report.delivery_status.startswith("200")


def test_churned_sync_adds_joiners_removes_leavers_and_a_changed_email_leaves_one_whole_new_row(
    meta_sync: MetaSync,
) -> None:
    meta_sync.sync("r1", members(range(60)))
    changed = member("5", email="new.five@example.com")  # member 5 changes e-mail only
    second = [r for r in members(range(50)) if r[0] != "5"] + changed + members(range(60, 75))  # 50-59 leave
    plan = meta_sync.sync("r2", second)
    # Meta removes a stored row by any of its keys, so member 5 is removed whole (its old row) before it is
    # added whole (its new row): removes go first, and each changed member costs 7 + 7 identifier rows.
    assert plan.counts.leaving_members == 10 and plan.counts.add_members == 16 and plan.counts.remove_members == 11
    assert (plan.counts.add_rows, plan.counts.remove_rows) == (16 * 7, 11 * 7)
    assert [b.op for b in plan.batches] == ["remove", "add"]
    held = meta_sync.audience()
    assert held == as_meta_rows(second)  # every member exactly one row of its current keys, leavers gone
    emails = {v for row in held for k, v in row if k == "EMAIL"}
    assert sha("new.five@example.com") in emails and sha("5@example.com") not in emails
    assert meta_sync.committed() == set(second)


def test_rows_meta_reports_invalid_become_rejections_without_values(meta_sync: MetaSync) -> None:
    bad = [(f"bad{i}", "email", sha(f"bad{i}").upper()) for i in range(12)]  # upper-case hex: refused
    rows = members(range(30)) + bad
    meta_sync.capabilities = replace(CAPABILITIES["meta"], add_batch_members=100, remove_batch_members=15)
    plan = meta_sync.sync("r1", rows)
    ledger = meta_sync.ledger(plan)
    assert ledger.rejection_codes() == {"invalid_entry": 12} and len(ledger.rejected("add")) == 12
    assert meta_sync.audience() == as_meta_rows(members(range(30))) and meta_sync.committed() == set(members(range(30)))
    (entry,) = ledger.entries()
    assert (entry.accepted, entry.rejected) == (30 * 7, 12)
    with meta_sync.db.engine.connect() as conn:
        messages = [m for (m,) in conn.exec_driver_sql("SELECT message FROM bsync_rejections")]
    assert all("EMAIL" in m and not any(v in m for _, _, v in bad) for m in messages)


def test_a_throttle_and_a_5xx_burst_are_survived_with_nothing_lost(meta_sync: MetaSync) -> None:
    meta_sync.sandbox.control(
        "faults",
        {
            "scripted": [
                {"match": "POST /\\d+/users$", "count": 1, "code": 80003, "estimated_time_to_regain_access": 3},
                {"match": "/users$", "count": 3, "http_status": 503},
            ]
        },
    )
    rows = members(range(100))
    plan = meta_sync.sync("r1", rows)
    assert 180 in meta_sync.sleeps and len(meta_sync.sleeps) == 4  # 3 minutes as Meta asked, then 3 backoffs
    assert len(meta_sync.ledger(plan).acknowledged()) == len(plan.batches)
    assert meta_sync.audience() == as_meta_rows(rows) and meta_sync.committed() == set(rows)


def test_a_throttle_beyond_the_time_budget_fails_the_batch_for_an_airflow_retry(meta_sync: MetaSync) -> None:
    meta_sync.sandbox.control(
        "faults", {"scripted": [{"match": "POST /\\d+/users$", "code": 80003, "estimated_time_to_regain_access": 60}]}
    )
    rows = members(range(50))
    plan = meta_sync.plan("r1", rows)
    with pytest.raises(MetaError, match=r"code 80003.*beyond the task's throttle budget of 900 s") as info:
        meta_sync.load(plan)
    assert LABEL in str(info.value) and meta_sync.ledger(plan).acknowledged() == set()
    meta_sync.load(plan)  # the Airflow retry: the throttle is over
    meta_sync.commit(plan)
    assert meta_sync.audience() == as_meta_rows(rows)


class KillAfter:
    """The Meta destination with the worker dying right after Meta applied batch ``at``."""

    def __init__(self, destination: MetaDestination, at: tuple[str, int]) -> None:
        self.capabilities = destination.capabilities
        self.destination, self.at = destination, at

    def send(self, rows: pa.Table, context: BatchContext) -> object:
        result = self.destination.send(rows, context)
        if (context.op, context.number) == self.at:
            raise WorkerKilled(f"killed after {self.at}")
        return result


@pytest.mark.parametrize(("full_resync", "op"), [(False, "remove"), (True, "replace")])
def test_a_load_killed_after_batch_k_and_rerun_leaves_the_audience_exactly_right(
    meta_sync: MetaSync, full_resync: bool, op: str
) -> None:
    meta_sync.sync("r1", members(range(80)))
    rows = members(range(30, 110))  # 30 leave (two remove batches), 30 join; or two replace batches
    plan = meta_sync.plan("r2", rows, full_resync)
    with pytest.raises(WorkerKilled):
        meta_sync.load(plan, KillAfter(meta_sync.destination("r2"), (op, 0)))  # type: ignore[arg-type]
    meta_sync.load(plan)  # the retried task: a new client, batch 0 again (idempotent), then the rest
    meta_sync.commit(plan)
    assert meta_sync.audience() == as_meta_rows(rows) and meta_sync.committed() == set(rows)


def test_a_full_resync_replaces_the_whole_audience_in_one_usersreplace_session(meta_sync: MetaSync) -> None:
    meta_sync.sync("r1", members(range(50)))
    foreign = [sha("someone@else.com"), *[""] * 6]
    meta_sync.sandbox.audience(meta_sync.audience_id()).add_users(
        list(WIRE_KEYS.values())[:7], [foreign], is_raw=True, pre_hashed=True
    )
    rows = members(range(20, 120))
    plan = meta_sync.sync("r2", rows, full_resync=True)
    assert plan.replace and [b.op for b in plan.batches] == ["replace"] * 3
    assert meta_sync.calls("POST audience/usersreplace") == 3 and meta_sync.calls("DELETE audience/users") == 0
    assert meta_sync.audience() == as_meta_rows(rows) and meta_sync.committed() == set(rows)


def test_bad_token_and_missing_permissions_fail_with_what_to_do_and_no_secret(meta_sync: MetaSync) -> None:
    batch, context = (
        pa.table({"member_key": ["a"], "id_type": ["email"], "value": [sha("a")]}),
        BatchContext("add", 0, 1, 1),
    )
    cases = {
        "not-a-token": r"code 190.*access token is invalid or expired",
        OTHER_TOKEN: r"code 200.*no access to the ad account",
        READ_ONLY_TOKEN: r"code 294.*ads_management",
    }
    for token, expected in cases.items():
        with pytest.raises(MetaError, match=expected) as info:
            meta_sync.destination("r1", token=token).send(batch, context)
        assert str(info.value).startswith(LABEL) and token not in str(info.value) and sha("a") not in str(info.value)
        assert info.value.__context__ is None  # the SDK's exception (it quotes the request) is not chained


def test_a_deleted_audience_is_forgotten_and_only_a_full_resync_refills_its_successor(meta_sync: MetaSync) -> None:
    rows = members(range(50))
    meta_sync.sync("r1", rows)
    old = meta_sync.audience_id()
    meta_sync.sandbox.audience(old).api_delete()
    with pytest.raises(MetaError, match=r"audience synced before is gone.*full_resync") as info:
        meta_sync.sync("r2", rows + member("new"))
    assert "airflow dags trigger behavior__value_hunters" in str(info.value)
    meta_sync.sync("r3", rows, full_resync=True)
    assert meta_sync.audience_id() != old and meta_sync.audience() == as_meta_rows(rows)


def test_a_flagged_audience_fails_with_what_to_do(meta_sync: MetaSync) -> None:
    meta_sync.sync("r1", members(range(20)))
    meta_sync.sandbox.control(f"audiences/{meta_sync.audience_id()}/flag", {"flagged": True})
    with pytest.raises(MetaError, match=r"flagged.*delete the flagged audience.*full re-sync"):
        meta_sync.sync("r2", members(range(25)))


def test_the_meta_remove_batch_fits_one_delete_url_of_the_full_schema(start_meta_64k: MetaHarness) -> None:
    """The measurement behind CAPABILITIES['meta'].remove_batch_members, against a 64 KiB URL limit."""
    size = CAPABILITIES["meta"].remove_batch_members
    schema = ["EMAIL", "PHONE", "FN", "LN", "ZIP", "COUNTRY", "MADID"]
    data = [[sha(f"{k}{i}") for k in schema[:-1]] + [str(uuid.uuid4())] for i in range(size)]
    assert len(delete_chunks(MetaRows(tuple(schema), tuple(map(tuple, data)), ("m",) * size, ((),) * size))) == 1
    audience = start_meta_64k.audience(start_meta_64k.create_audience())
    answer = audience.remove_users(schema, data, is_raw=True, pre_hashed=True).json()
    assert answer["num_received"] == size and answer["num_invalid_entries"] == 0
    wider = MetaRows(tuple(WIRE_KEYS.values()), ((sha("x"),) * 15,) * size, ("m",) * size, ((),) * size)
    assert len(delete_chunks(wider)) == 3  # a 15-key row costs ~1,100 bytes: the client splits it in three


@pytest.fixture()
def start_meta_64k() -> Iterator[MetaHarness]:
    with meta_starter() as start:
        yield start(max_url_bytes=64 * 1024)
