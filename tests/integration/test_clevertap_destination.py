"""The CleverTap destination through the sync engine, against the CleverTap sandbox over real HTTP.

Each test plans, loads and commits like a DAG run does (engine functions, no Airflow), then asserts what
the sandbox holds (profiles and the event log, in arrival order), the committed state and the ledger.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import requests

from behavior_sync.destinations.clevertap import EVENTS_SENDING, CleverTapDestination
from behavior_sync.destinations.clevertap_client import CleverTapClient, credential_headers
from behavior_sync.destinations.clevertap_errors import CleverTapDeliveryUnknown, CleverTapError
from behavior_sync.destinations.clevertap_records import Membership
from behavior_sync.destinations.retry import RetryPolicy
from behavior_sync.statedb import StateDatabase
from behavior_sync.sync.execute import BatchContext, commit_plan, load_plan
from behavior_sync.sync.ledger import BatchResult, Ledger
from behavior_sync.sync.plan import Capabilities, PreparedInput, SyncPlan, compute_plan
from behavior_sync.sync.state import StateStore
from behavior_sync_airflow.destination_registry import CAPABILITIES
from tests.support.clevertap_harness import CT_ACCOUNT, CT_PASSCODE, CleverTapHarness, clevertap_starter
from tests.support.fake_destination import WorkerKilled

Row = tuple[str, str, str]
SMALL_BATCHES = replace(CAPABILITIES["clevertap"], add_batch_members=10, remove_batch_members=10)
FAST = RetryPolicy(attempts=4, backoff_seconds=0.05, max_backoff_seconds=0.2, throttle_budget_seconds=30)


def member(key: str, phone: str | None = None) -> list[Row]:
    """A member identified by e-mail (identity and Email) with a phone, as prepare writes CleverTap rows."""
    email = f"customer.{key}@example.com"
    return [(key, "identity", email), (key, "email", email), (key, "phone", phone or f"+4477009{int(key):05d}")]


def members(keys: range) -> list[Row]:
    return [row for k in keys for row in member(str(k))]


def email(key: int) -> str:
    return f"customer.{key}@example.com"


class AnswerLost(requests.Session):
    """A session whose event uploads reach CleverTap but whose answer is lost (a read timeout after sending)."""

    def post(self, url: str | bytes, data: Any = None, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        response = super().post(url, data=data, **kwargs)
        if b'"type":"event"' in data:
            raise requests.ReadTimeout("the answer was lost")
        return response


class EventsFail(requests.Session):
    """A session that makes the sandbox answer the event uploads with 503 twice (a scripted sandbox fault)."""

    def __init__(self, sandbox: CleverTapHarness) -> None:
        super().__init__()
        self.sandbox, self.armed = sandbox, False

    def post(self, url: str | bytes, data: Any = None, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if b'"type":"event"' in data and not self.armed:
            self.armed = True
            self.sandbox.control("faults", {"scripted": [{"match": "upload", "count": 2, "http_status": 503}]})
        return super().post(url, data=data, **kwargs)


@dataclass
class CleverTapSync:
    """The engine, a state database and the CleverTap destination against one sandbox."""

    sandbox: CleverTapHarness
    folder: Path
    db: StateDatabase
    capabilities: Capabilities = SMALL_BATCHES
    behavior: str = "value_hunters"

    @property
    def store(self) -> StateStore:
        return StateStore(self.db, str(self.folder / "artifacts"))

    def destination(self, session: requests.Session | None = None, policy: RetryPolicy = FAST) -> CleverTapDestination:
        session = session or requests.Session()
        session.headers.update(credential_headers(CT_ACCOUNT, CT_PASSCODE))
        client = CleverTapClient(session, f"{self.sandbox.base_url}/us1", CT_ACCOUNT, self.behavior, policy)
        membership = Membership(self.behavior, self.behavior.replace("_", " ").title(), "clevertap", True)
        return CleverTapDestination(client, membership, self.capabilities, clock=lambda: 1_790_000_000)

    def plan(self, run_id: str, rows: list[Row]) -> SyncPlan:
        folder = self.folder / self.behavior / run_id
        folder.mkdir(parents=True, exist_ok=True)
        columns = list(zip(*rows, strict=True))
        table = pa.table(
            {
                n: pa.array(list(c), pa.string())
                for n, c in zip(("member_key", "id_type", "value"), columns, strict=True)
            }
        )
        pq.write_table(table, folder / "prepared.parquet")
        ids = {"behavior": self.behavior, "destination_id": "clevertap", "run_id": run_id}
        state = self.store.current(self.behavior, "clevertap")
        return compute_plan(
            ids, PreparedInput(str(folder / "prepared.parquet")), state, str(folder / "plan"), self.capabilities
        )

    def ledger(self, plan: SyncPlan) -> Ledger:
        return Ledger(self.db, plan.behavior, plan.destination_id, plan.run_id, plan.base_version)

    def load(self, plan: SyncPlan, destination: Any = None) -> None:
        load_plan(plan, destination or self.destination(), self.ledger(plan))

    def commit(self, plan: SyncPlan) -> None:
        previous = self.store.current(self.behavior, "clevertap")
        commit_plan(plan, self.ledger(plan), self.store, previous if plan.base_version else None)

    def sync(self, run_id: str, rows: list[Row]) -> SyncPlan:
        plan = self.plan(run_id, rows)
        self.load(plan)
        self.commit(plan)
        return plan

    def members_in(self) -> set[str]:
        """Identities whose profile says they are in the behavior."""
        prop = f"behavior_{self.behavior}"
        return {i for i, p in self.sandbox.profiles().items() if p.get(prop) is True}

    def events(self, name: str) -> list[str]:
        """Identities of the behavior's events called ``name``, in arrival order."""
        found = self.sandbox.events(evtName=name)
        return [e["identity"] for e in found if e["evtData"]["behavior"] == self.behavior]

    def committed(self) -> set[Row]:
        state = self.store.current(self.behavior, "clevertap")
        assert state is not None
        return {(r["member_key"], r["id_type"], r["value"]) for r in pq.read_table(state.uri).to_pylist()}


@dataclass
class KillAfterSend:
    """Delegates to a destination, then kills the worker after batch ``number`` was applied (before the ledger
    records it): the crash the exactly-once guarantee is about."""

    inner: CleverTapDestination
    number: int
    capabilities: Capabilities = field(init=False)

    def __post_init__(self) -> None:
        self.capabilities = self.inner.capabilities

    def send(self, rows: pa.Table, context: BatchContext) -> BatchResult:
        result = self.inner.send(rows, context)
        if context.number == self.number:
            raise WorkerKilled(f"killed after batch {self.number}")
        return result


@pytest.fixture()
def ct_sync(tmp_path: Path) -> Iterator[CleverTapSync]:
    db = StateDatabase(f"sqlite:///{tmp_path}/state.db")
    db.ensure_schema()
    with clevertap_starter() as start:
        yield CleverTapSync(start(), tmp_path, db)
    db.close()


def test_first_and_churned_sync_leave_exactly_the_expected_profiles_and_one_event_per_transition(
    ct_sync: CleverTapSync,
) -> None:
    ct_sync.sync("r1", members(range(25)))
    assert ct_sync.members_in() == {email(k) for k in range(25)}
    assert sorted(ct_sync.events("Behavior Entered")) == sorted(email(k) for k in range(25))
    assert ct_sync.sandbox.profile(email(3))["properties"]["Phone"] == "+447700900003"

    ct_sync.sync("r2", members(range(5, 32)))  # 0-4 leave, 25-31 join
    assert ct_sync.members_in() == {email(k) for k in range(5, 32)}
    left = {email(k) for k in range(5)}
    assert {i for i, p in ct_sync.sandbox.profiles().items() if p.get("behavior_value_hunters") is False} == left
    assert sorted(ct_sync.events("Behavior Exited")) == sorted(left)
    assert sorted(ct_sync.events("Behavior Entered")) == sorted(email(k) for k in [*range(25), *range(25, 32)])
    assert ct_sync.committed() == set(members(range(5, 32)))


def test_a_crash_after_batch_k_then_a_rerun_sends_no_event_twice(ct_sync: CleverTapSync) -> None:
    plan = ct_sync.plan("r1", members(range(30)))  # three batches of 10 members
    with pytest.raises(WorkerKilled):
        ct_sync.load(plan, KillAfterSend(ct_sync.destination(), number=1))  # batch 1 applied, not acknowledged
    assert len(ct_sync.events("Behavior Entered")) == 20
    ct_sync.load(plan)  # the re-run: batch 0 skipped, batch 1 profiles only, batch 2 in full
    ct_sync.commit(plan)
    entered = ct_sync.events("Behavior Entered")
    assert sorted(entered) == sorted(email(k) for k in range(30)) and len(entered) == 30
    assert ct_sync.members_in() == {email(k) for k in range(30)} and ct_sync.committed() == set(members(range(30)))


def test_events_whose_answer_was_lost_are_never_resent(ct_sync: CleverTapSync) -> None:
    plan = ct_sync.plan("r1", members(range(10)))
    with pytest.raises(CleverTapDeliveryUnknown):
        ct_sync.load(plan, ct_sync.destination(session=AnswerLost()))
    assert [e.status for e in ct_sync.ledger(plan).entries()] == [EVENTS_SENDING]
    ct_sync.load(plan)
    ct_sync.commit(plan)
    assert len(ct_sync.events("Behavior Entered")) == 10  # sent once (by the attempt that lost the answer)
    assert ct_sync.members_in() == {email(k) for k in range(10)}


def test_an_http_error_on_the_event_upload_lets_the_retry_send_the_events_once(ct_sync: CleverTapSync) -> None:
    plan = ct_sync.plan("r1", members(range(10)))
    with pytest.raises(CleverTapError, match="server error"):
        ct_sync.load(plan, ct_sync.destination(session=EventsFail(ct_sync.sandbox), policy=replace(FAST, attempts=2)))
    assert [e.status for e in ct_sync.ledger(plan).entries()] == ["sending"] and not ct_sync.events("Behavior Entered")
    ct_sync.load(plan)
    assert len(ct_sync.events("Behavior Entered")) == 10


def test_concurrent_loads_into_one_account_survive_429s(ct_sync: CleverTapSync, tmp_path: Path) -> None:
    with clevertap_starter() as start:
        sandbox = start(upload_concurrency=2, processing_delay_ms=150)
        syncs = [CleverTapSync(sandbox, tmp_path / f"b{i}", ct_sync.db, behavior=f"behavior_{i}") for i in range(5)]
        plans = [s.plan("r1", members(range(10 * i, 10 * i + 10))) for i, s in enumerate(syncs)]
        threads = [threading.Thread(target=s.load, args=(p,)) for s, p in zip(syncs, plans, strict=True)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        refusals = sandbox.state()["errors"]
        assert sum(n for reason, n in refusals.items() if reason.startswith("429")) > 0
        assert all(e.status == "acknowledged" for s, p in zip(syncs, plans, strict=True) for e in s.ledger(p).entries())
        assert len(sandbox.events(evtName="Behavior Entered")) == 50
        assert sandbox.state()["concurrency"][CT_ACCOUNT]["upload"]["max_seen"] <= 2


def test_records_clevertap_refuses_become_rejections_with_its_codes_and_no_values(ct_sync: CleverTapSync) -> None:
    long_identity = "x" * 130 + "@example.com"
    bad = [*member("100", phone="12345"), ("101", "identity", long_identity)]
    plan = ct_sync.sync("r1", members(range(8)) + bad)
    ledger = ct_sync.ledger(plan)
    assert ledger.rejection_codes() == {"516": 3, "523": 1}
    assert ct_sync.members_in() == {email(k) for k in range(8)}
    assert sorted(ct_sync.events("Behavior Entered")) == sorted(email(k) for k in range(8))  # none for refused
    assert ct_sync.committed() == set(members(range(8)))
    with ct_sync.db.engine.connect() as conn:
        messages = [m for (m,) in conn.exec_driver_sql("SELECT message FROM bsync_rejections")]
    assert all("code 5" in m and "12345" not in m and "example.com" not in m for m in messages)
