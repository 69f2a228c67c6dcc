"""Fixtures of the DAG tests."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

AS_OF = dt.date(2026, 11, 23)


@pytest.fixture(scope="module")
def run_env(airflow_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A small demo warehouse, a state DB, an artifacts folder, and the Meta, HubSpot, CleverTap and Google Data
    Manager sandboxes as ``meta_default``, ``hubspot_default``, ``clevertap_default`` and ``google_ads_default``,
    wired through AIRFLOW_CONN_/AIRFLOW_VAR_ env vars."""
    from behavior_sync.demo_warehouse import generate_demo_warehouse
    from tests.support.clevertap_harness import clevertap_connection, clevertap_starter
    from tests.support.google_dm_harness import google_data_manager_starter, google_dm_connection
    from tests.support.hubspot_harness import hubspot_connection, hubspot_starter
    from tests.support.meta_harness import ACCOUNT, TOKEN, meta_starter

    folder = tmp_path_factory.mktemp("run_env")
    warehouse = folder / "warehouse.duckdb"
    generate_demo_warehouse(warehouse, seed=7, as_of=AS_OF, customers=3_000)
    env = {
        "AIRFLOW_CONN_WAREHOUSE_DEFAULT": json.dumps(
            {"conn_type": "warehouse", "extra": {"url": f"duckdb:///{warehouse}", "batch_rows": 1000}}
        ),
        "AIRFLOW_CONN_SYNC_STATE_DEFAULT": json.dumps(
            {"conn_type": "sync_state", "extra": {"url": f"sqlite:///{folder}/state.db"}}
        ),
        "AIRFLOW_VAR_BEHAVIOR_SYNC_ARTIFACTS_BASE": str(folder / "artifacts"),
    }
    with (
        pytest.MonkeyPatch.context() as patch,
        meta_starter() as start_meta,
        hubspot_starter() as start_hubspot,
        clevertap_starter() as start_ct,
        google_data_manager_starter() as start_google,
    ):
        meta = {"host": start_meta().base_url, "password": TOKEN, "extra": {"ad_account_id": f"act_{ACCOUNT}"}}
        env["AIRFLOW_CONN_META_DEFAULT"] = json.dumps({"conn_type": "meta_ads", **meta})
        env["AIRFLOW_CONN_HUBSPOT_DEFAULT"] = hubspot_connection(start_hubspot(unlimited=True).base_url)
        clevertap = start_ct()
        env["AIRFLOW_CONN_CLEVERTAP_DEFAULT"] = clevertap_connection(clevertap.base_url)
        google = start_google(processing_delay_seconds=1)  # real clock: Google settles a request after 1 s
        env["AIRFLOW_CONN_GOOGLE_ADS_DEFAULT"] = google_dm_connection(google.base_url)
        env["AIRFLOW_VAR_BEHAVIOR_SYNC_GOOGLE_POLL_SECONDS"] = "0.5"
        for key, value in env.items():
            patch.setenv(key, value)
        yield {
            "warehouse": str(warehouse),
            "state": f"sqlite:///{folder}/state.db",
            "artifacts": str(folder / "artifacts"),
            "clevertap": clevertap.base_url,
            "google": google.base_url,
        }
