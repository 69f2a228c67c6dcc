"""The Google Ads API sandbox, driven with the official google-ads client over gRPC (never mocked)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from google.ads.googleads.errors import GoogleAdsException
from google.api_core import exceptions

from tests.support.google_ads_harness import (
    GADS_CUSTOMER,
    GADS_DELAY,
    GADS_FOREIGN_CUSTOMER,
    GADS_NOT_ALLOWLISTED_TOKEN,
    GoogleAdsHarness,
    StartGoogleAds,
    google_ads_starter,
)

KNOWN = ["ada@example.com", "grace@example.com"]  # in the universe: "Google knows" them


def sha(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


@pytest.fixture
def start_google_ads() -> Iterator[StartGoogleAds]:
    """A factory: ``start_google_ads(**config_overrides)`` starts a sandbox; all stop after the test."""
    with google_ads_starter() as start:
        yield start


@pytest.fixture
def gads(start_google_ads: StartGoogleAds) -> GoogleAdsHarness:
    """A sandbox with the test customer and tokens, a universe of two known e-mail hashes, 1800 s processing."""
    return start_google_ads(universe=[sha(e) for e in KNOWN])


def codes(error: GoogleAdsException) -> list[str]:
    """``"<kind>.<CODE>"`` of every error of a GoogleAdsException."""
    found = []
    for item in error.failure.errors:
        kind = type(item.error_code).pb(item.error_code).WhichOneof("error_code")
        found.append(f"{kind}.{getattr(item.error_code, kind).name}")
    return found


def create_list(gads: GoogleAdsHarness, name: str = "Value Hunters", life_span: int = 30, **client: Any) -> str:
    client_ = gads.client(**client)
    operation = client_.get_type("UserListOperation")
    user_list = operation.create
    user_list.name = name
    user_list.membership_life_span = life_span
    user_list.crm_based_user_list.upload_key_type = client_.enums.CustomerMatchUploadKeyTypeEnum.CONTACT_INFO
    response = client_.get_service("UserListService").mutate_user_lists(
        customer_id=GADS_CUSTOMER, operations=[operation]
    )
    name_: str = response.results[0].resource_name
    return name_


def create_job(gads: GoogleAdsHarness, user_list: str, ad_user_data: str = "GRANTED", **client: Any) -> str:
    client_ = gads.client(**client)
    job = client_.get_type("OfflineUserDataJob")
    job.type_ = client_.enums.OfflineUserDataJobTypeEnum.CUSTOMER_MATCH_USER_LIST
    job.customer_match_user_list_metadata.user_list = user_list
    consent = job.customer_match_user_list_metadata.consent
    consent.ad_user_data = client_.enums.ConsentStatusEnum[ad_user_data]
    consent.ad_personalization = client_.enums.ConsentStatusEnum.GRANTED
    service = client_.get_service("OfflineUserDataJobService")
    name: str = service.create_offline_user_data_job(customer_id=GADS_CUSTOMER, job=job).resource_name
    return name


def operation(gads: GoogleAdsHarness, kind: str, emails: list[str] = (), phone: str | None = None) -> Any:  # type: ignore[assignment]
    """An OfflineUserDataJobOperation: ``create``/``remove`` of one person, or ``remove_all``."""
    client = gads.client()
    op = client.get_type("OfflineUserDataJobOperation")
    if kind == "remove_all":
        op.remove_all = True
        return op
    user_data = getattr(op, kind)
    for email in emails:
        identifier = client.get_type("UserIdentifier")
        identifier.hashed_email = email if len(email) == 64 else sha(email)
        user_data.user_identifiers.append(identifier)
    if phone:
        identifier = client.get_type("UserIdentifier")
        identifier.hashed_phone_number = sha(phone)
        user_data.user_identifiers.append(identifier)
    return op


def add(gads: GoogleAdsHarness, job: str, operations: list[Any], partial: bool | None = None) -> Any:
    service = gads.service("OfflineUserDataJobService")
    request = gads.client().get_type("AddOfflineUserDataJobOperationsRequest")
    request.resource_name = job
    request.operations.extend(operations)
    if partial is not None:
        request.enable_partial_failure = partial
    return service.add_offline_user_data_job_operations(request=request)


def run(gads: GoogleAdsHarness, job: str) -> Any:
    return gads.service("OfflineUserDataJobService").run_offline_user_data_job(resource_name=job)


def search(gads: GoogleAdsHarness, query: str, **client: Any) -> list[Any]:
    return list(gads.service("GoogleAdsService", **client).search(customer_id=GADS_CUSTOMER, query=query))


def list_row(gads: GoogleAdsHarness, user_list: str) -> Any:
    fields = (
        "user_list.id, user_list.name, user_list.size_for_search, user_list.size_for_display, "
        "user_list.match_rate_percentage, user_list.membership_life_span"
    )
    rows = search(gads, f"SELECT {fields} FROM user_list WHERE user_list.resource_name = '{user_list}'")
    assert len(rows) == 1
    return rows[0].user_list


def job_status(gads: GoogleAdsHarness, job: str) -> str:
    where = f"offline_user_data_job.resource_name = '{job}'"
    query = f"SELECT offline_user_data_job.status FROM offline_user_data_job WHERE {where}"
    status: str = search(gads, query)[0].offline_user_data_job.status.name
    return status


def sync(gads: GoogleAdsHarness, user_list: str, operations: list[Any]) -> None:
    """Create a job, add ``operations``, run it and let the sandbox finish it."""
    job = create_job(gads, user_list)
    add(gads, job, operations)
    lro = run(gads, job)
    gads.clock.advance(GADS_DELAY)
    lro.result(timeout=10)


def expect(codes_wanted: list[str], error: pytest.ExceptionInfo[GoogleAdsException]) -> None:
    assert codes(error.value) == codes_wanted


def test_customer_match_upload_goes_pending_running_success_and_sizes_the_list(gads: GoogleAdsHarness) -> None:
    user_list = create_list(gads)
    job = create_job(gads, user_list)
    assert job_status(gads, job) == "PENDING"
    people = [
        operation(gads, "create", [KNOWN[0]], phone="+33612345678"),
        operation(gads, "create", ["zoe@example.com"]),
    ]
    response = add(gads, job, people)
    assert not response.partial_failure_error.code
    lro = run(gads, job)
    assert not lro.done()
    assert job_status(gads, job) == "RUNNING"
    assert gads.members(int(user_list.rsplit("/", 1)[1])) == []
    gads.clock.advance(GADS_DELAY)
    lro.result(timeout=10)
    assert job_status(gads, job) == "SUCCESS"
    row = list_row(gads, user_list)
    assert (row.name, row.membership_life_span) == ("Value Hunters", 30)
    assert (row.size_for_search, row.size_for_display, row.match_rate_percentage) == (1, 1, 50)
    assert gads.members(row.id) == sorted(
        [sorted([f"email:{sha(KNOWN[0])}", f"phone:{sha('+33612345678')}"]), [f"email:{sha('zoe@example.com')}"]]
    )
    match_rate = search(
        gads, "SELECT offline_user_data_job.operation_metadata.match_rate_range FROM offline_user_data_job"
    )
    assert match_rate[0].offline_user_data_job.operation_metadata.match_rate_range.name == "MATCH_RANGE_41_TO_50"


def test_remove_job_and_remove_all_shrink_the_list(gads: GoogleAdsHarness) -> None:
    user_list = create_list(gads)
    sync(gads, user_list, [operation(gads, "create", [e]) for e in [*KNOWN, "zoe@example.com"]])
    sync(gads, user_list, [operation(gads, "remove", [KNOWN[0]])])
    assert list_row(gads, user_list).size_for_search == 1
    sync(gads, user_list, [operation(gads, "remove_all")])
    row = list_row(gads, user_list)
    assert row.size_for_search == 0 and "match_rate_percentage" not in row


def test_search_stream_by_id_and_name(gads: GoogleAdsHarness) -> None:
    user_list = create_list(gads, name="O'Brien fans")
    create_list(gads, name="Other")
    list_id = user_list.rsplit("/", 1)[1]
    service = gads.service("GoogleAdsService")  # the service owns the channel: keep it while streaming
    query = f"SELECT user_list.name FROM user_list WHERE user_list.id = {list_id}"
    stream = service.search_stream(customer_id=GADS_CUSTOMER, query=query)
    assert [row.user_list.name for batch in stream for row in batch.results] == ["O'Brien fans"]
    rows = search(gads, "SELECT user_list.id FROM user_list WHERE user_list.name = 'O\\'Brien fans'")
    assert [row.user_list.resource_name for row in rows] == [user_list]
    assert rows[0].user_list.name == ""  # only selected fields come back


def test_unknown_gaql_field_is_a_query_error(gads: GoogleAdsHarness) -> None:
    with pytest.raises(GoogleAdsException) as error:
        search(gads, "SELECT user_list.colour FROM user_list")
    expect(["query_error.UNRECOGNIZED_FIELD"], error)


def test_membership_life_span_above_540_is_too_high(gads: GoogleAdsHarness) -> None:
    with pytest.raises(GoogleAdsException) as error:
        create_list(gads, life_span=541)
    expect(["range_error.TOO_HIGH"], error)
    create_list(gads, life_span=540)


def test_duplicate_list_name_is_refused(gads: GoogleAdsHarness) -> None:
    create_list(gads)
    with pytest.raises(GoogleAdsException) as error:
        create_list(gads)
    expect(["user_list_error.NAME_ALREADY_USED"], error)


def test_remove_all_only_first(gads: GoogleAdsHarness) -> None:
    job = create_job(gads, create_list(gads))
    with pytest.raises(GoogleAdsException) as error:
        add(gads, job, [operation(gads, "remove", [KNOWN[0]]), operation(gads, "remove_all")])
    expect(["offline_user_data_job_error.INVALID_OPERATION_ORDER"], error)
    add(gads, job, [operation(gads, "remove_all"), operation(gads, "remove", [KNOWN[0]])])
    with pytest.raises(GoogleAdsException) as error:
        add(gads, job, [operation(gads, "remove_all")])
    expect(["offline_user_data_job_error.INVALID_OPERATION_ORDER"], error)


def test_create_and_remove_never_share_a_job(gads: GoogleAdsHarness) -> None:
    job = create_job(gads, create_list(gads))
    with pytest.raises(GoogleAdsException) as error:
        add(gads, job, [operation(gads, "create", [KNOWN[0]]), operation(gads, "remove", [KNOWN[1]])])
    expect(["offline_user_data_job_error.CONFLICTING_OPERATION"], error)
    add(gads, job, [operation(gads, "create", [KNOWN[0]])])
    with pytest.raises(GoogleAdsException) as error:
        add(gads, job, [operation(gads, "remove", [KNOWN[1]])])
    expect(["offline_user_data_job_error.CONFLICTING_OPERATION"], error)


def test_adding_to_or_running_a_started_job_is_refused(gads: GoogleAdsHarness) -> None:
    job = create_job(gads, create_list(gads))
    add(gads, job, [operation(gads, "create", [KNOWN[0]])])
    run(gads, job)
    with pytest.raises(GoogleAdsException) as error:
        add(gads, job, [operation(gads, "create", [KNOWN[1]])])
    expect(["offline_user_data_job_error.JOB_ALREADY_STARTED"], error)
    with pytest.raises(GoogleAdsException) as error:
        run(gads, job)
    expect(["offline_user_data_job_error.JOB_ALREADY_STARTED"], error)


def test_denied_consent_is_refused_and_adding_needs_granted_consent(gads: GoogleAdsHarness) -> None:
    user_list = create_list(gads)
    with pytest.raises(GoogleAdsException) as error:
        create_job(gads, user_list, ad_user_data="DENIED")
    expect(["offline_user_data_job_error.CUSTOMER_NOT_ACCEPTED_CUSTOMER_DATA_TERMS"], error)
    job = create_job(gads, user_list, ad_user_data="UNSPECIFIED")
    with pytest.raises(GoogleAdsException) as error:
        add(gads, job, [operation(gads, "create", [KNOWN[0]])])
    expect(["field_error.REQUIRED"], error)
    add(gads, job, [operation(gads, "remove", [KNOWN[0]])])  # removals need no consent


def test_hashes_must_be_64_lowercase_hex_and_partial_failure_keeps_the_rest(gads: GoogleAdsHarness) -> None:
    job = create_job(gads, create_list(gads))
    bad = operation(gads, "create", [sha(KNOWN[0]).upper()])
    with pytest.raises(GoogleAdsException) as error:
        add(gads, job, [operation(gads, "create", [KNOWN[1]]), bad])
    expect(["offline_user_data_job_error.INVALID_SHA256_FORMAT"], error)
    assert error.value.failure.errors[0].location.field_path_elements[0].index == 1
    response = add(gads, job, [operation(gads, "create", [KNOWN[1]]), bad], partial=True)
    assert response.partial_failure_error.code == 3  # INVALID_ARGUMENT
    assert gads.get("jobs")["jobs"][0]["queued"] == 1


def test_identifier_caps_per_user_and_per_request(start_google_ads: StartGoogleAds) -> None:
    gads = start_google_ads(max_identifiers_per_request=25)
    job = create_job(gads, create_list(gads))
    with pytest.raises(GoogleAdsException) as error:
        add(gads, job, [operation(gads, "create", [f"p{i}@example.com" for i in range(21)])])
    expect(["offline_user_data_job_error.TOO_MANY_USER_IDENTIFIERS"], error)
    too_many = [operation(gads, "create", [f"p{i}@example.com", f"q{i}@example.com"]) for i in range(13)]
    with pytest.raises(GoogleAdsException) as error:
        add(gads, job, too_many)
    expect(["offline_user_data_job_error.TOO_MANY_USER_IDENTIFIERS"], error)
    add(gads, job, too_many[:12])


def test_google_limit_of_100000_identifiers_per_request(gads: GoogleAdsHarness) -> None:
    """A full request (about 7 MB, above gRPC's 4 MB default) goes through; one identifier more is refused."""
    job = create_job(gads, create_list(gads))
    hashes = [sha(f"person{i}@example.com") for i in range(100_001)]
    people = [
        {"create": {"user_identifiers": [{"hashed_email": h} for h in hashes[i : i + 20]]}}
        for i in range(0, 100_000, 20)
    ]
    request = gads.client().get_type("AddOfflineUserDataJobOperationsRequest")
    service = gads.service("OfflineUserDataJobService")
    with pytest.raises(GoogleAdsException) as error:
        over = [*people, {"create": {"user_identifiers": [{"hashed_email": hashes[-1]}]}}]
        service.add_offline_user_data_job_operations(request=type(request)(resource_name=job, operations=over))
    expect(["offline_user_data_job_error.TOO_MANY_USER_IDENTIFIERS"], error)
    service.add_offline_user_data_job_operations(request=type(request)(resource_name=job, operations=people))
    assert gads.get("jobs")["jobs"][0]["queued"] == 5000


def test_not_allowlisted_developer_token(gads: GoogleAdsHarness) -> None:
    user_list = create_list(gads, developer_token=GADS_NOT_ALLOWLISTED_TOKEN)
    with pytest.raises(GoogleAdsException) as error:
        create_job(gads, user_list, developer_token=GADS_NOT_ALLOWLISTED_TOKEN)
    expect(["not_allowlisted_error.CUSTOMER_NOT_ALLOWLISTED_FOR_THIS_FEATURE"], error)


def test_developer_token_login_customer_and_customer_are_checked(gads: GoogleAdsHarness) -> None:
    query = "SELECT user_list.id FROM user_list"
    with pytest.raises(GoogleAdsException) as error:
        search(gads, query, developer_token="not-a-token")
    expect(["authentication_error.DEVELOPER_TOKEN_INVALID"], error)
    with pytest.raises(GoogleAdsException) as error:
        search(gads, query, login_customer_id=None)
    expect(["request_error.LOGIN_CUSTOMER_ID_PARAMETER_MISSING"], error)
    with pytest.raises(GoogleAdsException) as error:
        list(gads.service("GoogleAdsService").search(customer_id=GADS_FOREIGN_CUSTOMER, query=query))
    expect(["authorization_error.USER_PERMISSION_DENIED"], error)


def test_quota_is_resource_exhausted(start_google_ads: StartGoogleAds) -> None:
    gads = start_google_ads(requests_per_minute=2)
    create_list(gads, name="a")
    create_list(gads, name="b")
    with pytest.raises(exceptions.ResourceExhausted):
        create_list(gads, name="c")
    gads.clock.advance(61)
    create_list(gads, name="c")


def test_scripted_fault_surfaces_as_resource_exhausted(gads: GoogleAdsHarness) -> None:
    gads.control("faults", {"scripted": [{"match": "AddOfflineUserDataJobOperations", "http_status": 429}]})
    job = create_job(gads, create_list(gads))
    with pytest.raises(exceptions.ResourceExhausted):
        add(gads, job, [operation(gads, "create", [KNOWN[0]])])
    add(gads, job, [operation(gads, "create", [KNOWN[0]])])
    assert gads.get("state")["errors"] == {"RESOURCE_EXHAUSTED quota_error.RESOURCE_EXHAUSTED": 1}


def test_random_faults_are_seeded_and_reach_the_caller(start_google_ads: StartGoogleAds) -> None:
    gads = start_google_ads(faults={"error_rate": 1.0, "error_statuses": [503], "seed": 7})
    with pytest.raises(GoogleAdsException) as error:
        create_list(gads)
    expect(["internal_error.TRANSIENT_ERROR"], error)
    assert error.value.error.code().name == "UNAVAILABLE"
    gads.control("faults", {"random": {"error_rate": 0.0}})
    create_list(gads)


def lose_answers(gads: GoogleAdsHarness, method: str, http_status: int = 504, **spec: Any) -> None:
    """The next call of ``method`` is performed, then answered with a bare ``http_status`` (503 or 504)."""
    fault = {"match": method, "count": 1, "http_status": http_status, "answer_lost": True, **spec}
    gads.control("faults", {"scripted": [fault]})


def test_a_lost_run_answer_starts_the_job_and_running_it_again_is_job_already_started(gads: GoogleAdsHarness) -> None:
    user_list = create_list(gads)
    job = create_job(gads, user_list)
    add(gads, job, [operation(gads, "create", [KNOWN[0]])])
    lose_answers(gads, "RunOfflineUserDataJob")
    with pytest.raises(exceptions.DeadlineExceeded):  # no GoogleAdsFailure: the SDK raises the plain gRPC error
        run(gads, job)
    assert job_status(gads, job) == "RUNNING"
    with pytest.raises(GoogleAdsException) as error:
        run(gads, job)
    expect(["offline_user_data_job_error.JOB_ALREADY_STARTED"], error)
    gads.clock.advance(GADS_DELAY)
    assert job_status(gads, job) == "SUCCESS"
    assert gads.members(int(user_list.rsplit("/", 1)[1])) == [[f"email:{sha(KNOWN[0])}"]]


def test_a_lost_add_answer_stores_the_operations_and_adding_them_again_changes_nothing(gads: GoogleAdsHarness) -> None:
    user_list = create_list(gads)
    job = create_job(gads, user_list)
    known = [operation(gads, "create", [KNOWN[0]], phone="+33612345678")]
    lose_answers(gads, "AddOfflineUserDataJobOperations", http_status=503)
    with pytest.raises(exceptions.ServiceUnavailable):
        add(gads, job, known)
    add(gads, job, known)  # the retry: accepted, queued a second time
    add(gads, job, [operation(gads, "create", ["zoe@example.com"])])
    assert gads.get("jobs")["jobs"][0]["queued"] == 3
    run(gads, job)
    gads.clock.advance(GADS_DELAY)
    assert gads.members(int(user_list.rsplit("/", 1)[1])) == sorted(
        [sorted([f"email:{sha(KNOWN[0])}", f"phone:{sha('+33612345678')}"]), [f"email:{sha('zoe@example.com')}"]]
    )
    rate = search(gads, "SELECT offline_user_data_job.operation_metadata.match_rate_range FROM offline_user_data_job")
    # 1 of 2 distinct members known (counting the duplicate would make it 2 of 3: MATCH_RANGE_61_TO_70)
    assert rate[0].offline_user_data_job.operation_metadata.match_rate_range.name == "MATCH_RANGE_41_TO_50"


def test_a_lost_create_answer_leaves_an_empty_pending_job(gads: GoogleAdsHarness) -> None:
    user_list = create_list(gads)
    lose_answers(gads, "CreateOfflineUserDataJob", http_status=503)
    with pytest.raises(exceptions.ServiceUnavailable):
        create_job(gads, user_list)
    create_job(gads, user_list)
    jobs = gads.get("jobs")["jobs"]
    assert [(j["status"], j["queued"]) for j in jobs] == [("PENDING", 0), ("PENDING", 0)]
    assert gads.get("state")["errors"] == {"UNAVAILABLE UNAVAILABLE": 1}


def test_a_job_run_under_job_fails_ends_failed_with_nothing_applied(gads: GoogleAdsHarness) -> None:
    user_list = create_list(gads)
    job = create_job(gads, user_list)
    add(gads, job, [operation(gads, "create", [KNOWN[0]])])
    gads.control("faults", {"scripted": [{"match": "RunOfflineUserDataJob", "job_fails": True}]})
    lro = run(gads, job)  # answered normally
    assert job_status(gads, job) == "RUNNING"
    gads.clock.advance(GADS_DELAY)
    assert job_status(gads, job) == "FAILED"
    with pytest.raises(exceptions.GoogleAPICallError):
        lro.result(timeout=10)
    assert gads.members(int(user_list.rsplit("/", 1)[1])) == []


@pytest.mark.parametrize(
    "spec",
    [
        {"answer_lost": True, "http_status": 429},
        {"answer_lost": True, "error": "internal_error.TRANSIENT_ERROR"},
        {"answer_lost": "yes"},
        {"job_fails": 1},
    ],
)
def test_faults_that_cannot_lose_an_answer_or_fail_a_job_are_refused(gads: GoogleAdsHarness, spec: Any) -> None:
    with pytest.raises(requests.HTTPError, match="400"):
        gads.control("faults", {"scripted": [{"match": "RunOfflineUserDataJob", **spec}]})
    assert gads.get("state")["faults"]["scripted_pending"] == []


def test_state_survives_a_restart(start_google_ads: StartGoogleAds, tmp_path: Path) -> None:
    state = tmp_path / "google-ads.json"
    first = start_google_ads(state_file=state)
    user_list = create_list(first)
    sync(first, user_list, [operation(first, "create", [KNOWN[0]])])
    first.app.close()
    second = start_google_ads(state_file=state)
    assert second.members(int(user_list.rsplit("/", 1)[1])) == [[f"email:{sha(KNOWN[0])}"]]
