"""HubSpot property mode through the sync engine against the HubSpot sandbox (real hubspot-api-client): what
each contact's property holds after behaviors that share it join and churn."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hubspot.crm.contacts.models import BatchInputSimplePublicObjectBatchInput, SimplePublicObjectBatchInput
from hubspot.crm.properties.models import OptionInput, PropertyCreate

from behavior_sync.destinations.hubspot_client import HubSpotClient, HubSpotCredentials
from behavior_sync.destinations.hubspot_errors import HubSpotError
from behavior_sync.destinations.hubspot_properties import PropertySpec
from behavior_sync.destinations.hubspot_property import HubSpotPropertyDestination
from behavior_sync.destinations.hubspot_throttle import PortalWindow
from behavior_sync.statedb import StateDatabase
from behavior_sync.sync.execute import BatchContext
from behavior_sync_airflow.destination_registry import CAPABILITIES
from tests.support.engine_run import EngineRun, Row
from tests.support.hubspot_harness import HS_PORTAL, HS_PORTALS, HS_TOKEN, HubSpotHarness, crm_rows, hubspot_starter

CRM_EMAILS = [f"m{i}@example.com" for i in range(100)]
BEHAVIORS = {"value_hunters": "Value Hunters", "comfort_seekers": "Comfort Seekers", "loyal_regulars": "Loyal Regulars"}


@dataclass
class PropertySync:
    """Behaviors syncing into one sandbox portal's contact properties, each with its own engine state."""

    sandbox: HubSpotHarness
    folder: Path
    db: StateDatabase

    def destination(self, behavior: str, prop: dict[str, Any], **settings: Any) -> HubSpotPropertyDestination:
        credentials = HubSpotCredentials(HS_TOKEN, str(HS_PORTAL), "professional", self.sandbox.base_url)
        client = HubSpotClient(credentials, f"behavior {behavior}", window=PortalWindow(10_000))
        spec = PropertySpec.from_settings({"property": prop, **settings}, BEHAVIORS[behavior], behavior)
        return HubSpotPropertyDestination(client, spec, CAPABILITIES["hubspot"])

    def sync(self, behavior: str, run_id: str, members: list[Row], prop: dict[str, Any], **settings: Any) -> Any:
        engine = EngineRun(self.folder / behavior, self.db, CAPABILITIES["hubspot"], behavior, "hubspot_property")
        plan = engine.plan(run_id, members)
        engine.load(plan, self.destination(behavior, prop, **settings))
        engine.commit(plan)
        return engine.ledger(plan)

    def values(self, name: str) -> dict[str, str]:
        """E-mail -> the property's value, for contacts where it is set."""
        return {e: p[name] for e, p in self.sandbox.contacts().items() if p.get(name)}

    def set_by_hand(self, name: str, values: dict[int, str], options: list[str] | None = None) -> None:
        """What a person does in HubSpot: a property (with options) and values typed on contacts."""
        client = self.sandbox.client()
        if options is not None:
            opts = [OptionInput(label=o, value=o, display_order=0, hidden=False) for o in options]
            client.crm.properties.core_api.create("contacts", PropertyCreate(
                name=name, label=name, type="enumeration", field_type="checkbox", group_name="contactinformation",
                options=opts))  # fmt: skip
        ids = {c["email"]: c["id"] for c in self.sandbox.get("contacts", portal=HS_PORTAL)["contacts"]}
        inputs = [SimplePublicObjectBatchInput(id=str(ids[f"m{i}@example.com"]), properties={name: v})
                  for i, v in values.items()]  # fmt: skip
        client.crm.contacts.batch_api.update(BatchInputSimplePublicObjectBatchInput(inputs=inputs))


@pytest.fixture()
def property_sync(tmp_path: Path) -> Iterator[PropertySync]:
    db = StateDatabase(f"sqlite:///{tmp_path}/state.db")
    db.ensure_schema()
    # the sandbox's clock is fake (its 10 s window never rolls): lift the window for these request-heavy tests
    portals = HS_PORTALS | {str(HS_PORTAL): {"contacts": CRM_EMAILS, "ten_second_limit": 1_000_000}}
    with hubspot_starter() as start:
        yield PropertySync(start(portals=portals), tmp_path, db)
    db.close()


def expected(**options: range) -> dict[str, set[str]]:
    held: dict[str, set[str]] = {}
    for option, numbers in options.items():
        for i in numbers:
            held.setdefault(f"m{i}@example.com", set()).add(option)
    return held


def test_two_behaviors_share_a_multi_checkbox_and_churn_touches_only_their_own_option(
    property_sync: PropertySync,
) -> None:
    prop = {"name": "customer_behaviors", "kind": "multi_checkbox", "label": "Customer Behaviors"}
    property_sync.set_by_hand("customer_behaviors", {5: "vip", 70: "vip"}, options=["vip"])
    property_sync.sync("value_hunters", "r1", crm_rows(range(60)), prop)
    property_sync.sync("comfort_seekers", "r1", crm_rows(range(40, 100)), prop)
    property_sync.sync("value_hunters", "r2", crm_rows(range(10, 60)), prop)  # 0-9 leave value_hunters
    held = {e: set(v.split(";")) for e, v in property_sync.values("customer_behaviors").items()}
    want = expected(value_hunters=range(10, 60), comfort_seekers=range(40, 100), vip=[5, 70])
    assert held == want


def test_a_single_select_primary_behavior_goes_by_priority_and_respects_hand_set_values(
    property_sync: PropertySync,
) -> None:
    def prop(priority: int) -> dict[str, Any]:
        return {"name": "primary_behavior", "kind": "single_select", "label": "Primary Behavior", "priority": priority}

    property_sync.sync("value_hunters", "r1", crm_rows(range(30)), prop(50))
    property_sync.sync("loyal_regulars", "r1", crm_rows(range(20, 40)), prop(10))  # outranks value_hunters
    property_sync.sync("comfort_seekers", "r1", crm_rows(range(35, 45)), prop(90))  # outranked: only 40-44 get it
    values = property_sync.values("primary_behavior")
    assert {e for e, v in values.items() if v == "loyal_regulars"} == {f"m{i}@example.com" for i in range(20, 40)}
    assert {e for e, v in values.items() if v == "value_hunters"} == {f"m{i}@example.com" for i in range(20)}
    assert {e for e, v in values.items() if v == "comfort_seekers"} == {f"m{i}@example.com" for i in range(40, 45)}
    property_sync.sync("loyal_regulars", "r2", crm_rows(range(20, 30)), prop(10))  # 30-39 leave: cleared
    assert not {f"m{i}@example.com" for i in range(30, 40)} & set(property_sync.values("primary_behavior"))


def test_a_boolean_per_behavior_is_true_for_members_cleared_for_leavers_and_hand_values_kept_unless_overwrite(
    property_sync: PropertySync,
) -> None:
    prop = {"name": "is_value_hunter", "kind": "boolean", "label": "Value Hunter"}
    property_sync.sync("value_hunters", "r1", crm_rows(range(10)), prop)
    property_sync.set_by_hand("is_value_hunter", {12: "false"})
    property_sync.sync("value_hunters", "r2", crm_rows(range(5, 15)), prop)  # 0-4 leave, 10-14 join
    want = {f"m{i}@example.com": "true" for i in range(5, 15) if i != 12} | {"m12@example.com": "false"}
    assert property_sync.values("is_value_hunter") == want
    property_sync.set_by_hand("is_value_hunter", {20: "false"})
    property_sync.sync("value_hunters", "r3", crm_rows([*range(5, 15), 20]), prop, overwrite_existing=True)
    values = property_sync.values("is_value_hunter")
    assert values["m20@example.com"] == "true"  # a joiner's hand-set value is overwritten
    assert values["m12@example.com"] == "false"  # m12 did not change in this run: nothing is sent for it


def test_an_existing_property_of_another_type_fails_with_what_to_do(property_sync: PropertySync) -> None:
    client = property_sync.sandbox.client()
    text = PropertyCreate(name="customer_behaviors", label="CB", type="string", field_type="text",
                          group_name="contactinformation")  # fmt: skip
    client.crm.properties.core_api.create("contacts", text)
    prop = {"name": "customer_behaviors", "kind": "multi_checkbox"}
    with pytest.raises(
        HubSpotError, match="exists as type string/text, but a multi_checkbox needs enumeration/checkbox"
    ):
        property_sync.sync("value_hunters", "r1", crm_rows(range(5)), prop)


def test_a_lifecycle_stage_only_moves_contacts_forward_and_leavers_keep_theirs(property_sync: PropertySync) -> None:
    prop = {"name": "lifecyclestage", "kind": "lifecycle_stage", "stage": "marketingqualifiedlead"}
    property_sync.set_by_hand("lifecyclestage", {1: "customer", 2: "lead"})
    property_sync.sync("value_hunters", "r1", crm_rows([1, 2, 3]), prop)
    stages = property_sync.values("lifecyclestage")
    assert stages == {"m1@example.com": "customer", "m2@example.com": "marketingqualifiedlead",
                      "m3@example.com": "marketingqualifiedlead"}  # fmt: skip
    property_sync.sync("value_hunters", "r2", crm_rows([1, 3]), prop)  # m2 leaves: keeps its stage
    assert property_sync.values("lifecyclestage") == stages
    with pytest.raises(HubSpotError, match="'champion' is not an option of HubSpot property 'lifecyclestage'"):
        property_sync.sync("loyal_regulars", "r1", crm_rows([4]), prop | {"stage": "champion"})


def test_lead_score_points_add_up_across_behaviors_and_a_resent_batch_counts_once(property_sync: PropertySync) -> None:
    def prop(points: int) -> dict[str, Any]:
        return {"name": "behavior_score", "kind": "score", "label": "Behavior score", "points": points}

    property_sync.sync("value_hunters", "r1", crm_rows([1, 2]), prop(20))
    property_sync.sync("loyal_regulars", "r1", crm_rows([2, 3]), prop(50))
    assert property_sync.values("behavior_score") == {"m1@example.com": "20", "m2@example.com": "70",
                                                      "m3@example.com": "50"}  # fmt: skip
    batch = pa.table({"member_key": ["c2"], "id_type": ["email"], "value": ["m2@example.com"]})
    property_sync.destination("loyal_regulars", prop(50)).send(batch, BatchContext("add", 0, 1, 1))  # re-sent
    property_sync.sync("value_hunters", "r2", crm_rows([1]), prop(20))  # m2 leaves value_hunters
    assert property_sync.values("behavior_score") == {"m1@example.com": "20", "m2@example.com": "50",
                                                      "m3@example.com": "50"}  # fmt: skip
    assert property_sync.values("behavior_score_behaviors")["m2@example.com"] == "loyal_regulars"
