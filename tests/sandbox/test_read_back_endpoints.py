"""The sandboxes' read-back endpoints (issue 18): CleverTap's Get User Profile and Meta's upload sessions, through
plain HTTP with CleverTap's headers and through facebook-business's ``CustomAudience.get_sessions``."""

from __future__ import annotations

from typing import Any

import requests

from tests.support.clevertap_harness import CT_ACCOUNT, CT_PASSCODE, CleverTapHarness, StartCleverTap
from tests.support.meta_harness import StartMeta

AUTH = {"X-CleverTap-Account-Id": CT_ACCOUNT, "X-CleverTap-Passcode": CT_PASSCODE}


def get_profile(sandbox: CleverTapHarness, headers: dict[str, str] = AUTH, **query: str) -> requests.Response:
    return requests.get(f"{sandbox.base_url}/us1/1/profile.json", params=query, headers=headers, timeout=10)


def test_a_profile_is_read_by_identity_email_or_object_id_and_an_unknown_one_is_a_fail_status(
    start_clevertap: StartCleverTap,
) -> None:
    sandbox = start_clevertap()
    profile = {"Name": "Ana", "Email": "ana@example.com", "behavior_vh": True}
    assert sandbox.upload([{"type": "profile", "identity": "cust-1", "profileData": profile}]).ok
    found = get_profile(sandbox, identity="cust-1").json()
    record: dict[str, Any] = found["record"]
    assert found["status"] == "success" and record["identity"] == "cust-1" and record["name"] == "Ana"
    assert record["profileData"] == {"behavior_vh": True} and record["platformInfo"] == []
    assert get_profile(sandbox, email="ana@example.com").json()["record"]["objectId"] == record["objectId"]
    assert get_profile(sandbox, objectId=record["objectId"]).json()["record"]["identity"] == "cust-1"
    missing = get_profile(sandbox, identity="nobody")
    assert missing.status_code == 200 and missing.json()["status"] == "fail"
    assert get_profile(sandbox).status_code == 400 and get_profile(sandbox, identity="a", email="b").status_code == 400
    assert get_profile(sandbox, {**AUTH, "X-CleverTap-Passcode": "wrong"}, identity="cust-1").status_code == 401
    assert sandbox.app.stats()["calls"][CT_ACCOUNT]["profile"] == 6  # the refused passcode never reached it


def test_upload_sessions_count_what_each_session_received_and_matched(start_meta: StartMeta) -> None:
    sandbox = start_meta()
    audience = sandbox.audience(sandbox.create_audience())
    rows = [["a" * 64], ["b" * 64], ["not-a-hash"]]
    session = {"session_id": 7, "batch_seq": 1, "last_batch_flag": False, "estimated_num_total": 4}
    audience.add_users(["EMAIL"], rows, is_raw=True, pre_hashed=True, session=session)
    last = session | {"batch_seq": 2, "last_batch_flag": True}
    audience.add_users(["EMAIL"], [["c" * 64]], is_raw=True, pre_hashed=True, session=last)
    audience.remove_users(["EMAIL"], [["a" * 64]], is_raw=True, pre_hashed=True)
    newest, first = [dict(s.export_all_data()) for s in audience.get_sessions()]
    assert first["session_id"] == "7" and first["stage"] == "finished"
    assert (first["num_received"], first["num_invalid_entries"], first["num_matched"]) == ("4", "1", "3")
    assert (newest["num_received"], newest["num_matched"], newest["stage"]) == ("1", "1", "finished")
