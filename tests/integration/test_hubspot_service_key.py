"""A HubSpot connection whose secret is a Service Key, on the pinned date-based API version, against the sandbox
(real hubspot-api-client).

The sandbox serves only ``HUBSPOT_API_VERSION`` here (``api_versions``): a call on ``/crm/v3/...`` or on any
other date is a 404, so every test also proves the client calls exactly the pinned version. Clients are built
from connection fields as the DAG's hooks build them (``connection_clients.client_for``); the connection form's
test runs through Airflow's ``Connection.test_connection``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from behavior_sync.connections import ConnectionValues
from behavior_sync.destinations import LoadKey
from behavior_sync.destinations.connection_clients import client_for
from behavior_sync.destinations.hubspot import HubSpotListDestination, HubSpotTarget
from behavior_sync.destinations.hubspot_api import HUBSPOT_API_VERSION
from behavior_sync.destinations.hubspot_client import HubSpotClient
from behavior_sync.destinations.hubspot_errors import HubSpotError
from behavior_sync.destinations.hubspot_lists import ListSpec
from behavior_sync.destinations.hubspot_properties import PropertySpec
from behavior_sync.destinations.hubspot_property import HubSpotPropertyDestination
from behavior_sync.statedb import StateDatabase
from behavior_sync_airflow.destination_registry import CAPABILITIES
from tests.support.engine_run import EngineRun, Row
from tests.support.hubspot_harness import (
    HS_PORTAL,
    HS_PORTALS,
    HS_READ_ONLY_KEY,
    HS_SERVICE_KEY,
    HS_TINY_PORTAL,
    HS_TINY_SERVICE_KEY,
    HS_TOKEN,
    HubSpotHarness,
    crm_rows,
    hubspot_starter,
)

CRM_EMAILS = [f"m{i}@example.com" for i in range(40)]
DAY = dt.date(2026, 12, 7)
SCORE = {"name": "behavior_score", "kind": "score", "label": "Behavior score"}
MAX_SCORE = {"property": "behavior_score", "rule_type": "MAX_NUMBER", "arguments": ["100"]}  # a portal's own rule


@dataclass
class KeyedPortal:
    """A sandbox serving only the pinned API version, and a state database for engine runs."""

    sandbox: HubSpotHarness
    folder: Path
    db: StateDatabase

    def connection(self, secret: str = HS_SERVICE_KEY, portal: int = HS_PORTAL) -> ConnectionValues:
        extra = {"portal_id": str(portal), "account_tier": "professional"}
        return ConnectionValues("hubspot", self.sandbox.base_url, secret, extra)

    def client(self, secret: str = HS_SERVICE_KEY, portal: int = HS_PORTAL) -> HubSpotClient:
        label = "behavior value_hunters, destination hubspot"
        client = client_for("hubspot", {}, "hubspot_default", self.connection(secret, portal), label)
        assert isinstance(client, HubSpotClient)
        return client

    def engine(self, behavior: str, destination_id: str) -> EngineRun:
        return EngineRun(self.folder / behavior / destination_id, self.db, CAPABILITIES["hubspot"], behavior,
                         destination_id)  # fmt: skip

    def list_destination(self, engine: EngineRun, secret: str = HS_SERVICE_KEY, portal: int = HS_PORTAL) -> Any:
        settings = {"mode": "list", "list_type": "active", "list_name": "[Behavior] {name} - Active"}
        spec = ListSpec.from_settings(settings, "Value Hunters", "value_hunters", DAY)
        target = HubSpotTarget(spec, LoadKey(engine.behavior, engine.destination_id, False))
        return HubSpotListDestination(self.client(secret, portal), self.db, target, CAPABILITIES["hubspot"])

    def property_destination(self, behavior: str, prop: dict[str, Any]) -> HubSpotPropertyDestination:
        spec = PropertySpec.from_settings({"property": prop}, behavior.replace("_", " ").title(), behavior)
        return HubSpotPropertyDestination(self.client(), spec, CAPABILITIES["hubspot"])

    def sync(self, engine: EngineRun, members: list[Row], destination: Any) -> Any:
        plan = engine.plan("r1", members)
        engine.load(plan, destination)
        engine.commit(plan)
        return engine.ledger(plan)


@pytest.fixture()
def keyed(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[KeyedPortal]:
    """A portal of the contacts ``m0..m39`` (window lifted: the sandbox's clock is fake) with the score rule;
    ``request.param`` (indirect parametrization) overrides sandbox settings."""
    db = StateDatabase(f"sqlite:///{tmp_path}/state.db")
    db.ensure_schema()
    crm = {"contacts": CRM_EMAILS, "ten_second_limit": 1_000_000, "validation_rules": [MAX_SCORE]}
    settings = {"api_versions": [HUBSPOT_API_VERSION], **getattr(request, "param", {})}
    with hubspot_starter() as start:
        yield KeyedPortal(start(portals=HS_PORTALS | {str(HS_PORTAL): crm}, **settings), tmp_path, db)
    db.close()


def test_a_service_key_connection_syncs_a_list_and_a_property_on_the_pinned_api_version(keyed: KeyedPortal) -> None:
    lists = keyed.engine("value_hunters", "hubspot_list")
    keyed.sync(lists, crm_rows(range(25)), keyed.list_destination(lists))
    (found,) = keyed.sandbox.get("lists")["lists"]
    by_id = {str(c["id"]): c["email"] for c in keyed.sandbox.get("contacts", portal=HS_PORTAL)["contacts"]}
    assert {by_id[i] for i in keyed.sandbox.members(found["listId"])} == {f"m{i}@example.com" for i in range(25)}
    prop = {"name": "customer_behaviors", "kind": "multi_checkbox", "label": "Customer Behaviors"}
    flags = keyed.engine("value_hunters", "hubspot_property")
    keyed.sync(flags, crm_rows(range(10, 30)), keyed.property_destination("value_hunters", prop))
    held = {e for e, p in keyed.sandbox.contacts().items() if p.get("customer_behaviors") == "value_hunters"}
    assert held == {f"m{i}@example.com" for i in range(10, 30)}
    assert lists.committed() == set(crm_rows(range(25))) and flags.committed() == set(crm_rows(range(10, 30)))
    state = keyed.sandbox.get("state")
    assert set(state["versions"]) == {HUBSPOT_API_VERSION}  # every call on the pinned version
    assert state["errors"]["403 FORBIDDEN"] == 2  # each load's private-app usage read: the budget came from headers


def test_a_service_key_s_daily_budget_comes_from_the_rate_limit_headers(keyed: KeyedPortal) -> None:
    engine = keyed.engine("value_hunters", "hubspot_list")
    plan = engine.plan("r1", crm_rows(range(30)))
    destination = keyed.list_destination(engine, HS_TINY_SERVICE_KEY, HS_TINY_PORTAL)
    # usage refused (1 request), account details (2): 3 of the tiny portal's 5 left, per its headers
    with pytest.raises(HubSpotError, match=rf"portal {HS_TINY_PORTAL} has 3 of its 5 daily requests left \(resets "
                                           r"at midnight US/Eastern\); nothing was sent"):  # fmt: skip
        engine.load(plan, destination)
    assert engine.ledger(plan).entries() == [] and keyed.sandbox.get("lists")["lists"] == []


@pytest.mark.parametrize(
    "keyed",
    [{"invalid_values": "per_input"}, {"invalid_values": "reject_batch"}],  # 207, or the batch refused whole (400)
    ids=["207", "400_split"],
    indirect=True,
)
def test_values_breaking_a_portal_validation_rule_are_rejected_rows_naming_the_property_and_the_rest_is_written(
    keyed: KeyedPortal,
) -> None:
    first = keyed.engine("loyal_regulars", "hubspot_property")
    keyed.sync(first, crm_rows(range(10)), keyed.property_destination("loyal_regulars", {**SCORE, "points": 60}))
    second = keyed.engine("value_hunters", "hubspot_property")
    ledger = keyed.sync(
        second, crm_rows(range(5, 15)), keyed.property_destination("value_hunters", {**SCORE, "points": 50})
    )
    # m5-m9 would reach 110, above the portal's maximum of 100: refused one by one, m10-m14 written
    assert ledger.rejection_codes() == {"INVALID_MAX_NUMBER": 5}
    scores = {e: p.get("behavior_score") for e, p in keyed.sandbox.contacts().items()}
    assert {scores[f"m{i}@example.com"] for i in range(5, 10)} == {"60"}
    assert {scores[f"m{i}@example.com"] for i in range(10, 15)} == {"50"}
    assert second.committed() == set(crm_rows(range(10, 15)))
    with keyed.db.engine.connect() as conn:
        messages = {m for (m,) in conn.exec_driver_sql("SELECT message FROM bsync_rejections")}
    (message,) = messages
    assert "property behavior_score breaks one of the portal's validation rules" in message
    assert "check the portal's validation rules for behavior_score" in message and "@" not in message


def press_test_button(keyed: KeyedPortal, secret: str, monkeypatch: pytest.MonkeyPatch) -> tuple[bool, str]:
    """The connection form's test button: Airflow builds the hook from the connection and calls its test."""
    from airflow.models.connection import Connection

    fields = keyed.connection(secret)
    values = {"conn_type": "hubspot", "host": fields.host, "password": secret, "extra": fields.extra}
    monkeypatch.setenv("AIRFLOW_CONN_HUBSPOT_TEST", json.dumps(values))
    connection = Connection(conn_id="hubspot_test", conn_type="hubspot", host=fields.host, password=secret,
                            extra=json.dumps(fields.extra))  # fmt: skip
    ok, message = connection.test_connection()
    return bool(ok), str(message)


@pytest.mark.parametrize("secret", [HS_SERVICE_KEY, HS_TOKEN], ids=["service_key", "private_app_token"])
def test_the_connection_test_passes_for_a_service_key_and_a_private_app_token(
    keyed: KeyedPortal, secret: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = [keyed.sandbox.get(what) for what in ("lists", "contacts", "properties")]
    ok, message = press_test_button(keyed, secret, monkeypatch)
    assert (ok, message) == (True, f"the key reaches portal {HS_PORTAL} with every scope Behavior Sync needs")
    assert [keyed.sandbox.get(what) for what in ("lists", "contacts", "properties")] == before  # nothing changed


def test_the_connection_test_names_the_scopes_a_service_key_lacks_and_where_to_add_them(
    keyed: KeyedPortal, monkeypatch: pytest.MonkeyPatch
) -> None:
    ok, message = press_test_button(keyed, HS_READ_ONLY_KEY, monkeypatch)
    missing = "crm.lists.write, crm.objects.contacts.write, crm.schemas.contacts.write"
    assert not ok and message.startswith(f"the key lacks scope {missing}: add it in HubSpot Development > Keys >")
    assert HS_READ_ONLY_KEY not in message
