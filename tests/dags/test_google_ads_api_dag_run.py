"""Google Customer Match through the Google Ads API (``api: google_ads_api``) in whole behavior DAG runs.

The gRPC sandbox runs on the real clock (jobs finish after 1 s): the load runs OfflineUserDataJobs, the wait
task defers to the trigger (``dag.test()`` runs it inline) that polls the jobs' status, then commit and
record. First Value Hunters with only a ``google_ads_api`` destination on ``google_ads_default``; then the
demo's Quality Enthusiasts as shipped, whose two Google destinations load the same segment through the Data
Manager API (``google_ads_default``) and the Google Ads API (``google_ads_api_default``). Each list must
hold exactly the committed identifiers; a job Google fails (the sandbox's ``job_fails`` fault) makes the run
``partial``, is listed in history and its batch is left out of the commit.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.dags.helpers import history, load_dag, states
from tests.dags.test_google_dag_run import committed, held_identifiers
from tests.support.google_ads_harness import GoogleAdsHarness, google_ads_connection, google_ads_starter

pytestmark = pytest.mark.slow
DAY = dt.datetime(2026, 11, 24, tzinfo=dt.UTC)
SOURCE = Path(__file__).resolve().parents[2] / "include" / "behaviors" / "value_hunters.yaml"
STEPS = ("plan", "load", "wait", "commit", "record")


@pytest.fixture()
def ads_sandbox() -> Iterator[GoogleAdsHarness]:
    """The gRPC sandbox on the real clock; its jobs finish 1 s after they run."""
    with google_ads_starter(lambda: time.time) as start:
        yield start(processing_delay_seconds=1)


@pytest.fixture()
def value_hunters_via_ads_api(
    run_env: dict[str, str], ads_sandbox: GoogleAdsHarness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> GoogleAdsHarness:
    """The sandbox as connection ``google_ads_default`` and a behaviors folder whose Value Hunters loads
    only through ``api: google_ads_api``."""
    text = SOURCE.read_text().replace("api: data_manager", "api: google_ads_api")
    (tmp_path / "value_hunters.yaml").write_text(text)
    monkeypatch.setenv("BEHAVIOR_SYNC_BEHAVIORS_DIR", str(tmp_path))
    monkeypatch.setenv("AIRFLOW_CONN_GOOGLE_ADS_DEFAULT", google_ads_connection(ads_sandbox.endpoint))
    return ads_sandbox


def test_a_behavior_loads_through_the_google_ads_api_waits_for_its_jobs_and_records_size_and_warnings(
    run_env: dict[str, str], value_hunters_via_ads_api: GoogleAdsHarness
) -> None:
    ads_sandbox = value_hunters_via_ads_api
    dag_run = load_dag("behavior__value_hunters").test(logical_date=DAY, run_conf={"destinations": ["google_ads"]})
    assert {s: states(dag_run)[f"google_ads.{s}"] for s in STEPS} == dict.fromkeys(STEPS, "success")
    members, list_id = committed(run_env)
    assert {frozenset(m) for m in ads_sandbox.members(int(list_id))} == members and len(members) > 50
    jobs = ads_sandbox.get("jobs")["jobs"]
    assert jobs and {j["status"] for j in jobs} == {"SUCCESS"} and {j["kind"] for j in jobs} == {"create"}

    (record,) = [r for r in history(run_env, "value_hunters") if r.run_id == dag_run.run_id]
    processing = record.details["processing"]
    assert record.status == "success" and processing["by_status"] == {"SUCCESS": len(jobs)}
    assert processing["list"]["list_id"] == list_id
    assert any("1,000 Search needs" in w for w in record.details["warnings"])


def test_the_demo_behavior_fills_a_data_manager_list_and_a_google_ads_api_list_with_the_same_members(
    run_env: dict[str, str], ads_sandbox: GoogleAdsHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_GOOGLE_ADS_API_DEFAULT", google_ads_connection(ads_sandbox.endpoint))
    dag = load_dag("behavior__quality_enthusiasts")
    dag_run = dag.test(logical_date=DAY, run_conf={"destinations": ["google_ads", "google_ads_api"]})
    for group in ("google_ads", "google_ads_api"):
        assert {s: states(dag_run)[f"{group}.{s}"] for s in STEPS} == dict.fromkeys(STEPS, "success")
    via_data_manager, dm_list = committed(run_env, "quality_enthusiasts", "google_ads")
    via_ads_api, ads_list = committed(run_env, "quality_enthusiasts", "google_ads_api")
    assert via_data_manager == via_ads_api and len(via_ads_api) > 20
    assert held_identifiers(run_env, dm_list) == via_data_manager
    assert {frozenset(m) for m in ads_sandbox.members(int(ads_list))} == via_ads_api

    records = {r.destination_id: r for r in history(run_env, "quality_enthusiasts") if r.run_id == dag_run.run_id}
    assert {d: (r.status, r.details["processing"]["list"]["name"]) for d, r in records.items()} == {
        "google_ads": ("success", "[Behavior] - Quality Enthusiasts"),
        "google_ads_api": ("success", "[Behavior] - Quality Enthusiasts (Google Ads API)"),
    }


def test_a_job_google_fails_makes_the_run_partial_and_is_listed_in_history(
    run_env: dict[str, str], value_hunters_via_ads_api: GoogleAdsHarness
) -> None:
    ads_sandbox = value_hunters_via_ads_api
    ads_sandbox.control("faults", {"scripted": [{"match": "RunOfflineUserDataJob", "job_fails": True}]})
    conf = {"destinations": ["google_ads"], "full_resync": True}  # this sandbox is new: every member is sent
    dag_run = load_dag("behavior__value_hunters").test(logical_date=DAY + dt.timedelta(days=1), run_conf=conf)
    assert states(dag_run)["google_ads.wait"] == "success"
    (failed,) = [j["resource_name"] for j in ads_sandbox.get("jobs")["jobs"] if j["status"] == "FAILED"]
    (record,) = [r for r in history(run_env, "value_hunters") if r.run_id == dag_run.run_id]
    processing = record.details["processing"]
    assert record.status == "partial" and "1 not fully applied" in record.message
    assert processing["by_status"]["FAILED"] == 1 and processing["failed_requests"] == [failed]
    assert processing["uncommitted_batches"] == 1  # its batch is left out of the commit: the next run resends it
    assert "(1 batches not committed: the next run sends them again)" in record.message
