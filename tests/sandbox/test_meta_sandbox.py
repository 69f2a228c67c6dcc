"""The Meta sandbox, driven by the real facebook-business SDK; outcomes read back via /_sandbox."""

from __future__ import annotations

import json
import logging
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
from facebook_business.exceptions import FacebookRequestError

from sandbox.common.faults import FaultConfig, FaultInjector, ScriptedFault
from sandbox.common.http import parse_request
from sandbox.meta import MetaSandbox, MetaSandboxConfig, running_meta_sandbox
from sandbox.meta.membership import Membership, approximate_bounds
from tests.support.meta_harness import (
    ACCOUNT,
    APP_SECRET,
    OTHER_TOKEN,
    PROOF_TOKEN,
    READ_ONLY_TOKEN,
    TOKEN,
    TOKENS,
    MetaHarness,
    StartMeta,
    sha,
)

MULTI = ["EMAIL", "PHONE", "FN"]
WIDEST = ["EMAIL", "PHONE", "FN", "LN", "ZIP", "COUNTRY", "MADID"]
DELETE_URL_BUDGET = 64 * 1024  # README: the recommended DELETE size, half the sandbox's URL limit
SAFE_DELETE_ROWS = [(["EMAIL"], 800), (["EMAIL", "PHONE"], 400), (MULTI, 250), (WIDEST, 120)]  # README table
USERS = "/users$"


def madid(i: int) -> str:
    return str(uuid.UUID(int=i + 1))


def person(i: int, keys: list[str]) -> list[str]:
    return [madid(i) if key == "MADID" else sha(f"{key.lower()}-{i}") for key in keys]


def graph_error(call: Any, *args: Any, **kwargs: Any) -> FacebookRequestError:
    with pytest.raises(FacebookRequestError) as caught:
        call(*args, **kwargs)
    return caught.value


def usage(error_or_headers: Any) -> dict[str, Any]:
    headers = (
        error_or_headers.http_headers() if isinstance(error_or_headers, FacebookRequestError) else error_or_headers
    )
    entry: dict[str, Any] = json.loads(headers["x-business-use-case-usage"])[ACCOUNT][0]
    return entry


# --- audiences ------------------------------------------------------------------------------------


def test_create_read_and_list_audiences(meta: MetaHarness) -> None:
    audience_id = meta.create_audience("[Behavior] - Value Hunters")
    fields = ["name", "subtype", "customer_file_source", "approximate_count_lower_bound", "operation_status"]
    read = meta.audience(audience_id).api_get(fields=[*fields, "delivery_status", "time_content_updated"])

    assert audience_id.isdigit()
    assert read["name"] == "[Behavior] - Value Hunters"
    assert (read["subtype"], read["customer_file_source"]) == ("CUSTOM", "USER_PROVIDED_ONLY")
    assert read["approximate_count_lower_bound"] == 0
    assert read["operation_status"]["code"] == 200
    assert isinstance(read["time_content_updated"], int)
    assert "description" not in read.export_all_data()  # only the requested fields (+id)

    meta.create_audience("second")
    meta.create_audience("third")
    names = [a["name"] for a in meta.account().get_custom_audiences(fields=["name"], params={"limit": 2})]
    assert names == ["[Behavior] - Value Hunters", "second", "third"]  # the SDK followed the paging


def test_create_requires_customer_file_source_and_a_name(meta: MetaHarness) -> None:
    error = graph_error(meta.account().create_custom_audience, params={"name": "x", "subtype": "CUSTOM"})
    assert error.api_error_code() == 100
    error = graph_error(
        meta.account().create_custom_audience,
        params={"subtype": "CUSTOM", "customer_file_source": "USER_PROVIDED_ONLY"},
    )
    assert error.api_error_code() == 100
    assert meta.state()["audiences"] == []


def test_unknown_field_and_deleted_audience(meta: MetaHarness) -> None:
    audience_id = meta.create_audience()
    error = graph_error(meta.audience(audience_id).api_get, fields=["retention_days"])
    assert error.api_error_code() == 100 and "retention_days" in error.api_error_message()

    meta.audience(audience_id).api_delete()
    error = graph_error(meta.audience(audience_id).api_get, fields=["name"])
    assert (error.api_error_code(), error.api_error_subcode()) == (100, 33)


def test_any_api_version_is_accepted_but_one_is_required(meta: MetaHarness) -> None:
    assert meta.audience(meta.create_audience(), version="v25.0").api_get(fields=["name"])["name"]
    answer = requests.get(f"{meta.base_url}/act_{ACCOUNT}/customaudiences", params={"access_token": TOKEN}, timeout=10)
    assert answer.status_code == 400 and answer.json()["error"]["code"] == 2500


# --- users: add, remove, validation -----------------------------------------------------------------


def test_add_three_multi_key_rows_then_remove_one_by_email(meta: MetaHarness) -> None:
    audience_id = meta.create_audience()
    audience = meta.audience(audience_id)
    rows = [person(1, MULTI), person(2, MULTI), [sha("email-3"), "", sha("fn-1")]]  # 3 shares FN with 1
    added = audience.add_users(MULTI, rows, is_raw=True, pre_hashed=True).json()
    before = audience.api_get(fields=["time_content_updated"])["time_content_updated"]

    assert added["num_received"] == 3 and added["num_invalid_entries"] == 0
    assert added["audience_id"] == audience_id and added["session_id"].isdigit()
    assert len(meta.members(audience_id)) == 3
    assert {"EMAIL": sha("email-3"), "FN": sha("fn-1")} in meta.members(audience_id)  # empty PHONE not stored

    audience.remove_users(["EMAIL"], [[sha("email-1")]], is_raw=True, pre_hashed=True)
    members = meta.members(audience_id)
    read = audience.api_get(fields=["approximate_count_lower_bound", "approximate_count_upper_bound"])

    assert sorted(m["EMAIL"] for m in members) == sorted([sha("email-2"), sha("email-3")])  # FN alone never matches
    assert (read["approximate_count_lower_bound"], read["approximate_count_upper_bound"]) == (2, 2)
    assert audience.api_get(fields=["time_content_updated"])["time_content_updated"] > before


def test_single_key_schemas_share_rows_with_multi_key(meta: MetaHarness) -> None:
    audience_id = meta.create_audience()
    audience = meta.audience(audience_id)
    audience.add_users("EMAIL_SHA256", [sha("email-1"), sha("email-2")], pre_hashed=True)
    audience.add_users("MOBILE_ADVERTISER_ID", [madid(5)])
    audience.remove_users(["EMAIL", "MADID"], [[sha("email-1"), ""], ["", madid(5)]], is_raw=True, pre_hashed=True)

    assert meta.members(audience_id) == [{"EMAIL": sha("email-2")}]


def test_invalid_values_are_counted_sampled_and_not_stored(meta: MetaHarness) -> None:
    audience_id = meta.create_audience()
    bad_values = ["not-a-hash", sha("upper").upper(), sha("madid-hashed"), madid(9).upper()]
    rows = [
        ["not-a-hash", ""],  # 0: not hex
        [sha("upper").upper(), ""],  # 1: upper-case hex
        ["", sha("madid-hashed")],  # 2: a hashed MADID
        ["", madid(9).upper()],  # 3: MADID not lower-case
        ["", ""],  # 4: nothing known
        [sha("ok"), madid(1)],  # 5: valid
    ]
    answer = meta.audience(audience_id).create_user(
        params={"payload": {"schema": ["EMAIL", "MADID"], "is_raw": True, "data": rows}}
    )

    assert (answer["num_received"], answer["num_invalid_entries"]) == (6, 5)
    samples = answer["invalid_entry_samples"]
    assert isinstance(samples, dict) and set(samples) == {"0", "1", "2", "3", "4"}
    assert samples["0"].startswith("EMAIL:") and samples["2"].startswith("MADID:")
    assert not any(value in text for value in bad_values for text in samples.values())  # never echoed
    assert meta.members(audience_id) == [{"EMAIL": sha("ok"), "MADID": madid(1)}]


@pytest.mark.parametrize(
    ("payload", "message_part"),
    [
        ({"schema": ["EMAIL", "PHONE"], "is_raw": True, "data": [[sha("a"), sha("b")], [sha("c")]]}, "row 1 has 1"),
        ({"schema": ["EMAIL", "PHONE"], "data": [[sha("a"), sha("b")]]}, "is_raw"),
        ({"schema": ["EMAIL", "NAME"], "is_raw": True, "data": [[sha("a"), sha("b")]]}, "Invalid schema"),
        ({"schema": "EMAIL", "data": [sha("a")]}, "Invalid schema"),
        ({"schema": "EMAIL_SHA256", "data": []}, "Data is missing"),
    ],
)
def test_malformed_payloads_are_refused_whole(meta: MetaHarness, payload: dict[str, Any], message_part: str) -> None:
    audience_id = meta.create_audience()
    error = graph_error(meta.audience(audience_id).create_user, params={"payload": payload})

    assert error.http_status() == 400 and error.api_error_code() == 100
    assert message_part in error.api_error_message()
    assert meta.members(audience_id) == []


def test_at_most_10000_rows_per_request(meta: MetaHarness) -> None:
    audience_id = meta.create_audience()
    audience = meta.audience(audience_id)
    hashes = [sha(f"email-{i}") for i in range(10_001)]

    error = graph_error(audience.add_users, "EMAIL_SHA256", hashes, pre_hashed=True)
    assert error.api_error_code() == 100 and "10000" in error.api_error_message()
    assert meta.members(audience_id) == []

    answer = audience.add_users("EMAIL_SHA256", hashes[:10_000], pre_hashed=True).json()
    assert answer["num_received"] == 10_000 and len(meta.members(audience_id)) == 10_000
    read = audience.api_get(fields=["approximate_count_lower_bound", "approximate_count_upper_bound"])
    assert (read["approximate_count_lower_bound"], read["approximate_count_upper_bound"]) == (10_000, 11_000)


def test_session_is_validated_and_echoed(meta: MetaHarness) -> None:
    audience = meta.audience(meta.create_audience())
    session = {"session_id": 42, "batch_seq": 1, "last_batch_flag": True, "estimated_num_total": 1}
    answer = audience.add_users("EMAIL_SHA256", [sha("a")], pre_hashed=True, session=session).json()
    assert answer["session_id"] == "42"

    error = graph_error(audience.add_users, "EMAIL_SHA256", [sha("a")], pre_hashed=True, session={"batch_seq": 1})
    assert error.api_error_code() == 100 and "session_id" in error.api_error_message()


# --- usersreplace ---------------------------------------------------------------------------------


def test_usersreplace_swaps_membership_when_the_last_batch_arrives(meta: MetaHarness) -> None:
    audience_id = meta.create_audience()
    audience = meta.audience(audience_id)
    audience.add_users("EMAIL_SHA256", [sha("old-1"), sha("old-2")], pre_hashed=True)

    def replace(batch_seq: int, last: bool, emails: list[str]) -> dict[str, Any]:
        session = {"session_id": 7, "batch_seq": batch_seq, "last_batch_flag": last, "estimated_num_total": 2}
        payload = {"schema": "EMAIL_SHA256", "is_raw": False, "data": [sha(e) for e in emails]}
        return dict(audience.create_users_replace(params={"payload": payload, "session": session}).export_all_data())

    first = replace(1, False, ["new-1"])
    assert first["session_id"] == "7" and first["num_received"] == 1
    assert sorted(m["EMAIL"] for m in meta.members(audience_id)) == sorted([sha("old-1"), sha("old-2")])
    assert meta.state()["audiences"][0]["replace_in_progress"]["pending_rows"] == 1

    replace(2, True, ["new-2"])
    assert sorted(m["EMAIL"] for m in meta.members(audience_id)) == sorted([sha("new-1"), sha("new-2")])
    assert meta.state()["audiences"][0]["replace_in_progress"] is None


def test_usersreplace_needs_a_session_started_with_batch_one(meta: MetaHarness) -> None:
    audience = meta.audience(meta.create_audience())
    payload = {"schema": "EMAIL_SHA256", "data": [sha("a")]}
    error = graph_error(audience.create_users_replace, params={"payload": payload})
    assert error.api_error_code() == 100 and "session" in error.api_error_message()

    session = {"session_id": 9, "batch_seq": 2, "last_batch_flag": True}
    error = graph_error(audience.create_users_replace, params={"payload": payload, "session": session})
    assert error.api_error_code() == 100 and "batch_seq=1" in error.api_error_message()


# --- DELETE in the query string -------------------------------------------------------------------


def test_delete_of_1000_single_column_multi_key_rows_fits_in_the_url(meta: MetaHarness) -> None:
    audience_id = meta.create_audience()
    audience = meta.audience(audience_id)
    rows = [[sha(f"email-{i}")] for i in range(1_000)]
    audience.add_users(["EMAIL"], rows, is_raw=True, pre_hashed=True)

    answer = audience.remove_users(["EMAIL"], rows, is_raw=True, pre_hashed=True).json()  # ~79 KB of URL
    assert answer["num_received"] == 1_000 and meta.members(audience_id) == []


@pytest.mark.parametrize(("keys", "rows"), SAFE_DELETE_ROWS)
def test_documented_safe_delete_batches_fit_the_64_kib_budget(
    start_meta: StartMeta, keys: list[str], rows: int
) -> None:
    meta = start_meta(max_url_bytes=DELETE_URL_BUDGET)
    audience_id = meta.create_audience()
    audience = meta.audience(audience_id)
    people = [person(i, keys) for i in range(rows)]
    audience.add_users(keys, people, is_raw=True, pre_hashed=True)

    audience.remove_users(keys, people, is_raw=True, pre_hashed=True)
    assert meta.members(audience_id) == []


def test_delete_whose_url_is_too_long_is_refused_cleanly(meta: MetaHarness) -> None:
    audience_id = meta.create_audience()
    audience = meta.audience(audience_id)
    rows = [person(i, MULTI) for i in range(1_000)]  # ~225 KB of URL: real Graph breaks the connection
    audience.add_users(MULTI, rows, is_raw=True, pre_hashed=True)

    error = graph_error(audience.remove_users, MULTI, rows, is_raw=True, pre_hashed=True)
    assert error.http_status() == 414 and "too long" in error.api_error_message()
    assert len(meta.members(audience_id)) == 1_000


# --- auth and permissions -------------------------------------------------------------------------


def test_unknown_token_is_190_and_missing_token_is_104(meta: MetaHarness) -> None:
    error = graph_error(meta.account(token="not-a-token").get_custom_audiences, fields=["name"])
    assert (error.http_status(), error.api_error_code(), error.api_error_type()) == (400, 190, "OAuthException")
    body = error.body()["error"]
    assert {"message", "type", "code", "fbtrace_id", "is_transient"} <= set(body) and "error_data" not in body
    assert "not-a-token" not in json.dumps(body)

    error = graph_error(meta.account(token=None).get_custom_audiences, fields=["name"])
    assert error.api_error_code() == 104


def test_appsecret_proof_is_required_when_the_app_has_a_secret(meta: MetaHarness) -> None:
    error = graph_error(meta.create_audience, token=PROOF_TOKEN)
    assert error.api_error_code() == 100 and "appsecret_proof" in error.api_error_message()
    error = graph_error(meta.create_audience, token=PROOF_TOKEN, app_secret="wrong-secret")
    assert error.api_error_code() == 100 and "Invalid appsecret_proof" in error.api_error_message()

    assert meta.create_audience(token=PROOF_TOKEN, app_secret=APP_SECRET).isdigit()


def test_token_without_the_ad_account_gets_200_and_without_ads_management_294(meta: MetaHarness) -> None:
    error = graph_error(meta.create_audience, token=OTHER_TOKEN)
    assert error.api_error_code() == 200
    error = graph_error(meta.account(token=OTHER_TOKEN).get_custom_audiences, fields=["name"])
    assert error.api_error_code() == 200

    error = graph_error(meta.create_audience, token=READ_ONLY_TOKEN)
    assert error.api_error_code() == 294
    audience_id = meta.create_audience()
    assert meta.audience(audience_id, token=READ_ONLY_TOKEN).api_get(fields=["name"])["id"] == audience_id
    error = graph_error(
        meta.audience(audience_id, token=READ_ONLY_TOKEN).add_users, "EMAIL_SHA256", [sha("a")], pre_hashed=True
    )
    assert error.api_error_code() == 294
    assert meta.members(audience_id) == []


def test_unknown_or_foreign_audience_is_100_33(meta: MetaHarness) -> None:
    error = graph_error(meta.audience("999999").api_get, fields=["name"])
    assert (error.api_error_code(), error.api_error_subcode()) == (100, 33)

    audience_id = meta.create_audience()
    error = graph_error(
        meta.audience(audience_id, token=OTHER_TOKEN).add_users, "EMAIL_SHA256", [sha("a")], pre_hashed=True
    )
    assert (error.api_error_code(), error.api_error_subcode()) == (100, 33)
    assert meta.members(audience_id) == []


def test_concurrent_uploads_are_all_stored(meta: MetaHarness) -> None:
    audience_id = meta.create_audience()

    def upload(worker: int) -> int:
        rows = [person(worker * 1_000 + i, MULTI) for i in range(50)]
        answer = meta.audience(audience_id).add_users(MULTI, rows, is_raw=True, pre_hashed=True).json()
        return int(answer["num_received"])

    with ThreadPoolExecutor(max_workers=8) as pool:
        received = list(pool.map(upload, range(8)))

    assert received == [50] * 8
    assert len(meta.members(audience_id)) == 400
    assert meta.state()["calls"]["POST audience/users"] == 8


def test_transport_refusals_are_graph_shaped(meta: MetaHarness) -> None:
    url = f"{meta.base_url}/v26.0/act_{ACCOUNT}/customaudiences?access_token={TOKEN}"
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    answer = requests.post(url, data=b"name=\xff\xfe", headers=headers, timeout=10)
    assert answer.status_code == 400 and answer.json()["error"]["code"] == 1
    assert meta.state()["audiences"] == []


def test_bad_control_requests_are_refused(meta: MetaHarness) -> None:
    for body in ({"scripted": [{"count": 2}]}, {"scripted": [{"match": "(", "count": 1}]}, {"random": {"rate": 1}}):
        answer = requests.post(f"{meta.base_url}/_sandbox/faults", json=body, timeout=10)
        assert answer.status_code == 400, body
    assert meta.state()["faults"]["scripted_pending"] == []
    assert requests.get(f"{meta.base_url}/_sandbox/audiences/1/members", timeout=10).status_code == 404


def test_inspection_needs_no_token(meta: MetaHarness) -> None:
    audience_id = meta.create_audience()
    assert requests.get(f"{meta.base_url}/_sandbox/audiences/{audience_id}", timeout=10).json()["id"] == audience_id
    assert meta.state()["accounts"][ACCOUNT]["audiences"] == 1


# --- flagged audiences ----------------------------------------------------------------------------


def test_audience_flagged_by_name_reads_471_and_refuses_uploads(start_meta: StartMeta) -> None:
    meta = start_meta(flag_names_matching=["(?i)diabet"])
    audience_id = meta.create_audience("[Behavior] - Diabetes risk")
    audience = meta.audience(audience_id)

    assert audience.api_get(fields=["operation_status"])["operation_status"]["code"] == 471
    error = graph_error(audience.add_users, "EMAIL_SHA256", [sha("a")], pre_hashed=True)
    assert (error.api_error_code(), error.api_error_subcode()) == (100, 1713230)
    assert error.body()["error"]["error_user_title"] == "Audience Upload Blocked"
    assert meta.members(audience_id) == []


def test_audience_flagged_through_the_control_endpoint_refuses_removals_and_replace(meta: MetaHarness) -> None:
    audience_id = meta.create_audience()
    audience = meta.audience(audience_id)
    audience.add_users("EMAIL_SHA256", [sha("a")], pre_hashed=True)
    meta.control(f"audiences/{audience_id}/flag", {"flagged": True})

    error = graph_error(audience.remove_users, "EMAIL_SHA256", [sha("a")], pre_hashed=True)
    assert error.api_error_subcode() == 1713230
    session = {"session_id": 1, "batch_seq": 1, "last_batch_flag": True}
    payload = {"schema": "EMAIL_SHA256", "data": [sha("b")]}
    error = graph_error(audience.create_users_replace, params={"payload": payload, "session": session})
    assert error.api_error_subcode() == 1713230
    assert meta.members(audience_id) == [{"EMAIL": sha("a")}]


# --- throttling, budgets, faults ------------------------------------------------------------------


def test_scripted_80003_then_success_with_the_usage_header(meta: MetaHarness) -> None:
    audience_id = meta.create_audience()
    audience = meta.audience(audience_id)
    meta.control("faults", {"scripted": [{"match": USERS, "code": 80003, "estimated_time_to_regain_access": 3}]})

    error = graph_error(audience.add_users, "EMAIL_SHA256", [sha("a")], pre_hashed=True)
    assert (error.api_error_code(), error.api_transient_error()) == (80003, True)
    assert usage(error) == {
        "type": "custom_audience",
        "call_count": 100,
        "total_cputime": 100,
        "total_time": 100,
        "estimated_time_to_regain_access": 3,
    }
    assert meta.members(audience_id) == []

    answer = audience.add_users("EMAIL_SHA256", [sha("a")], pre_hashed=True)
    assert usage(answer.headers())["estimated_time_to_regain_access"] == 0
    assert meta.members(audience_id) == [{"EMAIL": sha("a")}]


@pytest.mark.parametrize(("code", "subcode"), [(17, 2446079), (613, 1487742)])
def test_scripted_throttle_codes_carry_their_subcodes(meta: MetaHarness, code: int, subcode: int) -> None:
    audience = meta.audience(meta.create_audience())
    meta.control("faults", {"scripted": [{"match": "GET /\\d+$", "code": code}]})

    error = graph_error(audience.api_get, fields=["name"])
    assert (error.api_error_code(), error.api_error_subcode(), error.api_transient_error()) == (code, subcode, True)
    assert audience.api_get(fields=["name"])["name"]


def test_scripted_burst_of_5xx_then_success(meta: MetaHarness) -> None:
    audience_id = meta.create_audience()
    audience = meta.audience(audience_id)
    meta.control("faults", {"scripted": [{"match": r"POST /\d+/users$", "count": 5, "http_status": 503}]})

    failures = [graph_error(audience.add_users, "EMAIL_SHA256", [sha("a")], pre_hashed=True) for _ in range(5)]
    assert {(e.http_status(), e.api_error_code(), e.api_transient_error()) for e in failures} == {(503, 2, True)}
    assert meta.members(audience_id) == []
    audience.add_users("EMAIL_SHA256", [sha("a")], pre_hashed=True)
    assert meta.members(audience_id) == [{"EMAIL": sha("a")}]
    assert meta.state()["faults"]["scripted_pending"] == []


def test_hourly_budget_exhaustion_is_80003_with_time_to_regain(start_meta: StartMeta) -> None:
    meta = start_meta(hourly_call_budget=3)
    audience_id = meta.create_audience()  # call 1
    audience = meta.audience(audience_id)
    audience.api_get(fields=["name"])  # call 2
    answer = audience.add_users("EMAIL_SHA256", [sha("a")], pre_hashed=True)  # call 3
    assert usage(answer.headers())["call_count"] == 100

    error = graph_error(audience.add_users, "EMAIL_SHA256", [sha("b")], pre_hashed=True)
    assert (error.api_error_code(), error.api_transient_error()) == (80003, True)
    assert usage(error)["estimated_time_to_regain_access"] == 60
    assert meta.members(audience_id) == [{"EMAIL": sha("a")}]
    assert meta.state()["accounts"][ACCOUNT]["calls_last_hour"] == 3


def test_budget_is_regained_when_the_hour_slides() -> None:
    now = [1_000_000.0]
    config = MetaSandboxConfig.from_mapping({"tokens": TOKENS, "hourly_call_budget": 2})
    app = MetaSandbox(config, clock=lambda: now[0])

    def list_call() -> int:
        target = f"/v26.0/act_{ACCOUNT}/customaudiences?access_token={TOKEN}"
        return app.handle(parse_request("GET", target, {}, b"")).status

    assert [list_call(), list_call(), list_call()] == [200, 200, 400]
    now[0] += 3_599.0
    assert list_call() == 400
    now[0] += 2.0
    assert list_call() == 200


def _outcomes(meta: MetaHarness, audience_id: str, calls: int) -> list[int | None]:
    outcomes: list[int | None] = []
    for _ in range(calls):
        try:
            meta.audience(audience_id).api_get(fields=["name"])
            outcomes.append(None)
        except FacebookRequestError as error:
            assert error.api_error_code() == {500: 1, 503: 2}[error.http_status()] and error.api_transient_error()
            outcomes.append(error.http_status())
    return outcomes


def test_random_faults_are_deterministic_for_a_seed(start_meta: StartMeta) -> None:
    runs = []
    for seed in (1234, 1234, 99):
        meta = start_meta()
        audience_id = meta.create_audience()
        meta.control("faults", {"random": {"error_rate": 0.4, "seed": seed}})
        runs.append(_outcomes(meta, audience_id, 25))

    assert runs[0] == runs[1]
    assert runs[0] != runs[2]
    assert None in runs[0] and {500, 503} <= set(runs[0])


def test_latency_is_added(start_meta: StartMeta) -> None:
    meta = start_meta(faults={"latency_ms": 150})
    started = time.monotonic()
    meta.account().get_custom_audiences(fields=["name"])
    assert time.monotonic() - started >= 0.15


def test_fault_injector_consumes_scripted_faults_in_order() -> None:
    injector = FaultInjector(FaultConfig(seed=1))
    injector.script(ScriptedFault("POST /1/users$", 2, {"code": 80003}))
    injector.script(ScriptedFault("/users", 1, {"code": 2650}))

    codes = [getattr(injector.next_fault("POST", "/1/users"), "spec", {}).get("code") for _ in range(4)]
    assert codes == [80003, 80003, 2650, None]


# --- state, logs, pure rules ----------------------------------------------------------------------


def test_state_file_keeps_audiences_across_restarts(tmp_path: Path) -> None:
    config = MetaSandboxConfig.from_mapping({"tokens": TOKENS})
    state_file = tmp_path / "meta-state.json"
    with running_meta_sandbox(config, state_file=state_file) as (server, app):
        meta = MetaHarness(server.base_url, app)
        audience_id = meta.create_audience()
        meta.audience(audience_id).add_users("EMAIL_SHA256", [sha("a"), sha("b")], pre_hashed=True)

    with running_meta_sandbox(config, state_file=state_file) as (server, app):
        meta = MetaHarness(server.base_url, app)
        assert len(meta.members(audience_id)) == 2
        assert meta.create_audience("next") != audience_id


def test_logs_carry_counts_not_identifiers(meta: MetaHarness, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="sandbox")
    audience = meta.audience(meta.create_audience())
    rows = [[sha("secret@example.com"), madid(77), "cust-0042"], ["bad-value", "", ""]]
    audience.create_user(params={"payload": {"schema": ["EMAIL", "MADID", "EXTERN_ID"], "is_raw": True, "data": rows}})

    assert "received=2 invalid=1" in caplog.text
    assert meta.members(audience["id"]) == [
        {"EMAIL": sha("secret@example.com"), "MADID": madid(77), "EXTERN_ID": "cust-0042"}  # unhashed keys kept raw
    ]
    for value in (sha("secret@example.com"), madid(77), "cust-0042", "bad-value", TOKEN):
        assert value not in caplog.text


def test_approximate_bounds_round_to_two_significant_digits() -> None:
    assert [approximate_bounds(n) for n in (0, 1, 99, 1_234, 56_789)] == [
        (0, 0),
        (1, 1),
        (99, 109),
        (1_200, 1_320),
        (56_000, 61_600),
    ]
    assert all(low <= n <= high for n in range(1, 5_000) for low, high in [approximate_bounds(n)])


def test_removal_matches_strong_keys_only() -> None:
    members = Membership([(("EMAIL", "e1"), ("FN", "f")), (("FN", "f"), ("PHONE", "p2")), (("FN", "f"),)])

    assert members.remove_matching((("FN", "f"), ("ZIP", "z"))) == 0  # weak keys alone match nothing
    assert members.remove_matching((("PHONE", "p2"),)) == 1
    assert members.remove_matching((("FN", "f"),)) == 1  # an identical weak-only row does match
    assert members.sorted_rows() == [(("EMAIL", "e1"), ("FN", "f"))]


def test_upload_sessions_count_as_matched_only_rows_meta_knows_when_a_universe_is_configured(
    start_meta: StartMeta,
) -> None:
    known = sha("known@example.com")
    sandbox = start_meta(universe=[known])
    audience = sandbox.audience(sandbox.create_audience())
    rows = [[known], ["b" * 64], ["c" * 64], ["not-a-hash"]]
    session = {"session_id": 11, "batch_seq": 1, "last_batch_flag": True, "estimated_num_total": 4}

    audience.add_users(["EMAIL"], rows, is_raw=True, pre_hashed=True, session=session)
    (found,) = [dict(s.export_all_data()) for s in audience.get_sessions()]

    assert (found["num_received"], found["num_invalid_entries"], found["num_matched"]) == ("4", "1", "1")
    assert found["stage"] == "finished"


def test_sessions_of_an_audience_set_stuck_stay_uploading_with_num_matched_minus_one(meta: MetaHarness) -> None:
    audience_id = meta.create_audience()
    meta.control(f"audiences/{audience_id}/sessions_stuck", {"stuck": True})
    session = {"session_id": 12, "batch_seq": 1, "last_batch_flag": True, "estimated_num_total": 1}

    meta.audience(audience_id).add_users(["EMAIL"], [["a" * 64]], is_raw=True, pre_hashed=True, session=session)
    (found,) = [dict(s.export_all_data()) for s in meta.audience(audience_id).get_sessions()]

    assert (found["stage"], found["num_matched"], found["num_received"]) == ("uploading", "-1", "1")
    assert meta.members(audience_id) == [{"EMAIL": "a" * 64}]  # the rows were stored all the same
    with pytest.raises(requests.HTTPError):
        meta.control(f"audiences/{audience_id}/sessions_stuck", {"stuck": "yes"})
