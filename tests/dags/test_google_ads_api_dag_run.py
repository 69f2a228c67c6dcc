"""Google Customer Match through the Google Ads API (``api: google_ads_api``) in a whole behavior DAG run.

The Value Hunters behavior, with only a ``google_ads_api`` destination on a connection to the gRPC sandbox
(real clock, jobs finish after 1 s): the load runs OfflineUserDataJobs, the wait task defers to the trigger
(``dag.test()`` runs it inline) that polls the jobs' status, then commit and record. The list must hold
exactly the committed identifiers and history the list size and warnings; a job Google fails (the sandbox's
``job_fails`` fault) makes the run ``partial`` and is listed in history.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.dags.helpers import history, load_dag, states
from tests.dags.test_google_dag_run import committed
from tests.support.google_ads_harness import GoogleAdsHarness, google_ads_connection, google_ads_starter

pytestmark = pytest.mark.slow
DAY = dt.datetime(2026, 11, 24, tzinfo=dt.UTC)
SOURCE = Path(__file__).resolve().parents[2] / "include" / "behaviors" / "value_hunters.yaml"


@pytest.fixture()
def ads_sandbox(run_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[GoogleAdsHarness]:
    """The gRPC sandbox as connection ``google_ads_default`` and a behaviors folder whose Value Hunters loads
    only through ``api: google_ads_api``."""
    text = SOURCE.read_text().replace("api: data_manager", "api: google_ads_api")
    (tmp_path / "value_hunters.yaml").write_text(text)
    monkeypatch.setenv("BEHAVIOR_SYNC_BEHAVIORS_DIR", str(tmp_path))
    with google_ads_starter(lambda: time.time) as start:
        sandbox = start(processing_delay_seconds=1)
        monkeypatch.setenv("AIRFLOW_CONN_GOOGLE_ADS_DEFAULT", google_ads_connection(sandbox.endpoint))
        yield sandbox


def test_a_behavior_loads_through_the_google_ads_api_waits_for_its_jobs_and_records_size_and_warnings(
    run_env: dict[str, str], ads_sandbox: GoogleAdsHarness
) -> None:
    dag_run = load_dag("behavior__value_hunters").test(logical_date=DAY, run_conf={"destinations": ["google_ads"]})
    steps = ("plan", "load", "wait", "commit", "record")
    assert {s: states(dag_run)[f"google_ads.{s}"] for s in steps} == dict.fromkeys(steps, "success")
    members, list_id = committed(run_env)
    assert {frozenset(m) for m in ads_sandbox.members(int(list_id))} == members and len(members) > 50
    jobs = ads_sandbox.get("jobs")["jobs"]
    assert jobs and {j["status"] for j in jobs} == {"SUCCESS"} and {j["kind"] for j in jobs} == {"create"}

    (record,) = [r for r in history(run_env, "value_hunters") if r.run_id == dag_run.run_id]
    processing = record.details["processing"]
    assert record.status == "success" and processing["by_status"] == {"SUCCESS": len(jobs)}
    assert processing["list"]["list_id"] == list_id
    assert any("1,000 Search needs" in w for w in record.details["warnings"])


def test_a_job_google_fails_makes_the_run_partial_and_is_listed_in_history(
    run_env: dict[str, str], ads_sandbox: GoogleAdsHarness
) -> None:
    ads_sandbox.control("faults", {"scripted": [{"match": "RunOfflineUserDataJob", "job_fails": True}]})
    conf = {"destinations": ["google_ads"], "full_resync": True}  # this sandbox is new: every member is sent
    dag_run = load_dag("behavior__value_hunters").test(logical_date=DAY + dt.timedelta(days=1), run_conf=conf)
    assert states(dag_run)["google_ads.wait"] == "success"
    (failed,) = [j["resource_name"] for j in ads_sandbox.get("jobs")["jobs"] if j["status"] == "FAILED"]
    (record,) = [r for r in history(run_env, "value_hunters") if r.run_id == dag_run.run_id]
    processing = record.details["processing"]
    assert record.status == "partial" and "1 not fully applied" in record.message
    assert processing["by_status"]["FAILED"] == 1 and processing["failed_requests"] == [failed]
