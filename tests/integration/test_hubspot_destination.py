"""The HubSpot list destination through the sync engine, reaching the HubSpot sandbox with the real hubspot-api-client.

Each test plans, loads and commits like a DAG run does (engine steps, no Airflow), then asserts what the
sandbox's lists hold (inspection endpoint: record ids, mapped back to e-mails), what the committed state and
the ledger say. The client's request window runs on a fake clock, so waits are recorded, never slept.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from behavior_sync.destinations import LoadKey
from behavior_sync.destinations.hubspot import HubSpotListDestination, HubSpotTarget, requests_needed
from behavior_sync.destinations.hubspot_client import HubSpotClient, HubSpotCredentials
from behavior_sync.destinations.hubspot_errors import HubSpotError
from behavior_sync.destinations.hubspot_lists import ListSpec, static_export_done
from behavior_sync.destinations.hubspot_throttle import PortalWindow
from behavior_sync.destinations.retry import RetryPolicy
from behavior_sync.statedb import StateDatabase
from behavior_sync.sync.objects import DestinationObjects
from behavior_sync.sync.plan import SyncPlan
from behavior_sync_airflow.destination_registry import CAPABILITIES
from tests.support.engine_run import EngineRun, Row
from tests.support.hubspot_harness import (
    HS_PORTAL,
    HS_PORTALS,
    HS_TINY_PORTAL,
    HS_TINY_TOKEN,
    HS_TOKEN,
    HubSpotHarness,
    crm_rows,
    hubspot_starter,
)

LABEL = "behavior value_hunters, destination hubspot_list"
DAY = dt.date(2026, 11, 23)
CRM_EMAILS = [f"m{i}@example.com" for i in range(150)]


class FakeTime:
    """A monotonic clock that moves only when slept on; every sleep is recorded."""

    def __init__(self) -> None:
        self.now, self.sleeps = 0.0, list[float]()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@dataclass
class HubSpotSync:
    """The engine, a state database and the HubSpot list destination against one sandbox."""

    sandbox: HubSpotHarness
    engine: EngineRun
    time: FakeTime = field(default_factory=FakeTime)

    def destination(
        self,
        token: str = HS_TOKEN,
        portal: int = HS_PORTAL,
        static: bool = False,
        create: bool = False,
        day: dt.date = DAY,
    ) -> HubSpotListDestination:
        settings = {
            "mode": "list",
            "list_type": "static" if static else "active",
            "list_name": "[Behavior] {name} - Active",
        }
        if static:
            settings["list_name"] = "BEH - {name}"
        credentials = HubSpotCredentials(token, str(portal), "professional", self.sandbox.base_url)
        window = PortalWindow(190, clock=self.time)
        client = HubSpotClient(credentials, LABEL, RetryPolicy(attempts=3), sleep=self.time.sleep, window=window)
        state = self.engine.store.current("value_hunters", "hubspot_list")
        key = LoadKey("value_hunters", "hubspot_list", state is not None and state.members > 0)
        target = HubSpotTarget(ListSpec.from_settings(settings, "Value Hunters", "value_hunters", day), key, create)
        return HubSpotListDestination(client, self.engine.db, target, CAPABILITIES["hubspot"])

    def sync(self, run_id: str, members: list[Row], full_resync: bool = False, **options: Any) -> SyncPlan:
        plan = self.engine.plan(run_id, members, full_resync)
        self.engine.load(plan, self.destination(**options))
        self.engine.commit(plan)
        return plan

    def list_id(self) -> str:
        stored = DestinationObjects(self.engine.db).recall("value_hunters", "hubspot_list", "list")
        assert stored is not None
        return stored.object_id

    def emails_in(self, list_id: str) -> set[str]:
        """The e-mails of the contacts a sandbox list holds."""
        by_id = {str(c["id"]): c["email"] for c in self.sandbox.get("contacts", portal=HS_PORTAL)["contacts"]}
        return {by_id[str(i)] for i in self.sandbox.members(list_id)}

    def calls(self, route: str) -> int:
        return int(self.sandbox.get("state")["calls"].get(str(HS_PORTAL), {}).get(route, 0))


@pytest.fixture()
def hubspot_sync(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[HubSpotSync]:
    """The engine and a sandbox; ``request.param`` (indirect parametrization) overrides sandbox settings."""
    db = StateDatabase(f"sqlite:///{tmp_path}/state.db")
    db.ensure_schema()
    portals = HS_PORTALS | {str(HS_PORTAL): {"tier": "professional", "contacts": CRM_EMAILS}}
    with hubspot_starter() as start:
        engine = EngineRun(tmp_path, db, CAPABILITIES["hubspot"], "value_hunters", "hubspot_list")
        yield HubSpotSync(start(portals=portals, **getattr(request, "param", {})), engine)
    db.close()


def test_an_active_list_holds_exactly_the_segment_after_a_first_and_a_churned_sync(hubspot_sync: HubSpotSync) -> None:
    first = hubspot_sync.sync("r1", crm_rows(range(120)))
    list_id = hubspot_sync.list_id()
    assert [b.op for b in first.batches] == ["add", "add"]
    assert hubspot_sync.emails_in(list_id) == {f"m{i}@example.com" for i in range(120)}
    assert hubspot_sync.sandbox.get(f"lists/{list_id}")["name"] == "[Behavior] Value Hunters - Active"
    reads_after_first = hubspot_sync.calls("contacts.batch_read")
    second = hubspot_sync.sync("r2", crm_rows(range(20, 150)))  # 0-19 leave, 120-149 join
    assert (second.counts.add_members, second.counts.remove_members) == (30, 20)
    assert hubspot_sync.list_id() == list_id and len(hubspot_sync.sandbox.get("lists")["lists"]) == 1
    assert hubspot_sync.emails_in(list_id) == {f"m{i}@example.com" for i in range(20, 150)}
    # leavers' contact ids come from the cache: only the 30 joiners were read (one batch read)
    assert hubspot_sync.calls("contacts.batch_read") == reads_after_first + 1
    assert hubspot_sync.engine.committed() == set(crm_rows(range(20, 150)))


def test_a_static_list_is_a_one_time_export_named_with_the_run_day(hubspot_sync: HubSpotSync) -> None:
    hubspot_sync.sync("r1", crm_rows(range(50)), static=True)
    first_id = hubspot_sync.list_id()
    assert hubspot_sync.sandbox.get(f"lists/{first_id}")["name"] == "BEH - Value Hunters - 2026-11-23"
    last = dt.datetime(2026, 11, 23, 6, tzinfo=dt.UTC)
    settings = {"mode": "list", "list_type": "static"}
    assert "exported on 2026-11-23" in str(static_export_done(settings, last, full_resync=False))
    assert static_export_done(settings, last, full_resync=True) is None
    assert static_export_done({"mode": "list", "list_type": "active"}, last, full_resync=False) is None
    with pytest.raises(HubSpotError, match="static list was exported already"):
        hubspot_sync.sync("r2", crm_rows(range(10, 60)), static=True, day=DAY + dt.timedelta(days=7))
    week_later = DAY + dt.timedelta(days=7)
    again = hubspot_sync.sync("r3", crm_rows(range(10, 60)), full_resync=True, static=True, day=week_later)
    assert [b.op for b in again.batches] == ["replace"]
    new_id = hubspot_sync.list_id()
    assert new_id != first_id and hubspot_sync.sandbox.get(f"lists/{new_id}")["name"].endswith("2026-11-30")
    assert hubspot_sync.emails_in(first_id) == {f"m{i}@example.com" for i in range(50)}  # never updated
    assert hubspot_sync.emails_in(new_id) == {f"m{i}@example.com" for i in range(10, 60)}


def test_members_without_a_contact_are_not_in_crm_unless_create_missing_contacts(hubspot_sync: HubSpotSync) -> None:
    strangers = [(f"s{i}", "email", f"stranger{i}@example.com") for i in range(5)]
    plan = hubspot_sync.sync("r1", crm_rows(range(10)) + strangers)
    ledger = hubspot_sync.engine.ledger(plan)
    assert ledger.rejection_codes() == {"not_in_crm": 5}
    assert hubspot_sync.emails_in(hubspot_sync.list_id()) == {f"m{i}@example.com" for i in range(10)}
    with hubspot_sync.engine.db.engine.connect() as conn:
        messages = [m for (m,) in conn.exec_driver_sql("SELECT message FROM bsync_rejections")]
    assert messages and not any("stranger" in m for m in messages)
    hubspot_sync.sync("r2", crm_rows(range(10)) + strangers, create=True)  # rejected rows are planned again
    assert hubspot_sync.emails_in(hubspot_sync.list_id()) == {f"m{i}@example.com" for i in range(10)} | {
        f"stranger{i}@example.com" for i in range(5)
    }


@pytest.mark.parametrize(
    "hubspot_sync",
    [{"invalid_values": "per_input"}, {"invalid_values": "reject_batch"}],  # 207, or the batch refused whole
    ids=["207", "400_split"],
    indirect=True,
)
def test_contacts_hubspot_refuses_to_create_are_rejected_alone_and_the_rest_is_loaded(
    hubspot_sync: HubSpotSync,
) -> None:
    bad = [("b1", "email", "broken@@example"), ("b2", "email", "also broken@example.com")]
    new = [(f"n{i}", "email", f"new{i}@example.com") for i in range(3)]
    plan = hubspot_sync.sync("r1", crm_rows(range(5)) + new + bad, create=True)
    codes = hubspot_sync.engine.ledger(plan).rejection_codes()
    assert codes == {"INVALID_EMAIL": 2}
    held = hubspot_sync.emails_in(hubspot_sync.list_id())
    assert held == {f"m{i}@example.com" for i in range(5)} | {f"new{i}@example.com" for i in range(3)}
    assert hubspot_sync.engine.committed() == set(crm_rows(range(5)) + new)


def test_a_429_waits_for_the_window_and_nothing_is_lost(hubspot_sync: HubSpotSync) -> None:
    fault = {"match": "memberships/add$", "count": 1, "http_status": 429, "policy_name": "TEN_SECONDLY_ROLLING"}
    hubspot_sync.sandbox.control("faults", {"scripted": [fault]})
    hubspot_sync.sync("r1", crm_rows(range(30)))
    assert 10.0 in hubspot_sync.time.sleeps
    assert hubspot_sync.emails_in(hubspot_sync.list_id()) == {f"m{i}@example.com" for i in range(30)}


def test_a_load_beyond_the_daily_budget_is_refused_before_anything_is_sent(hubspot_sync: HubSpotSync) -> None:
    plan = hubspot_sync.engine.plan("r1", crm_rows(range(30)))
    needed = requests_needed(plan.batches, create_missing=False)
    with pytest.raises(HubSpotError, match=rf"up to {needed} requests but portal {HS_TINY_PORTAL} has 4 of its 5"):
        hubspot_sync.engine.load(plan, hubspot_sync.destination(token=HS_TINY_TOKEN, portal=HS_TINY_PORTAL))
    assert hubspot_sync.engine.ledger(plan).entries() == [] and hubspot_sync.sandbox.get("lists")["lists"] == []


def test_a_cached_contact_id_hubspot_no_longer_knows_is_matched_again(hubspot_sync: HubSpotSync) -> None:
    from behavior_sync.destinations.hubspot_contacts import ContactCache

    ContactCache(hubspot_sync.engine.db, str(HS_PORTAL)).store({"m3@example.com": "999999"})  # merged away
    hubspot_sync.sync("r1", crm_rows(range(5)))
    assert hubspot_sync.emails_in(hubspot_sync.list_id()) == {f"m{i}@example.com" for i in range(5)}
    real = ContactCache(hubspot_sync.engine.db, str(HS_PORTAL)).lookup(["m3@example.com"])["m3@example.com"]
    assert real != "999999"
