"""The Google Data Manager destination through the sync engine, reaching the sandbox with the official REST client.

Each test plans, loads and commits like a DAG run does (engine functions, no Airflow), lets the sandbox's
fake clock run past its processing delay, then asserts what the sandbox holds (its inspection endpoints),
the committed state, the request log and Google's request statuses.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from behavior_sync.destinations.google_dm import GoogleDataManagerDestination, GoogleTarget, UserListSpec
from behavior_sync.destinations.google_dm_client import DataManagerClient, DataManagerCredentials, google_credentials
from behavior_sync.destinations.google_dm_errors import GoogleAdsError
from behavior_sync.destinations.google_dm_status import RequestLog, read_outcome
from behavior_sync.destinations.meta_audience import LoadKey
from behavior_sync.destinations.retry import RetryPolicy
from behavior_sync.statedb import StateDatabase
from behavior_sync.sync.execute import commit_plan, load_plan
from behavior_sync.sync.ledger import Ledger
from behavior_sync.sync.objects import DestinationObjects, StoredObject
from behavior_sync.sync.plan import Capabilities, PreparedInput, SyncPlan, compute_plan
from behavior_sync.sync.state import StateStore
from behavior_sync_airflow.destination_registry import CAPABILITIES
from tests.sandbox.conftest import FakeClock
from tests.support.google_dm_harness import (
    GDM_ACCOUNT,
    GDM_DELAY,
    GDM_FOREIGN_ACCOUNT,
    GoogleDataManagerHarness,
    StartGoogleDataManager,
    google_data_manager_starter,
)

Row = tuple[str, str, str]
SMALL_BATCHES = replace(CAPABILITIES["google_ads"], add_batch_members=40, remove_batch_members=15)
LABEL = "behavior value_hunters, destination google_ads"
SPEC = UserListSpec("[Behavior] - Value Hunters", "Customers who mostly buy on discount.", 180)
FAST = RetryPolicy(attempts=3, backoff_seconds=0.01, max_backoff_seconds=0.05, throttle_budget_seconds=5)


def sha(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def member(key: str, email: str | None = None) -> list[Row]:
    """A member with the three Google contact identifiers, as the identity core prepares them."""
    address = f"{sha(f'first{key}')}:{sha(f'last{key}')}:GB:SW1A 1AA"
    return [
        (key, "email", sha(email or f"{key}@example.com")),
        (key, "phone", sha(f"+447700{int(key):06d}")),
        (key, "address", address),
    ]


def members(keys: range | list[str]) -> list[Row]:
    return [row for k in keys for row in member(str(k))]


def as_stored(rows: list[Row]) -> set[frozenset[str]]:
    """What the sandbox should hold: per member, its identifiers as ``kind:value`` strings (the sandboxes
    name CRM ids ``crm`` and mobile ids ``mobile``)."""
    by_member: dict[str, set[str]] = {}
    for key, id_type, value in rows:
        kind = {"crm_id": "crm", "mobile_id": "mobile"}.get(id_type, id_type)
        by_member.setdefault(key, set()).add(f"{kind}:{value}")
    return {frozenset(ids) for ids in by_member.values()}


@dataclass
class GoogleSync:
    """The engine, a state database and the Google destination against one Data Manager sandbox."""

    sandbox: GoogleDataManagerHarness
    folder: Path
    db: StateDatabase
    capabilities: Capabilities = SMALL_BATCHES
    members_per_request: int = 25
    sleeps: list[float] = field(default_factory=list)
    spec: UserListSpec = SPEC

    @property
    def store(self) -> StateStore:
        return StateStore(self.db, str(self.folder / "artifacts"))

    def requests(self, run_id: str) -> RequestLog:
        return RequestLog(str(self.folder / run_id / "requests"))

    def client(self, account: str = GDM_ACCOUNT, terms: bool = True) -> DataManagerClient:
        endpoint = self.sandbox.base_url
        credentials = DataManagerCredentials(google_credentials({}, endpoint), account, None, endpoint, terms)
        return DataManagerClient(credentials, LABEL, FAST, sleep=self.sleeps.append)

    def destination(
        self, run_id: str, client: DataManagerClient | None = None, full_resync: bool = False
    ) -> GoogleDataManagerDestination:
        state = self.store.current("value_hunters", "google_ads")
        key = LoadKey("value_hunters", "google_ads", state is not None and state.members > 0)
        target = GoogleTarget(
            self.spec, key, full_resync, self.requests(run_id), self.members_per_request, self.sandbox.clock
        )
        return GoogleDataManagerDestination(
            client or self.client(), DestinationObjects(self.db), target, self.capabilities
        )

    def plan(self, run_id: str, rows: list[Row], full_resync: bool = False) -> SyncPlan:
        folder = self.folder / run_id
        folder.mkdir(parents=True, exist_ok=True)
        columns = zip(("member_key", "id_type", "value"), zip(*rows, strict=True), strict=True)
        pq.write_table(pa.table({n: pa.array(list(c), pa.string()) for n, c in columns}), folder / "prepared.parquet")
        ids = {"behavior": "value_hunters", "destination_id": "google_ads", "run_id": run_id}
        state = self.store.current("value_hunters", "google_ads")
        prepared = PreparedInput(str(folder / "prepared.parquet"))
        return compute_plan(ids, prepared, state, str(folder / "plan"), self.capabilities, full_resync)

    def ledger(self, plan: SyncPlan) -> Ledger:
        return Ledger(self.db, plan.behavior, plan.destination_id, plan.run_id, plan.base_version)

    def sync(self, run_id: str, rows: list[Row], full_resync: bool = False) -> SyncPlan:
        """Plan, load, commit, then let Google's (fake) processing time pass."""
        plan = self.plan(run_id, rows, full_resync)
        load_plan(plan, self.destination(run_id, full_resync=full_resync), self.ledger(plan))
        previous = self.store.current("value_hunters", "google_ads")
        commit_plan(plan, self.ledger(plan), self.store, previous if plan.base_version else None)
        self.sandbox.clock.advance(GDM_DELAY)
        return plan

    def list_id(self) -> str:
        stored = DestinationObjects(self.db).recall("value_hunters", "google_ads", "user_list")
        assert stored is not None
        return stored.object_id

    def held(self) -> set[frozenset[str]]:
        lists = self.sandbox.get("user_lists", account=GDM_ACCOUNT)["user_lists"]
        return {frozenset(m) for ul in lists if ul["id"] == self.list_id() for m in ul["members"]}

    def committed(self) -> set[Row]:
        state = self.store.current("value_hunters", "google_ads")
        assert state is not None
        return {(r["member_key"], r["id_type"], r["value"]) for r in pq.read_table(state.uri).to_pylist()}


@pytest.fixture()
def start_sandbox() -> Iterator[StartGoogleDataManager]:
    with google_data_manager_starter(FakeClock) as start:
        yield start


@pytest.fixture()
def google(tmp_path: Path, start_sandbox: StartGoogleDataManager) -> Iterator[GoogleSync]:
    db = StateDatabase(f"sqlite:///{tmp_path}/state.db")
    db.ensure_schema()
    yield GoogleSync(start_sandbox(), tmp_path, db)
    db.close()


def test_first_sync_creates_the_list_and_fills_it_with_exactly_the_expected_hashed_identifiers(
    google: GoogleSync,
) -> None:
    rows = members(range(100))
    plan = google.sync("r1", rows)
    lists = google.sandbox.get("user_lists", account=GDM_ACCOUNT)["user_lists"]
    assert [(ul["display_name"], ul["membership_days"]) for ul in lists] == [(SPEC.name, 180)]
    assert [b.op for b in plan.batches] == ["add"] * 3
    assert google.held() == as_stored(rows) and google.committed() == set(rows)
    report = google.destination("r1").report()
    assert report is not None and report.name == SPEC.name and report.size_lower_bound == 100


def churned_sync(google: GoogleSync) -> tuple[SyncPlan, list[Row]]:
    """Two syncs: 60 members, then 50-59 leave, member 5 changes its e-mail and 60-74 join; the second plan
    (one remove and one add batch) and its rows."""
    google.sync("r1", members(range(60)))
    changed = member("5", email="new.five@example.com")
    second = [r for r in members(range(50)) if r[0] != "5"] + changed + members(range(60, 75))
    plan = google.sync("r2", second)
    assert [b.op for b in plan.batches] == ["remove", "add"]
    return plan, second


def test_churned_second_sync_removes_leavers_and_a_changed_member_whole_before_adding(google: GoogleSync) -> None:
    plan, second = churned_sync(google)
    assert plan.counts.remove_members == 11 and plan.counts.add_members == 16
    assert google.held() == as_stored(second) and google.committed() == set(second)


def test_removes_and_adds_never_share_a_request_and_requests_stay_within_members_per_request(
    google: GoogleSync,
) -> None:
    google.sync("r1", members(range(60)))
    plan = google.sync("r2", members(range(20, 90)))  # 0-19 leave, 60-89 join
    sent = google.sandbox.get("requests")["requests"]
    logged = google.requests("r2").read((b.op, b.number) for b in plan.batches)
    ids = [r.request_id for r in logged]
    kinds = [r["kind"] for r in sent if r["request_id"] in ids]
    records = [d["record_count"] for r in sent if r["request_id"] in ids for d in r["destinations"]]
    # removes in batches of 15 (15 + 5), then the 30 joiners in one batch sent as requests of 25 + 5
    assert kinds == ["remove", "remove", "ingest", "ingest"] and records == [15, 5, 25, 5]
    assert [r.members for r in logged] == records  # the request log counts what each request carried
    assert {r["kind"] for r in sent} == {"ingest", "remove"}  # two endpoints: a request is one kind only


def test_request_statuses_stay_processing_until_google_settles_them_then_report_the_match_rate(
    start_sandbox: StartGoogleDataManager, tmp_path: Path
) -> None:
    sandbox = start_sandbox(universe=[sha(f"{k}@example.com") for k in range(10)])
    google = GoogleSync(sandbox, tmp_path, StateDatabase(f"sqlite:///{tmp_path}/state.db"))
    google.db.ensure_schema()
    plan = google.plan("r1", members(range(20)))
    load_plan(plan, google.destination("r1"), google.ledger(plan))
    (sent,) = google.requests("r1").read([("add", 0)])
    request_id, client = sent.request_id, google.client()
    assert read_outcome(request_id, client.request_status(request_id)) is None
    sandbox.clock.advance(GDM_DELAY)
    outcome = read_outcome(request_id, client.request_status(request_id))
    assert outcome is not None and outcome.status == "SUCCESS" and outcome.records == 20
    assert outcome.match_rate_range == 5  # 10 of 20 known: MATCH_RATE_RANGE_41_TO_50
    google.db.close()


def test_terms_not_accepted_fails_the_batch_with_what_to_do(google: GoogleSync) -> None:
    plan = google.plan("r1", members(range(5)))
    with pytest.raises(GoogleAdsError, match="Customer Match terms") as failure:
        load_plan(plan, google.destination("r1", google.client(terms=False)), google.ledger(plan))
    assert failure.value.reason == "TERMS_AND_CONDITIONS_NOT_SIGNED" and not google.ledger(plan).acknowledged()


def test_an_account_without_access_fails_with_what_to_do(google: GoogleSync) -> None:
    plan = google.plan("r1", members(range(5)))
    with pytest.raises(GoogleAdsError, match="customer_id") as failure:
        load_plan(plan, google.destination("r1", google.client(GDM_FOREIGN_ACCOUNT)), google.ledger(plan))
    assert failure.value.status == 403


def test_quota_errors_back_off_and_resume(google: GoogleSync) -> None:
    google.sandbox.control("faults", {"scripted": [{"match": "ingest", "count": 2, "http_status": 429}]})
    google.sync("r1", members(range(10)))
    assert len(google.sleeps) == 2 and google.held() == as_stored(members(range(10)))


def test_a_lost_list_is_refilled_only_by_a_full_resync(google: GoogleSync) -> None:
    google.sync("r1", members(range(10)))
    DestinationObjects(google.db).remember(
        "value_hunters", "google_ads", "user_list", replace_id(google, "424242")
    )  # the remembered list no longer exists in Google Ads
    plan = google.plan("r2", members(range(12)))
    with pytest.raises(GoogleAdsError, match="full re-sync"):
        load_plan(plan, google.destination("r2"), google.ledger(plan))
    load_plan(plan, google.destination("r2", full_resync=True), google.ledger(plan))
    assert google.list_id() != "424242"


def replace_id(google: GoogleSync, list_id: str) -> StoredObject:
    stored = DestinationObjects(google.db).recall("value_hunters", "google_ads", "user_list")
    assert stored is not None
    return replace(stored, object_id=list_id)
