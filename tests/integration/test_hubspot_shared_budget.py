"""Two behaviors loading into one HubSpot portal at once share its request window: almost no 429s, nothing lost.

Each behavior runs in its own thread with its own client and its own ``PortalWindow`` (as two Airflow
workers would: they meet only through HubSpot's rate-limit headers). The sandbox and both windows share
one fake clock, advanced by the clients' waits, so the 10-second window rolls without real sleeping.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import replace
from pathlib import Path

from behavior_sync.destinations import LoadKey
from behavior_sync.destinations.hubspot import HubSpotListDestination, HubSpotTarget
from behavior_sync.destinations.hubspot_client import HubSpotClient, HubSpotCredentials
from behavior_sync.destinations.hubspot_lists import ListSpec
from behavior_sync.destinations.hubspot_throttle import TIER_LIMITS, PortalWindow
from behavior_sync.statedb import StateDatabase
from behavior_sync.sync.objects import DestinationObjects
from behavior_sync_airflow.destination_registry import CAPABILITIES
from tests.support.engine_run import EngineRun
from tests.support.hubspot_harness import HS_PORTAL, HS_PORTALS, HS_TOKEN, HubSpotHarness, hubspot_starter

WINDOW = 25  # the portal's requests per 10 s: small, so two loads must share it
EMAILS = {"value_hunters": range(0, 400), "loyal_regulars": range(300, 700)}
SMALL_BATCHES = replace(CAPABILITIES["hubspot"], add_batch_members=10)  # many requests from few members


def load(sandbox: HubSpotHarness, db: StateDatabase, folder: Path, behavior: str, errors: list[BaseException]) -> None:
    try:
        engine = EngineRun(folder / behavior, db, SMALL_BATCHES, behavior, "hubspot_list")
        credentials = HubSpotCredentials(HS_TOKEN, str(HS_PORTAL), "starter", sandbox.base_url)
        window = PortalWindow(TIER_LIMITS["starter"][0], clock=sandbox.clock)  # this worker's own window
        client = HubSpotClient(credentials, behavior, sleep=sandbox.clock.advance, window=window)
        spec = ListSpec.from_settings({"list_type": "active"}, behavior, behavior, dt.date(2026, 11, 23))
        target = HubSpotTarget(spec, LoadKey(behavior, "hubspot_list", False))
        plan = engine.plan("r1", [(f"c{i}", "email", f"m{i}@example.com") for i in EMAILS[behavior]])
        engine.load(plan, HubSpotListDestination(client, db, target, SMALL_BATCHES))
        engine.commit(plan)
    except Exception as exc:  # noqa: BLE001 - the test thread asserts there is none
        errors.append(exc)


def test_two_behaviors_loading_into_one_portal_at_once_stay_within_its_window_and_lose_nothing(tmp_path: Path) -> None:
    db = StateDatabase(f"sqlite:///{tmp_path}/state.db")
    db.ensure_schema()
    contacts = [f"m{i}@example.com" for i in range(700)]
    portals = HS_PORTALS | {str(HS_PORTAL): {"tier": "starter", "ten_second_limit": WINDOW, "contacts": contacts}}
    errors: list[BaseException] = []
    with hubspot_starter() as start:
        sandbox = start(portals=portals)
        threads = [threading.Thread(target=load, args=(sandbox, db, tmp_path, b, errors)) for b in EMAILS]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert errors == []
        state = sandbox.get("state")
        calls = sum(state["calls"][str(HS_PORTAL)].values())
        refused = sum(n for key, n in state["errors"].items() if key.startswith("429"))
        by_id = {str(c["id"]): c["email"] for c in sandbox.get("contacts", portal=HS_PORTAL)["contacts"]}
        objects = DestinationObjects(db)
        for behavior, numbers in EMAILS.items():
            stored = objects.recall(behavior, "hubspot_list", "list")
            assert stored is not None
            held = {by_id[str(i)] for i in sandbox.members(stored.object_id)}
            assert held == {f"m{i}@example.com" for i in numbers}
    db.close()
    assert calls > 3 * WINDOW and refused <= calls // 100
