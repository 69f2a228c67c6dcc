"""Demo behaviors syncing HubSpot lists into the HubSpot sandbox through whole DAG runs (dag.test()), and the
HubSpot connection. ``hubspot_default`` is the sandbox of ``run_env`` (real hubspot-api-client over HTTP),
reached with a Service Key."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from behavior_sync.statedb import StateDatabase
from behavior_sync.sync.objects import DestinationObjects
from behavior_sync.sync.state import StateStore
from tests.dags.helpers import history, load_dag, states
from tests.support.hubspot_harness import HS_LISTS_READ_TOKEN, HS_PORTAL, HS_SERVICE_KEY, HS_TOKEN, hubspot_connection

WEEK1 = dt.datetime(2026, 11, 23, tzinfo=dt.UTC)


def sync_list(behavior: str, when: dt.datetime) -> object:
    return load_dag(f"behavior__{behavior}").test(logical_date=when, run_conf={"destinations": ["hubspot_list"]})


def hubspot_base_url() -> str:
    import os

    host: str = json.loads(os.environ["AIRFLOW_CONN_HUBSPOT_DEFAULT"])["host"]
    return host


@pytest.mark.slow
def test_an_active_list_holds_the_segment_contacts_and_history_records_the_list(run_env: dict[str, str]) -> None:
    import requests

    dag_run = sync_list("loyal_regulars", WEEK1)
    assert states(dag_run)["hubspot_list.load"] == "success" and states(dag_run)["hubspot_list.record"] == "success"
    (record,) = [r for r in history(run_env, "loyal_regulars") if r.run_id == dag_run.run_id]  # type: ignore[attr-defined]
    db = StateDatabase(run_env["state"])
    try:
        stored = DestinationObjects(db).recall("loyal_regulars", "hubspot_list", "list")
        state = StateStore(db, run_env["artifacts"]).current("loyal_regulars", "hubspot_list")
    finally:
        db.close()
    assert stored is not None and state is not None
    held = requests.get(f"{hubspot_base_url()}/_sandbox/lists/{stored.object_id}/members", timeout=10).json()
    assert record.status == "success" and record.audience_id == stored.object_id
    assert record.audience_name == "[Behavior] Loyal Regulars - Active"
    assert held["count"] == state.members == record.audience_size == record.acknowledged > 0
    assert record.details["audience"]["delivery_status"] == "active"


@pytest.mark.slow
def test_a_static_list_is_exported_once_and_the_next_run_is_not_due(run_env: dict[str, str]) -> None:
    sync_list("cart_abandoners", WEEK1)
    later = sync_list("cart_abandoners", WEEK1 + dt.timedelta(days=1))
    (record,) = [r for r in history(run_env, "cart_abandoners") if r.run_id == later.run_id]  # type: ignore[attr-defined]
    assert record.status == "not_due" and "static list exported on" in record.message
    assert states(later)["hubspot_list.load"] == "skipped"


def test_the_hook_checks_portal_and_scopes_and_never_shows_the_token(
    run_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from behavior_sync.destinations.hubspot_errors import HubSpotError
    from behavior_sync_airflow.hooks.destinations import HubSpotHook

    base = hubspot_base_url()
    credentials = HubSpotHook().credentials()
    assert (credentials.portal_id, credentials.tier, credentials.base_url) == (str(HS_PORTAL), "professional", base)
    assert HS_SERVICE_KEY not in repr(credentials)
    ok, message = HubSpotHook().test_connection()
    assert ok and f"portal {HS_PORTAL}" in message
    monkeypatch.setenv("AIRFLOW_CONN_HUBSPOT_DEFAULT", hubspot_connection(base, token=HS_TOKEN))  # a private app
    ok, message = HubSpotHook().test_connection()
    assert ok and f"portal {HS_PORTAL}" in message
    monkeypatch.setenv("AIRFLOW_CONN_HUBSPOT_DEFAULT", hubspot_connection(base, portal=999))
    ok, message = HubSpotHook().test_connection()
    assert not ok and f"belongs to portal {HS_PORTAL}, not to portal_id 999" in message
    monkeypatch.setenv("AIRFLOW_CONN_HUBSPOT_DEFAULT", hubspot_connection(base, token=HS_LISTS_READ_TOKEN))
    ok, message = HubSpotHook().test_connection()
    assert not ok and "lacks scope crm.lists.write" in message and "crm.objects.contacts.write" in message
    monkeypatch.setenv("AIRFLOW_CONN_HUBSPOT_DEFAULT", hubspot_connection(base, token="pat-na1-revoked"))
    ok, message = HubSpotHook().test_connection()
    assert not ok and "HTTP 401" in message and "pat-na1-revoked" not in message
    monkeypatch.setenv("AIRFLOW_CONN_HUBSPOT_DEFAULT", hubspot_connection("https://api.example.net"))
    with pytest.raises(HubSpotError, match="may only point at the local sandbox"):
        HubSpotHook().credentials()


def test_the_plan_step_check_refuses_a_property_of_the_wrong_type_with_what_to_do(
    run_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from hubspot.crm.properties.models import PropertyCreate

    from behavior_sync.config import load_behaviors
    from behavior_sync.destinations.hubspot_errors import HubSpotError
    from behavior_sync_airflow.destination_registry import check_mapping
    from tests.support.hubspot_harness import hubspot_starter

    (behavior,) = load_behaviors(only=["comfort_seekers"]).behaviors
    (destination,) = [d for d in behavior.destinations if d.id == "hubspot_property"]
    with hubspot_starter() as start:
        portal = start()  # its own portal: the clash must not reach the other tests
        monkeypatch.setenv("AIRFLOW_CONN_HUBSPOT_DEFAULT", hubspot_connection(portal.base_url))
        check_mapping(destination, behavior)  # missing: the first load creates it
        clash = PropertyCreate(name="customer_behaviors", label="clash", type="string", field_type="text",
                               group_name="contactinformation")  # fmt: skip
        portal.client().crm.properties.core_api.create("contacts", clash)
        with pytest.raises(HubSpotError, match="'customer_behaviors' is string/text in HubSpot, but a multi_checkbox"):
            check_mapping(destination, behavior)


@pytest.mark.slow
def test_the_import_dag_reads_a_hubspot_list_into_a_warehouse_table(
    run_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import duckdb
    from hubspot.crm.lists.models import ListCreateRequest

    from tests.support.hubspot_harness import HS_SEED_EMAILS, HubSpotHarness

    sandbox = HubSpotHarness(hubspot_base_url(), app=None, clock=None)  # type: ignore[arg-type]
    lists = sandbox.client().crm.lists
    created = lists.lists_api.create(ListCreateRequest(object_type_id="0-1", processing_type="MANUAL", name="VIPs"))
    ids = {c["email"]: str(c["id"]) for c in sandbox.get("contacts", portal=HS_PORTAL)["contacts"]}
    vips = HS_SEED_EMAILS[:3]
    lists.memberships_api.add(created.list.list_id, [ids[e] for e in vips])
    folder = tmp_path / "imports"
    folder.mkdir()
    (folder / "vips.yaml").write_text("list_name: VIPs\ntable: hubspot_vips\nschedule: null\n")
    monkeypatch.setenv("BEHAVIOR_SYNC_IMPORTS_DIR", str(folder))
    dag_run = load_dag("import__vips").test()
    assert states(dag_run) == {"import_list": "success"}
    with duckdb.connect(run_env["warehouse"], read_only=True) as con:
        rows = con.execute(
            "SELECT email, contact_id, joined_at IS NOT NULL FROM hubspot_vips ORDER BY email"
        ).fetchall()
    assert rows == sorted((e, ids[e], True) for e in vips)
