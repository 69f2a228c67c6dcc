"""The daily campaign-performance read-back as a real DAG run (dag.test()) against the Meta, HubSpot and Google
Ads sandboxes: every behavior x destination with a remembered audience is read and stored, and one whose
connection reads the wrong Google Ads customer fails alone, saying what to do."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from behavior_sync.destinations.meta_client import MetaClient, MetaCredentials
from behavior_sync.performance import performance_by_behavior
from behavior_sync.performance_store import ReadWindow, Target
from behavior_sync.statedb import StateDatabase
from behavior_sync.sync.objects import DestinationObjects, StoredObject
from tests.dags.helpers import load_dag
from tests.support.google_ads_harness import GADS_CUSTOMER, google_ads_connection, google_ads_starter
from tests.support.google_dm_harness import google_dm_connection
from tests.support.hubspot_harness import HS_PORTAL, HubSpotHarness, hubspot_connection, hubspot_starter
from tests.support.meta_harness import ACCOUNT, TOKEN, meta_starter

DAG_ID = "behavior_sync__performance"
CONNECTIONS = ["google_ads_api_default", "google_ads_default", "hubspot_default", "meta_default"]
UNTIL = dt.date(2025, 6, 1)  # the sandboxes' fake clocks say 2025-06-02
WINDOW = ReadWindow.ending(UNTIL, 3)
OTHER_CUSTOMER = "5555555555"


@pytest.fixture()
def sandboxes(airflow_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[StateDatabase]:
    """The sandboxes as the demo's connections, and a state DB remembering the audiences of four destinations and
    one Google Ads API destination whose list lives in a customer its connection cannot read."""
    state = f"sqlite:///{tmp_path}/state.db"
    env = {"AIRFLOW_CONN_SYNC_STATE_DEFAULT": json.dumps({"conn_type": "sync_state", "extra": {"url": state}})}
    with meta_starter() as start_meta, hubspot_starter() as start_hubspot, google_ads_starter() as start_google:
        meta, hubspot, google = start_meta(), start_hubspot(unlimited=True), start_google()
        env["AIRFLOW_CONN_META_DEFAULT"] = json.dumps(
            {
                "conn_type": "meta_ads",
                "host": meta.base_url,
                "password": TOKEN,
                "extra": {"ad_account_id": f"act_{ACCOUNT}"},
            }
        )
        env["AIRFLOW_CONN_HUBSPOT_DEFAULT"] = hubspot_connection(hubspot.base_url)
        env["AIRFLOW_CONN_GOOGLE_ADS_DEFAULT"] = google_dm_connection("http://127.0.0.1:9", account=GADS_CUSTOMER)
        env["AIRFLOW_CONN_GOOGLE_ADS_API_DEFAULT"] = google_ads_connection(google.endpoint)
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        db = StateDatabase(state)
        db.ensure_schema()
        remember_audiences(db, meta.base_url, hubspot)
        yield db
        db.close()


def remember_audiences(db: StateDatabase, meta_url: str, hubspot: HubSpotHarness) -> None:
    from hubspot.crm.lists.models import ListCreateRequest

    objects = DestinationObjects(db)
    client = MetaClient(MetaCredentials(TOKEN, f"act_{ACCOUNT}", None, meta_url), "seed")
    for behavior in ("value_hunters", "trend_followers"):
        audience = client.create_audience(f"[Behavior] - {behavior}", "", "USER_PROVIDED_ONLY")
        objects.remember(behavior, "meta", "audience", StoredObject(audience, behavior, f"act_{ACCOUNT}"))
    created = hubspot.client().crm.lists.lists_api.create(
        ListCreateRequest(name="BEH - Value Hunters", object_type_id="0-1", processing_type="MANUAL")
    )
    objects.remember("value_hunters", "hubspot_list", "list", StoredObject(created.list.list_id, "BEH", str(HS_PORTAL)))
    objects.remember("value_hunters", "google_ads", "user_list", StoredObject("5000", "VH", GADS_CUSTOMER))
    objects.remember("quality_enthusiasts", "google_ads_api", "user_list", StoredObject("6000", "QE", OTHER_CUSTOMER))


def task_instances(dag_run: Any) -> dict[tuple[str, str], str]:
    """(task id, rendered map index or "") -> state."""
    return {(ti.task_id, ti.rendered_map_index or ""): str(ti.state) for ti in dag_run.get_task_instances()}


@pytest.mark.slow
def test_the_daily_read_back_stores_every_destination_and_one_failure_stays_alone(sandboxes: StateDatabase) -> None:
    dag = load_dag(DAG_ID)
    assert (
        dag.schedule == "@daily"
        and sorted({t.pool for t in dag.tasks if t.task_id.startswith("read__")}) == CONNECTIONS
    )
    run = dag.test(
        logical_date=dt.datetime(2026, 11, 23, tzinfo=dt.UTC), run_conf={"until": UNTIL.isoformat(), "days": 3}
    )
    assert task_instances(run) == {
        **{(f"targets__{c}", ""): "success" for c in CONNECTIONS},
        ("read__meta_default", "trend_followers/meta"): "success",
        ("read__meta_default", "value_hunters/meta"): "success",
        ("read__hubspot_default", "value_hunters/hubspot_list"): "success",
        ("read__google_ads_default", "value_hunters/google_ads"): "success",  # Data Manager list, read via the Ads API
        ("read__google_ads_api_default", "quality_enthusiasts/google_ads_api"): "failed",
    }
    report = performance_by_behavior(sandboxes, WINDOW.since, WINDOW.until)
    pairs = {(p.behavior, p.destination_id): p for p in report.pairs}
    assert sorted(pairs) == [
        ("trend_followers", "meta"),
        ("value_hunters", "google_ads"),
        ("value_hunters", "hubspot_list"),
        ("value_hunters", "meta"),
    ]
    assert [p.day.isoformat() for p in pairs["value_hunters", "meta"].daily] == [
        "2025-05-30",
        "2025-05-31",
        "2025-06-01",
    ]
    assert pairs["value_hunters", "google_ads"].objects == 3  # campaign 500002, ad groups 500011 and 500012
    email = pairs["value_hunters", "hubspot_list"]
    assert (email.objects, email.totals.sent, email.totals.opens) == (1, 553, 204)  # the newsletter of 2025-05-30


def test_a_list_in_a_customer_the_connection_cannot_read_fails_with_what_to_do(sandboxes: StateDatabase) -> None:
    from airflow.sdk.exceptions import AirflowFailException

    from behavior_sync_airflow.performance_operators import read_target

    target = Target(
        "quality_enthusiasts",
        "google_ads_api",
        "google_ads",
        "google_ads_api_default",
        "6000",
        OTHER_CUSTOMER,
        "google_ads_api",
    )
    with pytest.raises(AirflowFailException) as failure:
        read_target(target, WINDOW)
    message = str(failure.value)
    assert message.startswith("behavior quality_enthusiasts, destination google_ads_api (google_ads): ")
    assert f"lives in customer {OTHER_CUSTOMER}" in message and "developer token" in message


def test_without_a_destination_that_reports_there_is_no_read_back_dag(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from behavior_sync_airflow.performance_operators import declare_performance_dag

    monkeypatch.setenv("BEHAVIOR_SYNC_BEHAVIORS_DIR", str(tmp_path))
    namespace: dict[str, Any] = {}
    assert declare_performance_dag(namespace) is None and namespace == {}
