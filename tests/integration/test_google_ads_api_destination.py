"""The Google destination with ``api: google_ads_api``: the sync engine, ``GoogleDataManagerDestination`` and
``GoogleAdsApiClient``, reaching the gRPC sandbox with the official ``google-ads`` client (no SDK mocks).

The engine set-up (``GoogleSync``) and the member helpers are the Data Manager tests'; only the client
(Google Ads API) and the inspection of what the sandbox holds differ. A lost answer is the sandbox's
``answer_lost`` fault: it performs the call, then answers a bare UNAVAILABLE or DEADLINE_EXCEEDED, as when
Google acted and the answer never arrived.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from behavior_sync.destinations.google_ads_client import (
    GoogleAdsApiClient,
    GoogleAdsApiCredentials,
    ads_credentials,
    grpc_endpoint,
)
from behavior_sync.destinations.google_dm_errors import GoogleAdsError
from behavior_sync.destinations.google_dm_status import (
    VENDOR_FAILED,
    RequestOutcome,
    failed_batches,
    match_rate,
    processing_report,
)
from behavior_sync.statedb import StateDatabase
from behavior_sync.sync.execute import commit_plan, load_plan
from behavior_sync.sync.plan import Capabilities
from behavior_sync_airflow.destination_registry import capabilities_for
from tests.integration.test_google_dm_destination import (
    FAST,
    LABEL,
    SPEC,
    GoogleSync,
    as_stored,
    churned_sync,
    members,
    sha,
)
from tests.support.google_ads_harness import (
    GADS_CUSTOMER,
    GADS_DELAY,
    GADS_NOT_ALLOWLISTED_TOKEN,
    GADS_TOKEN,
    GoogleAdsHarness,
    StartGoogleAds,
    google_ads_connection,
    google_ads_starter,
)

ADS_API_SMALL_BATCHES = replace(
    capabilities_for("google_ads", {"api": "google_ads_api"}), add_batch_members=40, remove_batch_members=15
)  # no replace: a full re-sync re-sends everyone and removes the leavers


@dataclass
class GoogleAdsSync(GoogleSync):
    """``GoogleSync`` whose destination loads through the Google Ads API into the gRPC sandbox."""

    developer_token: str = GADS_TOKEN
    identifiers_per_request: int = 100_000
    capabilities: Capabilities = ADS_API_SMALL_BATCHES

    def client(self, account: str = GADS_CUSTOMER, terms: bool = True) -> Any:  # type: ignore[override]
        endpoint = grpc_endpoint(self.sandbox.endpoint)
        credentials = GoogleAdsApiCredentials(
            ads_credentials({}, endpoint), self.developer_token, account, GADS_CUSTOMER, endpoint
        )
        return GoogleAdsApiClient(credentials, LABEL, FAST, self.sleeps.append, self.identifiers_per_request)

    def held(self) -> set[frozenset[str]]:
        sandbox: GoogleAdsHarness = self.sandbox  # type: ignore[assignment]
        return {frozenset(m) for m in sandbox.members(int(self.list_id()))}

    def jobs(self, run_id: str, plan: Any) -> list[dict[str, Any]]:
        """The sandbox's view of the jobs the run's load recorded, in request-log order."""
        sent = self.requests(run_id).read((b.op, b.number) for b in plan.batches)
        by_name = {j["resource_name"]: j for j in self.sandbox.get("jobs")["jobs"]}
        return [by_name[r.request_id] for r in sent]


@pytest.fixture()
def start_sandbox() -> Iterator[StartGoogleAds]:
    with google_ads_starter() as start:
        yield start


@pytest.fixture()
def db(tmp_path: Path) -> Iterator[StateDatabase]:
    database = StateDatabase(f"sqlite:///{tmp_path}/state.db")
    database.ensure_schema()
    yield database
    database.close()


@pytest.fixture()
def google(tmp_path: Path, start_sandbox: StartGoogleAds, db: StateDatabase) -> GoogleAdsSync:
    return GoogleAdsSync(start_sandbox(), tmp_path, db)  # type: ignore[arg-type]


def test_first_sync_creates_the_crm_list_and_fills_it_with_exactly_the_expected_hashed_identifiers(
    google: GoogleAdsSync,
) -> None:
    rows = members(range(100))
    plan = google.sync("r1", rows)
    lists = google.sandbox.get("user_lists")["user_lists"]
    assert [(ul["name"], ul["membership_life_span"], ul["upload_key_type"]) for ul in lists] == [
        (SPEC.name, 180, 2)  # CustomerMatchUploadKeyType.CONTACT_INFO
    ]
    assert [b.op for b in plan.batches] == ["add"] * 3
    assert google.held() == as_stored(rows) and google.committed() == set(rows)
    jobs = google.jobs("r1", plan)
    assert {j["status"] for j in jobs} == {"SUCCESS"} and {j["consent"]["ad_user_data"] for j in jobs} == {2}  # GRANTED
    report = google.destination("r1").report()
    assert report is not None and report.name == SPEC.name and report.audience_id == google.list_id()


def test_churned_second_sync_leaves_exactly_the_expected_members(google: GoogleAdsSync) -> None:
    _, second = churned_sync(google)
    assert google.held() == as_stored(second) and google.committed() == set(second)
    assert len(google.sandbox.get("user_lists")["user_lists"]) == 1  # the remembered list was reused


def test_removes_and_adds_never_share_a_job_and_add_requests_stay_within_the_identifier_cap(
    google: GoogleAdsSync,
) -> None:
    google.sync("r1", members(range(60)))
    google.identifiers_per_request = 30  # 10 members of 3 identifiers per AddOfflineUserDataJobOperations
    before = google.sandbox.get("state")
    plan = google.plan("r2", members(range(20, 90)))  # 0-19 leave, 60-89 join
    load_plan(plan, google.destination("r2"), google.ledger(plan))
    jobs = google.jobs("r2", plan)  # before Google ran them: their queued operations are visible
    # removes in batches of 15 (15 + 5), then the 30 joiners in one batch sent as jobs of 25 + 5 members
    assert [(j["kind"], j["queued"]) for j in jobs] == [("remove", 15), ("remove", 5), ("create", 25), ("create", 5)]
    adds = [calls(s, "AddOfflineUserDataJobOperations") for s in (before, google.sandbox.get("state"))]
    assert adds[1] - adds[0] == 2 + 1 + 3 + 1  # ceil(members * 3 / 30) requests per job
    google.sandbox.clock.advance(GADS_DELAY)
    assert google.held() == as_stored(members(range(20, 90)))


def calls(state: dict[str, Any], method: str) -> int:
    """Admitted calls of a gRPC method in the sandbox's state view."""
    return sum(n for name, n in state["calls"].items() if name.endswith(method))


def test_jobs_stay_unsettled_until_google_finishes_them_then_report_the_match_rate(
    start_sandbox: StartGoogleAds, tmp_path: Path, db: StateDatabase
) -> None:
    sandbox = start_sandbox(universe=[sha(f"{k}@example.com") for k in range(10)])
    google = GoogleAdsSync(sandbox, tmp_path, db)  # type: ignore[arg-type]
    plan = google.plan("r1", members(range(20)))
    load_plan(plan, google.destination("r1"), google.ledger(plan))
    (sent,) = google.requests("r1").read([("add", 0)])
    job, client = sent.request_id, google.client()
    assert job.startswith(f"customers/{GADS_CUSTOMER}/offlineUserDataJobs/") and client.job_outcome(job) is None
    sandbox.clock.advance(GADS_DELAY)
    outcome = client.job_outcome(job)
    assert outcome is not None and outcome.status == "SUCCESS"
    assert outcome.match_rate_range == 5  # 10 of 20 known: MATCH_RANGE_41_TO_50, as the Data Manager range
    size = client.get_user_list(google.list_id())
    assert size is not None and size.size_info.search_network_members_count == 10


def test_a_token_not_allowlisted_fails_with_switch_to_data_manager(google: GoogleAdsSync) -> None:
    google.developer_token = GADS_NOT_ALLOWLISTED_TOKEN
    plan = google.plan("r1", members(range(5)))
    with pytest.raises(GoogleAdsError, match="switch this destination to api: data_manager") as failure:
        load_plan(plan, google.destination("r1"), google.ledger(plan))
    assert "CUSTOMER_NOT_ALLOWLISTED_FOR_THIS_FEATURE" in str(failure.value.reason)
    assert not google.ledger(plan).acknowledged() and not google.sleeps


def test_an_invalid_developer_token_fails_with_what_to_do(google: GoogleAdsSync) -> None:
    google.developer_token = "not-a-token"
    plan = google.plan("r1", members(range(5)))
    with pytest.raises(GoogleAdsError, match="developer token"):
        load_plan(plan, google.destination("r1"), google.ledger(plan))


def test_resource_exhausted_backs_off_within_the_throttle_budget_and_resumes(google: GoogleAdsSync) -> None:
    fault = {"match": "CreateOfflineUserDataJob", "count": 2, "http_status": 429}
    google.sandbox.control("faults", {"scripted": [fault]})
    google.sync("r1", members(range(10)))
    assert len(google.sleeps) == 2 and google.held() == as_stored(members(range(10)))


def test_resource_exhausted_beyond_the_throttle_budget_fails(google: GoogleAdsSync) -> None:
    fault = {"match": "CreateOfflineUserDataJob", "count": 1000, "http_status": 429}
    google.sandbox.control("faults", {"scripted": [fault]})
    plan = google.plan("r1", members(range(5)))
    with pytest.raises(GoogleAdsError, match="throttle budget"):
        load_plan(plan, google.destination("r1"), google.ledger(plan))


def test_the_hook_builds_the_client_of_the_destinations_api(google: GoogleAdsSync, monkeypatch: Any) -> None:
    from behavior_sync_airflow.hooks.destinations import GoogleAdsHook

    monkeypatch.setenv("AIRFLOW_CONN_GADS_TEST", google_ads_connection(google.sandbox.endpoint))
    client = GoogleAdsHook("gads_test").client_for("google_ads_api", LABEL)
    assert isinstance(client, GoogleAdsApiClient) and client.find_user_list(SPEC.name) is None
    assert client.identifiers_per_request == 10_000  # Google's recommendation, below its 100,000 cap
    sized = GoogleAdsHook("gads_test").client_for("google_ads_api", LABEL, identifiers_per_request=250)
    assert isinstance(sized, GoogleAdsApiClient) and sized.identifiers_per_request == 250
    assert GoogleAdsHook("gads_test").test_connection() == (
        True,
        f"the credentials can read the user lists of account {GADS_CUSTOMER}",
    )
    monkeypatch.setenv("AIRFLOW_CONN_GADS_TEST", google_ads_connection(google.sandbox.endpoint, "not-a-token"))
    ok, message = GoogleAdsHook("gads_test").test_connection()
    assert not ok and "developer token" in message
    with pytest.raises(ValueError, match="data_manager or google_ads_api"):
        GoogleAdsHook("gads_test").client_for("adwords")


def test_the_trigger_polls_the_jobs_until_google_settled_them_and_submits_nothing(
    google: GoogleAdsSync, monkeypatch: Any
) -> None:
    from behavior_sync_airflow.triggers import DataManagerRequestsTrigger

    monkeypatch.setenv("AIRFLOW_CONN_GADS_TEST", google_ads_connection(google.sandbox.endpoint))
    plan = google.plan("r1", members(range(5)))
    load_plan(plan, google.destination("r1"), google.ledger(plan))
    jobs = [r.request_id for r in google.requests("r1").read([("add", 0)])]
    _, kwargs = DataManagerRequestsTrigger("gads_test", jobs, 0.05, "trigger test", "google_ads_api").serialize()
    trigger = DataManagerRequestsTrigger(**json.loads(json.dumps(kwargs)))  # JSON primitives only
    before = google.sandbox.get("state")["calls"]

    async def first_event() -> Any:
        event = asyncio.ensure_future(anext(aiter(trigger.run())))
        await asyncio.sleep(0.5)
        assert not event.done()  # the job is RUNNING: the trigger keeps polling
        google.sandbox.clock.advance(GADS_DELAY)
        return (await asyncio.wait_for(event, 10)).payload

    payload = asyncio.run(first_event())
    after = google.sandbox.get("state")["calls"]
    assert payload["status"] == "done" and [o["status"] for o in payload["outcomes"]] == ["SUCCESS"]

    def writes(calls: dict[str, int]) -> dict[str, int]:
        return {method: n for method, n in calls.items() if method != "Search"}

    assert writes(after) == writes(before) and after["Search"] > before["Search"]  # it only read


def test_customer_data_terms_not_accepted_fails_with_what_to_do(google: GoogleAdsSync) -> None:
    error = "offline_user_data_job_error.CUSTOMER_NOT_ACCEPTED_CUSTOMER_DATA_TERMS"
    fault = {"match": "CreateOfflineUserDataJob", "count": 1, "http_status": 400, "error": error}
    google.sandbox.control("faults", {"scripted": [fault]})
    plan = google.plan("r1", members(range(5)))
    with pytest.raises(GoogleAdsError, match="accept them in Google Ads") as failure:
        load_plan(plan, google.destination("r1"), google.ledger(plan))
    assert failure.value.reason == error and not google.sleeps


def test_server_errors_are_retried_a_bounded_number_of_times(google: GoogleAdsSync) -> None:
    fault = {"match": "RunOfflineUserDataJob", "count": 2, "http_status": 503}
    google.sandbox.control("faults", {"scripted": [fault]})
    google.sync("r1", members(range(5)))
    assert len(google.sleeps) == 2 and google.held() == as_stored(members(range(5)))


def lose_answer(google: GoogleAdsSync, method: str, http_status: int = 504, **spec: Any) -> None:
    """The sandbox performs the next ``method`` call, then answers a bare ``http_status`` instead of its result."""
    fault = {"match": method, "count": 1, "http_status": http_status, "answer_lost": True, **spec}
    google.sandbox.control("faults", {"scripted": [fault]})


def refusals(google: GoogleAdsSync) -> dict[str, int]:
    """The sandbox's answered errors by ``"<gRPC status> <reason>"``."""
    errors: dict[str, int] = google.sandbox.get("state")["errors"]
    return errors


def test_a_lost_run_answer_is_retried_job_already_started_is_confirmed_and_each_job_runs_once(
    google: GoogleAdsSync,
) -> None:
    lose_answer(google, "RunOfflineUserDataJob")
    rows = members(range(30))  # one batch, sent as jobs of 25 + 5 members
    plan = google.sync("r1", rows)
    assert google.ledger(plan).acknowledged() == {("add", 0)} and google.committed() == set(rows)
    assert google.held() == as_stored(rows)
    jobs = google.jobs("r1", plan)
    assert [j["status"] for j in jobs] == ["SUCCESS", "SUCCESS"]
    assert len(google.sandbox.get("jobs")["jobs"]) == 2  # one job per request, none created or run again
    assert refusals(google) == {
        "DEADLINE_EXCEEDED DEADLINE_EXCEEDED": 1,  # the lost answer
        "INVALID_ARGUMENT offline_user_data_job_error.JOB_ALREADY_STARTED": 1,  # its retry, then Search: RUNNING
    }
    assert len(google.sleeps) == 1


def test_a_lost_add_answer_is_retried_and_the_duplicate_operations_leave_the_exact_list(
    google: GoogleAdsSync,
) -> None:
    lose_answer(google, "AddOfflineUserDataJobOperations", http_status=503)
    rows = members(range(30))
    plan = google.plan("r1", rows)
    load_plan(plan, google.destination("r1"), google.ledger(plan))
    # the first job's operations were stored by the lost try and again by its retry
    assert [(j["kind"], j["queued"]) for j in google.jobs("r1", plan)] == [("create", 50), ("create", 5)]
    assert google.ledger(plan).acknowledged() == {("add", 0)}
    google.sandbox.clock.advance(GADS_DELAY)
    assert google.held() == as_stored(rows)
    assert [j["status"] for j in google.jobs("r1", plan)] == ["SUCCESS", "SUCCESS"]


def test_a_lost_create_answer_leaves_an_empty_orphan_job_logged_without_identifiers_and_the_load_is_correct(
    google: GoogleAdsSync, caplog: pytest.LogCaptureFixture
) -> None:
    lose_answer(google, "CreateOfflineUserDataJob", http_status=503)
    rows = members(range(10))
    with caplog.at_level(logging.WARNING, logger="behavior_sync.destinations.google_ads_client"):
        plan = google.sync("r1", rows)
    assert google.held() == as_stored(rows) and google.committed() == set(rows)
    (logged,) = google.jobs("r1", plan)
    orphans = [j for j in google.sandbox.get("jobs")["jobs"] if j["resource_name"] != logged["resource_name"]]
    assert logged["status"] == "SUCCESS" and [(j["status"], j["queued"]) for j in orphans] == [("PENDING", 0)]
    (warning,) = [r.getMessage() for r in caplog.records if "empty job" in r.getMessage()]
    assert "created on try 2" in warning and "customers/" not in warning and "@" not in warning


def test_a_job_found_failed_after_a_lost_run_answer_fails_the_batch_and_a_task_retry_loads_it_again(
    start_sandbox: StartGoogleAds, tmp_path: Path, db: StateDatabase
) -> None:
    google = GoogleAdsSync(start_sandbox(processing_delay_seconds=0), tmp_path, db)  # type: ignore[arg-type]
    lose_answer(google, "RunOfflineUserDataJob", job_fails=True)
    rows = members(range(10))
    plan = google.plan("r1", rows)
    with pytest.raises(GoogleAdsError, match=r"Google reports it FAILED.*sends it again in a new job") as failure:
        load_plan(plan, google.destination("r1"), google.ledger(plan))
    assert failure.value.reason == "FAILED" and not google.ledger(plan).acknowledged()
    assert google.sandbox.get("state")["jobs"] == {"FAILED": 1} and google.held() == set()
    load_plan(plan, google.destination("r1"), google.ledger(plan))  # the task retry: a new job
    assert google.ledger(plan).acknowledged() == {("add", 0)}
    google.sandbox.clock.advance(1)
    assert google.held() == as_stored(rows)
    assert google.sandbox.get("state")["jobs"] == {"FAILED": 1, "SUCCESS": 1}


def test_a_job_google_fails_is_reported_as_failed_by_the_trigger_and_in_the_processing_report(
    google: GoogleAdsSync, monkeypatch: Any
) -> None:
    from behavior_sync_airflow.triggers import DataManagerRequestsTrigger

    monkeypatch.setenv("AIRFLOW_CONN_GADS_TEST", google_ads_connection(google.sandbox.endpoint))
    google.sandbox.control("faults", {"scripted": [{"match": "RunOfflineUserDataJob", "job_fails": True}]})
    plan = google.sync("r1", members(range(30)))  # jobs of 25 (fails) + 5 members
    sent = google.requests("r1").read((b.op, b.number) for b in plan.batches)
    trigger = DataManagerRequestsTrigger(
        "gads_test", [r.request_id for r in sent], 0.01, "trigger test", "google_ads_api", [r.members for r in sent]
    )
    payload = asyncio.run(asyncio.wait_for(anext(aiter(trigger.run())), 10)).payload
    outcomes = [RequestOutcome(**o) for o in payload["outcomes"]]
    report = processing_report(outcomes, None)
    assert report["by_status"] == {"FAILED": 1, "SUCCESS": 1}
    assert report["failed_requests"] == [sent[0].request_id]


def test_a_batch_whose_job_google_failed_is_taken_back_from_the_commit_and_sent_again_by_the_next_run(
    google: GoogleAdsSync,
) -> None:
    google.sandbox.control("faults", {"scripted": [{"match": "RunOfflineUserDataJob", "job_fails": True}]})
    rows = members(range(30))
    plan = google.plan("r1", rows)  # one batch of 30, sent as jobs of 25 (fails) + 5
    load_plan(plan, google.destination("r1"), google.ledger(plan))
    google.sandbox.clock.advance(GADS_DELAY)
    batches = [(b.op, b.number) for b in plan.batches]
    sent = google.requests("r1").read(batches)
    outcomes = [google.client().job_outcome(r.request_id, r.members or 1) for r in sent]
    taken_back = failed_batches(google.requests("r1"), batches, [o for o in outcomes if o is not None])
    for op, number in taken_back:  # what the wait step does before commit
        google.ledger(plan).mark(op, number, VENDOR_FAILED)
    commit_plan(plan, google.ledger(plan), google.store, None)

    state = google.store.current("value_hunters", "google_ads")
    assert taken_back == batches and (state is None or state.members == 0)  # nothing of it counts as synced
    assert len(google.held()) == 5  # the job Google ran; the failed one applied nothing
    google.sync("r2", rows)  # the next run: the whole batch again
    assert google.held() == as_stored(rows) and google.committed() == set(rows)


def test_the_match_rate_weighs_each_job_by_the_members_it_carried(
    start_sandbox: StartGoogleAds, tmp_path: Path, db: StateDatabase, monkeypatch: Any
) -> None:
    from behavior_sync_airflow.triggers import DataManagerRequestsTrigger

    known = [sha(f"{k}@example.com") for k in range(35, 40)]
    google = GoogleAdsSync(start_sandbox(universe=known), tmp_path, db)  # type: ignore[arg-type]
    monkeypatch.setenv("AIRFLOW_CONN_GADS_TEST", google_ads_connection(google.sandbox.endpoint))
    plan = google.sync("r1", members(range(10, 40)))  # members 10-34 in one job, 35-39 (all known) in another
    sent = google.requests("r1").read((b.op, b.number) for b in plan.batches)
    assert [(j["uploaded"], j["matched"]) for j in google.jobs("r1", plan)] == [(25, 0), (5, 5)]
    assert [r.members for r in sent] == [25, 5]
    trigger = DataManagerRequestsTrigger(
        "gads_test", [r.request_id for r in sent], 0.01, "trigger test", "google_ads_api", [r.members for r in sent]
    )
    _, kwargs = trigger.serialize()
    trigger = DataManagerRequestsTrigger(**json.loads(json.dumps(kwargs)))
    payload = asyncio.run(asyncio.wait_for(anext(aiter(trigger.run())), 10)).payload
    outcomes = [RequestOutcome(**o) for o in payload["outcomes"]]
    assert [(o.records, o.match_rate_range) for o in outcomes] == [(25, 2), (5, 10)]  # <20 %, 91-100 %
    # (25 x 10 % + 5 x 95.5 %) / 30, where weighing the jobs equally would give (10 % + 95.5 %) / 2 = 0.5275
    assert match_rate(outcomes) == 0.2425


def test_a_trigger_serialized_before_member_counts_existed_weighs_its_jobs_equally() -> None:
    from behavior_sync_airflow.triggers import DataManagerRequestsTrigger

    old = DataManagerRequestsTrigger("gads_test", ["job-a", "job-b"], 1.0, "old trigger", "google_ads_api")
    partly = DataManagerRequestsTrigger("gads_test", ["job-a", "job-b"], 1.0, "log", "google_ads_api", [None, 7])
    assert old.serialize()[1]["members"] == [1, 1] and partly.serialize()[1]["members"] == [1, 7]
