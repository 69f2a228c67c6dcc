"""Read-back of CleverTap (sampled), Meta and Google (counts) and HubSpot properties (exact) against their sandboxes,
through the engine (plan -> load -> commit), the real clients and ``check_destination`` with connections read
the way the CLI reads them (``AIRFLOW_CONN_*``)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hubspot.crm.contacts.models import BatchInputSimplePublicObjectBatchInput, SimplePublicObjectBatchInput

from behavior_sync.config import load_behaviors
from behavior_sync.connections import read_connection
from behavior_sync.destinations.google_dm_members import audience_member
from behavior_sync.history import HistoryStore, SyncRecord
from behavior_sync.statedb import StateDatabase
from behavior_sync.sync.objects import DestinationObjects
from behavior_sync.sync.reconcile import DriftRecord
from behavior_sync.sync.reconcile_run import ReconcileOptions, check_destination
from behavior_sync_airflow.destination_registry import capabilities_for
from tests.support.clevertap_harness import clevertap_connection, clevertap_starter
from tests.support.crm_sync_targets import (
    FOREIGN_EMAILS,
    PROPERTY,
    CleverTapSandboxTarget,
    HubSpotPropertySandboxTarget,
    crm_portals,
)
from tests.support.engine_run import EngineRun, Row
from tests.support.google_dm_harness import GDM_DELAY, google_data_manager_starter, google_dm_connection
from tests.support.hubspot_harness import HS_PORTAL, FakeClock, hubspot_connection, hubspot_starter
from tests.support.meta_harness import ACCOUNT, TOKEN, meta_starter
from tests.support.shared_identifiers import pool_email
from tests.support.sync_targets import BEHAVIOR, GoogleSandboxTarget, MetaSandboxTarget, SyncTarget

NOW = dt.datetime(2026, 12, 7, 6, tzinfo=dt.UTC)


def sha(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@dataclasses.dataclass
class Synced:
    """One destination of value_hunters synced through the engine into its sandbox."""

    target: SyncTarget
    engine: EngineRun
    runs: int = 0

    def sync(self, rows: list[Row]) -> None:
        self.runs += 1
        plan = self.engine.plan(f"run{self.runs}", rows)
        self.engine.load(plan, self.target.destination(f"run{self.runs}", False))
        self.engine.commit(plan)

    def check(self, run_id: str, repair: bool = False, **reconcile: Any) -> DriftRecord:
        (behavior,) = load_behaviors(only=[BEHAVIOR]).behaviors
        behavior = dataclasses.replace(behavior, reconcile=dict(behavior.reconcile) | reconcile)
        (destination,) = [d for d in behavior.destinations if d.id == self.engine.destination_id]
        found = ReconcileOptions(run_id, NOW, repair=repair, forced=True)
        return check_destination(behavior, destination, self.engine.db, read_connection, found)

    def object_id(self, kind: str) -> str:
        stored = DestinationObjects(self.engine.db).recall(BEHAVIOR, self.engine.destination_id, kind)
        assert stored is not None
        return stored.object_id


def engine(tmp_path: Path, destination_id: str, destination_type: str) -> EngineRun:
    db = StateDatabase(f"sqlite:///{tmp_path}/state.db")
    db.ensure_schema()
    return EngineRun(tmp_path, db, capabilities_for(destination_type), BEHAVIOR, destination_id)


@pytest.fixture()
def clevertap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Synced, Any]]:
    with clevertap_starter() as start:
        sandbox = start()
        monkeypatch.setenv("AIRFLOW_CONN_CLEVERTAP_DEFAULT", clevertap_connection(sandbox.base_url))
        run = engine(tmp_path, "clevertap", "clevertap")
        yield Synced(CleverTapSandboxTarget(sandbox, run), run), sandbox
        run.db.close()


def identities(numbers: range) -> list[Row]:
    return [(f"m{n:03d}", id_type, pool_email(n)) for n in numbers for id_type in ("identity", "email")]


def test_clevertap_is_sampled_with_a_stated_interval_and_a_whole_sample_repairs_exactly(
    clevertap: tuple[Synced, Any],
) -> None:
    synced, sandbox = clevertap
    synced.sync(identities(range(60)))
    assert sandbox.post("/us1/1/delete/profiles.json", {"identity": [pool_email(n) for n in range(5)]}).ok
    flag = {"type": "profile", "identity": pool_email(7), "profileData": {f"behavior_{BEHAVIOR}": False}}
    assert sandbox.upload([flag]).json()["status"] == "success"  # a hand edit: the membership flag unset
    sampled = synced.check("check1", sample_size=20)
    assert (sampled.method, sampled.committed, sampled.sample_size, sampled.confidence) == ("sampled", 60, 20, 0.95)
    assert sampled.missing is not None and sampled.missing_share == pytest.approx(sampled.missing / 20)
    assert sampled.ci_low is not None and sampled.ci_high is not None
    assert sampled.ci_low <= 6 / 60 <= sampled.ci_high and 0 < sampled.ci_high - sampled.ci_low < 0.5
    whole = synced.check("check2", repair=True, sample_size=100)  # the sample is everyone: exact
    assert (whole.status, whole.sample_size, whole.missing, whole.repaired_missing) == ("drift", 60, 6, 6)
    assert whole.ci_low == whole.ci_high == pytest.approx(0.1)
    synced.sync(identities(range(60)))  # the repair is sent by the next run's plan
    assert synced.check("check3", sample_size=100).status == "in_sync"


@pytest.fixture()
def meta(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Synced, Any]]:
    with meta_starter() as start:
        sandbox = start()
        extra = {"ad_account_id": f"act_{ACCOUNT}"}
        conn = {"conn_type": "meta_ads", "host": sandbox.base_url, "password": TOKEN, "extra": extra}
        monkeypatch.setenv("AIRFLOW_CONN_META_DEFAULT", json.dumps(conn))
        run = engine(tmp_path, "meta", "meta")
        yield Synced(MetaSandboxTarget(sandbox, run), run), sandbox
        run.db.close()


def people(numbers: range) -> list[Row]:
    return [(f"m{n:03d}", "email", sha(pool_email(n))) for n in numbers]


def test_meta_counts_within_the_tolerance_are_in_sync_and_a_vendor_side_loss_or_purge_is_drift(
    meta: tuple[Synced, Any],
) -> None:
    synced, sandbox = meta
    synced.sync(people(range(150)))
    audience = sandbox.audience(synced.object_id("audience"))
    audience.remove_users(["EMAIL"], [[sha(pool_email(n))] for n in range(3)], is_raw=True, pre_hashed=True)
    within = synced.check("check1")
    assert (within.method, within.status, within.committed, within.observed) == ("count", "in_sync", 150, 140)
    assert (within.expected_low, within.expected_high) == (142, 158) and "upper" in within.tolerance
    assert within.details["notes"]["sessions"] == 2 and within.details["notes"]["session_match_rate"] == 1.0
    audience.remove_users(["EMAIL"], [[sha(pool_email(n))] for n in range(3, 40)], is_raw=True, pre_hashed=True)
    lost = synced.check("check2", repair=True)
    assert (lost.status, lost.observed, lost.missing, lost.unexpected) == ("drift", 110, 142 - 121, 0)
    assert lost.repaired_missing is None and "full_resync" in lost.message  # a count cannot say who
    audience.api_delete()  # Meta purged the audience
    purged = synced.check("check3")
    assert (purged.status, purged.observed, purged.missing) == ("drift", 0, 142)


@pytest.fixture()
def google(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Synced, Any]]:
    with google_data_manager_starter(FakeClock) as start:
        sandbox = start()
        monkeypatch.setenv("AIRFLOW_CONN_GOOGLE_ADS_DEFAULT", google_dm_connection(sandbox.base_url))
        run = engine(tmp_path, "google_ads", "google_ads")
        yield Synced(GoogleSandboxTarget(sandbox, run), run), sandbox
        run.db.close()


def test_google_sizes_with_the_recorded_match_rate_are_in_sync_or_drift_beyond_the_tolerance(
    google: tuple[Synced, Any], tmp_path: Path
) -> None:
    synced, sandbox = google
    synced.sync(people(range(200)))
    sandbox.clock.advance(GDM_DELAY)  # Google applied the upload
    unknown = synced.check("check0")  # no match rate reported yet: only "more than we sent" could show
    assert (unknown.status, unknown.expected_low, unknown.expected_high) == ("in_sync", 0, 210)
    history = HistoryStore(f"sqlite:///{tmp_path}/state.db")
    reported = SyncRecord(BEHAVIOR, "google_ads", "google_ads", "google_ads_default", "run1", "success", NOW)
    history.record(dataclasses.replace(reported, match_rate=0.95))  # what the wait step records from Google
    within = synced.check("check1")
    assert (within.status, within.observed, within.expected_low, within.expected_high) == ("in_sync", 200, 171, 210)
    client = synced.target.client()  # type: ignore[attr-defined]
    client.remove(synced.object_id("user_list"), [audience_member([("email", sha(pool_email(n)))]) for n in range(60)])
    sandbox.clock.advance(GDM_DELAY)
    lost = synced.check("check2")
    assert (lost.status, lost.observed, lost.missing) == ("drift", 140, 171 - 149)
    history.close()


@pytest.fixture()
def hubspot_property(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Synced, Any]]:
    with hubspot_starter() as start:
        sandbox = start(portals=crm_portals())
        monkeypatch.setenv("AIRFLOW_CONN_HUBSPOT_DEFAULT", hubspot_connection(sandbox.base_url))
        run = engine(tmp_path, "hubspot_property", "hubspot")
        yield Synced(HubSpotPropertySandboxTarget(sandbox, run), run), sandbox
        run.db.close()


def test_hubspot_property_values_are_compared_exactly_and_repair_leaves_a_hand_set_foreign_value(
    hubspot_property: tuple[Synced, Any],
) -> None:
    synced, sandbox = hubspot_property
    synced.target.seed_foreign()  # the property exists, "vip" set by hand on foreign contacts
    synced.sync([(f"m{n:03d}", "email", pool_email(n)) for n in range(8)])
    ids = {c["email"]: str(c["id"]) for c in sandbox.get("contacts", portal=HS_PORTAL)["contacts"]}
    by_hand = [
        SimplePublicObjectBatchInput(id=ids[pool_email(2)], properties={PROPERTY["name"]: ""}),  # ours unset
        SimplePublicObjectBatchInput(id=ids[FOREIGN_EMAILS[0]], properties={PROPERTY["name"]: f"vip;{BEHAVIOR}"}),
    ]
    sandbox.client().crm.contacts.batch_api.update(BatchInputSimplePublicObjectBatchInput(inputs=by_hand))
    drift = synced.check("check1", repair=True)
    assert (drift.method, drift.status, drift.committed, drift.missing, drift.unexpected) == ("exact", "drift", 8, 1, 1)
    assert (drift.foreign_members, drift.repaired_missing, drift.repaired_unexpected) == (1, 1, 0)
    synced.sync([(f"m{n:03d}", "email", pool_email(n)) for n in range(8)])
    after = synced.check("check2")
    assert (after.status, after.missing, after.foreign_members) == ("in_sync", 0, 1)
    assert set(sandbox.contacts()[FOREIGN_EMAILS[0]][PROPERTY["name"]].split(";")) == {"vip", BEHAVIOR}
