"""The CleverTap sandbox, driven with plain ``requests`` (as the pipeline's HTTP hook); outcomes read via /_sandbox."""

from __future__ import annotations

import json
import logging
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import requests

from sandbox.clevertap import CleverTapSandboxConfig, running_clevertap_sandbox
from tests.support.clevertap_harness import (
    CT_ACCOUNT,
    CT_ACCOUNTS,
    CT_EU_ACCOUNT,
    CT_EU_PASSCODE,
    CT_PASSCODE,
    CleverTapHarness,
    StartCleverTap,
)

TS = 1_748_876_400  # 2025-06-02T15:00:00Z, epoch seconds
BEHAVIORS = "Behaviors"


def profile(identity: str, **data: Any) -> dict[str, Any]:
    return {"type": "profile", "identity": identity, "ts": TS, "profileData": data}


def event(identity: str, name: str = "Behavior Entered", ts: int = TS, **data: Any) -> dict[str, Any]:
    return {"type": "event", "identity": identity, "ts": ts, "evtName": name, "evtData": data}


def answer(response: requests.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def codes(body: dict[str, Any]) -> list[int]:
    return [entry["code"] for entry in body["unprocessed"]]


def test_profile_upload_creates_then_merges(clevertap_sandbox: CleverTapHarness) -> None:
    ct = clevertap_sandbox
    first = ct.upload([profile("cust-1", Name="Ana", Email="ana@example.com", Phone="+14155551234", Tier="gold")])
    second = ct.upload([profile("cust-1", Tier="platinum", Orders=3, **{"MSG-email": False})])

    assert answer(first) == {"status": "success", "processed": 1, "unprocessed": []}
    assert answer(second)["processed"] == 1
    assert ct.profiles() == {
        "cust-1": {
            "Name": "Ana",
            "Email": "ana@example.com",
            "Phone": "+14155551234",
            "Tier": "platinum",
            "Orders": 3,
            "MSG-email": False,
        }
    }
    assert ct.profiles(CT_EU_ACCOUNT) == {}  # accounts are separate


def test_each_event_is_stored_once_per_call_in_arrival_order(clevertap_sandbox: CleverTapHarness) -> None:
    ct = clevertap_sandbox
    ct.upload([event("cust-1", source="warehouse"), event("cust-2", ts=TS + 1)])
    ct.upload([event("cust-1", name="Behavior Exited", ts=TS + 2)])

    rows = ct.events()
    assert [(e["identity"], e["evtName"], e["ts"], e["call"]) for e in rows] == [
        ("cust-1", "Behavior Entered", TS, 1),
        ("cust-2", "Behavior Entered", TS + 1, 1),
        ("cust-1", "Behavior Exited", TS + 2, 2),
    ]
    assert rows[0]["evtData"] == {"source": "warehouse"} and [e["seq"] for e in rows] == [1, 2, 3]
    assert [e["evtName"] for e in ct.events(identity="cust-1")] == ["Behavior Entered", "Behavior Exited"]
    assert set(ct.profiles()) == {"cust-1", "cust-2"}  # an event for an unknown user creates the profile


def test_mixed_batch_is_partial_with_per_record_codes(clevertap_sandbox: CleverTapHarness) -> None:
    ct = clevertap_sandbox
    no_identity = {"type": "profile", "ts": TS, "profileData": {"Name": "Nobody"}}
    records = [
        profile("good-1", Name="Good"),
        profile("bad-phone", Phone="4155551234"),
        no_identity,
        {**event("ms-ts"), "ts": TS * 1000},
        profile("bad-email", Email="not-an-email"),
        {"type": "token", "identity": "neither", "tokenData": {}},
        event("good-2"),
    ]
    body = answer(ct.upload(records))

    assert body["status"] == "partial" and body["processed"] == 2
    assert codes(body) == [516, 523, 525, 515, 524]
    assert [e["error"].rsplit(" : ", 1)[1] for e in body["unprocessed"]] == ["2", "3", "4", "5", "6"]
    assert body["unprocessed"][0]["error"].startswith("Profile data is incorrect. Phone number is not valid.")
    assert body["unprocessed"][1]["record"] == no_identity  # the record is echoed back
    assert set(ct.profiles()) == {"good-1", "good-2"}
    assert [e["identity"] for e in ct.events()] == ["good-2"]
    assert ct.state()["records"][CT_ACCOUNT] == {
        "processed": 2,
        **{f"unprocessed_{code}": 1 for code in (515, 516, 523, 524, 525)},
    }


def test_all_failed_is_status_fail_and_legacy_modes_are_available(start_clevertap: StartCleverTap) -> None:
    modern = start_clevertap()
    legacy = start_clevertap(upload_status="always_success", unprocessed_record="json_string")
    records = [profile("x", Gender="GG")]

    assert answer(modern.upload(records))["status"] == "fail"
    old = answer(legacy.upload(records))
    assert old["status"] == "success" and old["processed"] == 0 and codes(old) == [514]
    assert json.loads(old["unprocessed"][0]["record"]) == records[0]  # 2017 recordings echo a JSON string


@pytest.mark.parametrize(
    ("record", "code"),
    [
        ({"type": "event", "identity": "a", "ts": TS, "evtData": {}}, 509),
        (event("a", name="App Launched"), 513),
        (event("a", nested={"not": "scalar"}), 512),
        ({"type": "event", "identity": "a", "evtName": "E", "evtData": {}}, 525),  # events need ts
        ({**event("a"), "ts": 0}, 525),
        ({**event("a"), "ts": "1748876400"}, 525),
        ({**profile("a"), "objectId": "not a guid!"}, 526),
        ({**profile("a"), "identity": "x" * 121}, 523),
        (profile("a", Gender="Male"), 514),
        (profile("a", Employed="yes"), 517),
        (profile("a", Education="PhD"), 518),
        (profile("a", Married="maybe"), 519),
        (profile("a", Age="aa"), 520),
        (profile("a", Note="x" * 513), 521),
        (profile("a", **{"k" * 121: 1}), 521),
        (profile("a", Empty=None), 512),
        ({"type": "profile", "identity": "a"}, 512),
        ("not an object", 524),
    ],
)
def test_record_rules(clevertap_sandbox: CleverTapHarness, record: Any, code: int) -> None:
    body = answer(clevertap_sandbox.upload([record]))
    assert codes(body) == [code] and body["processed"] == 0
    assert clevertap_sandbox.profiles() == {} and clevertap_sandbox.events() == []


def test_configured_property_limits(start_clevertap: StartCleverTap) -> None:
    ct = start_clevertap(max_event_properties=2, max_custom_profile_keys=2)
    body = answer(ct.upload([event("a", p1=1, p2=2, p3=3), profile("a", c1=1, c2=2), profile("b", c3=3, Name="B")]))

    assert codes(body) == [522, 522]  # 3 event properties; a third custom profile key for the account
    assert ct.profiles() == {"a": {"c1": 1, "c2": 2}}


def test_numeric_identity_and_object_id_address_profiles(clevertap_sandbox: CleverTapHarness) -> None:
    ct = clevertap_sandbox
    answer(ct.upload([{"type": "profile", "identity": 42, "profileData": {"Name": "N"}}]))
    guid = ct.profile("42")["guid"]
    answer(ct.upload([{"type": "profile", "objectId": guid, "profileData": {"Seen": True}}]))
    answer(ct.upload([{"type": "profile", "objectId": "__anon_1", "profileData": {"Seen": False}}]))

    listing = ct.get("profiles", account=CT_ACCOUNT)
    assert listing["profiles"] == {"42": {"Name": "N", "Seen": True}}
    assert listing["others"] == [{"guid": "__anon_1", "ids": {}, "properties": {"Seen": False}}]


def test_more_than_1000_records_is_refused_with_400(clevertap_sandbox: CleverTapHarness) -> None:
    ct = clevertap_sandbox
    refused = ct.upload([profile(f"c{i}") for i in range(1001)])

    assert refused.status_code == 400
    assert refused.json()["status"] == "fail" and refused.json()["code"] == 400
    assert "1000" in refused.json()["error"] and ct.profiles() == {}
    assert answer(ct.upload([profile(f"c{i}") for i in range(1000)]))["processed"] == 1000
    for bad_body in ({"d": []}, {"records": []}, [profile("x")]):
        assert ct.post("/1/upload", bad_body).status_code == 400


def test_bad_credentials_are_401_and_store_nothing(clevertap_sandbox: CleverTapHarness) -> None:
    ct = clevertap_sandbox
    bad_passcode = ct.upload([profile("a")], passcode="wrong")
    unknown_account = ct.upload([profile("a")], account="NOPE-000-0000")
    other_accounts_passcode = ct.upload([profile("a")], passcode=CT_EU_PASSCODE)
    no_headers = requests.post(f"{ct.base_url}/1/upload", json={"d": [profile("a")]}, timeout=10)

    assert unknown_account.json() == {"status": "fail", "error": "Account ID is not valid", "code": 401}
    for response in (bad_passcode, unknown_account, other_accounts_passcode, no_headers):
        assert response.status_code == 401 and response.json()["status"] == "fail"
    assert ct.profiles() == {} and ct.state()["calls"] == {}
    assert ct.state()["errors"] == {"401 invalid_account": 2, "401 invalid_passcode": 2}


def test_a_request_to_another_regions_host_is_401(clevertap_sandbox: CleverTapHarness) -> None:
    ct = clevertap_sandbox
    assert ct.upload([profile("a")], prefix="/eu1").status_code == 401  # CT_ACCOUNT lives in us1
    assert ct.upload([profile("a")], headers={"Host": "in1.api.clevertap.com"}).status_code == 401
    assert answer(ct.upload([profile("a")], prefix="/us1"))["processed"] == 1
    assert answer(ct.upload([profile("b")], headers={"Host": "us1.api.clevertap.com"}))["processed"] == 1
    eu = {"account": CT_EU_ACCOUNT, "passcode": CT_EU_PASSCODE}
    assert answer(ct.upload([profile("c")], headers={"Host": "api.clevertap.com"}, **eu))["processed"] == 1
    assert set(ct.profiles()) == {"a", "b"} and set(ct.profiles(CT_EU_ACCOUNT)) == {"c"}


def test_unknown_path_is_404_and_wrong_method_405(clevertap_sandbox: CleverTapHarness) -> None:
    ct = clevertap_sandbox
    assert ct.post("/1/profiles.json", {}).status_code == 404
    assert requests.get(f"{ct.base_url}/1/upload", timeout=10).json()["code"] == 405


def _parallel(calls: int, send: Any) -> dict[int, requests.Response]:
    """Run ``send(i)`` for i in 0..calls-1 in threads released together; responses by index."""
    barrier = threading.Barrier(calls)
    results: dict[int, requests.Response] = {}
    lock = threading.Lock()

    def worker(index: int) -> None:
        barrier.wait()
        response = send(index)
        with lock:
            results[index] = response

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def test_more_than_15_concurrent_uploads_get_429_and_no_accepted_record_is_lost(
    start_clevertap: StartCleverTap,
) -> None:
    ct = start_clevertap(processing_delay_ms=600)
    responses = _parallel(20, lambda i: ct.upload([profile(f"p{i}", Slot=i), event(f"p{i}")]))
    statuses = Counter(r.status_code for r in responses.values())

    assert set(statuses) == {200, 429} and statuses[200] >= 15 and sum(statuses.values()) == 20
    for refused in (r for r in responses.values() if r.status_code == 429):
        assert refused.json() == {"status": "fail", "error": "Too many concurrent requests", "code": 429}
        assert "Retry-After" not in refused.headers
    accepted = {f"p{i}" for i, r in responses.items() if r.status_code == 200}
    assert set(ct.profiles()) == accepted and {e["identity"] for e in ct.events()} == accepted
    assert len(ct.events()) == statuses[200]  # one event per accepted call, none for refused ones
    state = ct.state()
    assert state["concurrency"][CT_ACCOUNT]["upload"] == {"in_flight": 0, "max_seen": 15}
    assert state["calls"][CT_ACCOUNT]["upload"] == statuses[200]
    assert state["errors"] == {"429 too_many_concurrent": statuses[429]}


def test_more_than_3_concurrent_deletes_get_429(start_clevertap: StartCleverTap) -> None:
    ct = start_clevertap(processing_delay_ms=600)
    statuses = Counter(r.status_code for r in _parallel(5, lambda i: ct.delete({"identity": f"x{i}"})).values())

    assert statuses[429] >= 1 and statuses[200] >= 3 and statuses[200] + statuses[429] == 5
    assert ct.state()["concurrency"][CT_ACCOUNT]["other"]["max_seen"] == 3


def test_delete_profiles_by_identity_and_guid_with_caps(clevertap_sandbox: CleverTapHarness) -> None:
    ct = clevertap_sandbox
    answer(ct.upload([profile(name, Name=name) for name in ("a", "b", "c", "d")]))
    guid_of_c = ct.profile("c")["guid"]

    assert answer(ct.delete({"identity": ["a", "b", "never-seen"]})) == {"status": "success"}
    assert answer(ct.delete({"guid": guid_of_c})) == {"status": "success"}
    assert set(ct.profiles()) == {"d"}
    too_many = ct.delete({"identity": [f"id-{i}" for i in range(101)]})
    assert too_many.status_code == 400 and "100" in too_many.json()["error"]
    for bad in ({"identity": "d", "guid": "g"}, {}, {"identity": []}, {"identity": [""]}, {"email": "d"}):
        assert ct.delete(bad).status_code == 400
    assert answer(ct.delete({"identity": [f"id-{i}" for i in range(100)]})) == {"status": "success"}
    assert set(ct.profiles()) == {"d"}


def test_multi_value_add_remove_and_delete(clevertap_sandbox: CleverTapHarness) -> None:
    ct = clevertap_sandbox
    answer(ct.upload([profile("a", Behaviors={"$add": ["value_hunters", "night_owls"]})]))
    answer(ct.upload([profile("a", Behaviors={"$add": ["loyal", "value_hunters"]})]))
    assert ct.profiles()["a"][BEHAVIORS] == ["loyal", "night_owls", "value_hunters"]

    answer(ct.upload([profile("a", Behaviors={"$remove": ["night_owls", "absent"]}, Visits={"$incr": 2})]))
    assert ct.profiles()["a"] == {BEHAVIORS: ["loyal", "value_hunters"], "Visits": 2}

    answer(ct.upload([profile("a", Behaviors={"$remove": "loyal"}, Visits={"$decr": 1}, Tags=["x", "y", "x"])]))
    assert ct.profiles()["a"] == {BEHAVIORS: ["value_hunters"], "Visits": 1, "Tags": ["x", "y"]}

    answer(ct.upload([profile("a", Behaviors={"$delete": 1}, Tags={"$remove": ["x", "y"]})]))
    assert ct.profiles()["a"] == {"Visits": 1}


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ({"$add": ["ok"], "$remove": ["no"]}, 512),
        ({"$append": ["x"]}, 512),
        ({"$add": [1, 2]}, 512),
        ({"$delete": 0}, 512),
        ({"$add": [f"v{i}" for i in range(101)]}, 521),
    ],
)
def test_bad_multi_value_operations_fail_the_record(clevertap_sandbox: CleverTapHarness, value: Any, code: int) -> None:
    ct = clevertap_sandbox
    answer(ct.upload([profile("a", Behaviors=["kept"])]))
    assert codes(answer(ct.upload([profile("a", Behaviors=value, Other="not applied")]))) == [code]
    assert ct.profiles()["a"] == {BEHAVIORS: ["kept"]}  # a failed record changes nothing


def test_multi_values_on_reserved_keys_or_with_operators_off_fail(start_clevertap: StartCleverTap) -> None:
    ct = start_clevertap()
    assert codes(answer(ct.upload([profile("a", Email=["a@b.co"]), profile("a", Name={"$add": ["x"]})]))) == [512, 512]
    answer(ct.upload([profile("a", Visits="many")]))
    assert codes(answer(ct.upload([profile("a", Visits={"$incr": 1})]))) == [512]
    off = start_clevertap(multi_value_operators=False)
    assert codes(answer(off.upload([profile("a", Behaviors={"$add": ["x"]})]))) == [512]
    assert answer(off.upload([profile("a", Behaviors=["x"])]))["processed"] == 1


def test_scripted_503_twice_then_success(clevertap_sandbox: CleverTapHarness) -> None:
    ct = clevertap_sandbox
    ct.control("faults", {"scripted": [{"match": r"^POST /1/upload$", "count": 2, "http_status": 503}]})
    first, second, third = (ct.upload([event("a")]) for _ in range(3))

    assert [first.status_code, second.status_code] == [503, 503]
    assert first.json() == {"status": "fail", "error": "Service Unavailable", "code": 503}
    assert answer(third)["processed"] == 1 and len(ct.events()) == 1  # the failed calls stored nothing
    state = ct.state()
    assert state["calls"][CT_ACCOUNT]["upload"] == 3 and state["errors"] == {"503 injected_fault": 2}
    assert state["faults"]["scripted_pending"] == []


def test_seeded_random_faults_are_deterministic(start_clevertap: StartCleverTap) -> None:
    faults = {"error_rate": 0.5, "error_statuses": [500, 503], "seed": 7}
    runs = []
    for _ in range(2):
        ct = start_clevertap(faults=faults)
        runs.append([ct.upload([event("a")]).status_code for _ in range(12)])

    assert runs[0] == runs[1]
    assert 200 in runs[0] and {500, 503} & set(runs[0])  # both outcomes occur
    ct.control("faults", {"random": {"error_rate": 0.0}})
    assert ct.upload([event("a")]).status_code == 200
    assert ct.post("/_sandbox/faults", {}).status_code == 200  # /_sandbox needs no credentials either


def test_state_file_keeps_profiles_and_events(tmp_path: Path) -> None:
    state_file = tmp_path / "clevertap.json"
    config = CleverTapSandboxConfig.from_mapping({"accounts": CT_ACCOUNTS})
    with running_clevertap_sandbox(config, state_file=state_file) as (server, app):
        ct = CleverTapHarness(server.base_url, app)
        answer(ct.upload([profile("a", Behaviors=["x"]), event("a")]))
        before_profiles, before_events = ct.profiles(), ct.events()
    with running_clevertap_sandbox(config, state_file=state_file) as (server, app):
        again = CleverTapHarness(server.base_url, app)
        assert again.profiles() == before_profiles and again.events() == before_events
        answer(again.upload([profile("a", Behaviors={"$add": ["y"]}), event("a")]))
        assert again.profiles()["a"][BEHAVIORS] == ["x", "y"] and [e["seq"] for e in again.events()] == [1, 2]


def test_logs_carry_counts_not_passcodes_or_identities(
    clevertap_sandbox: CleverTapHarness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="sandbox")
    ct = clevertap_sandbox
    secret_records = [profile("private.person@example.com", Phone="+14155550000"), profile("cust-secret-77", Phone="1")]
    ct.upload(secret_records)
    ct.upload([event("cust-secret-77")], passcode="leaked-passcode")
    ct.delete({"identity": "cust-secret-77"})

    assert "upload account=TEST-000-0001 call=1 records=2 processed=1 unprocessed=1 codes={516: 1}" in caplog.text
    assert "refused: 401 invalid_passcode" in caplog.text and "by=identity requested=1 existed=0" in caplog.text
    for secret in (CT_PASSCODE, "leaked-passcode", "private.person", "example.com", "cust-secret-77", "4155550000"):
        assert secret not in caplog.text


def test_config_is_validated() -> None:
    accounts = {"A-1": {"passcodes": ["p"], "region": "us1"}}
    with pytest.raises(ValueError, match="unknown region"):
        CleverTapSandboxConfig.from_mapping({"accounts": {"A-1": {"passcodes": ["p"], "region": "mars1"}}})
    with pytest.raises(ValueError, match="at least one non-empty passcode"):
        CleverTapSandboxConfig.from_mapping({"accounts": {"A-1": {"passcodes": []}}})
    with pytest.raises(ValueError, match="unknown CleverTap sandbox settings"):
        CleverTapSandboxConfig.from_mapping({"accounts": accounts, "rate": 1})
    with pytest.raises(ValueError, match="upload_status"):
        CleverTapSandboxConfig.from_mapping({"accounts": accounts, "upload_status": "maybe"})
    demo = CleverTapSandboxConfig.demo()
    assert demo.accounts["SANDBOX-000-0001"].region == "us1" and demo.upload_concurrency == 15
