"""Meta destination core without a network: the error table, the version pin, hosts, the pivot, templates."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest
from facebook_business import apiconfig

from behavior_sync.destinations.meta_audience import AudienceSpec
from behavior_sync.destinations.meta_client import GRAPH_API_VERSION, MetaCredentials, api_base_url
from behavior_sync.destinations.meta_errors import MetaError, classify
from behavior_sync.destinations.meta_rows import invalid_rows, pivot
from behavior_sync.destinations.retry import Action


def test_the_graph_version_is_pinned_to_the_sdk_default() -> None:
    assert apiconfig.ads_api_config["API_VERSION"] == GRAPH_API_VERSION


@pytest.mark.parametrize(
    ("status", "code", "subcode", "action"),
    [
        (400, 190, None, Action.FAIL),
        (400, 200, None, Action.FAIL),
        (400, 294, None, Action.FAIL),
        (400, 100, 33, Action.FAIL),
        (400, 100, 1713230, Action.FAIL),
        (400, 2650, None, Action.RETRY),
        (400, 17, 2446079, Action.THROTTLE),
        (400, 613, 1487742, Action.THROTTLE),
        (400, 80003, 2446079, Action.THROTTLE),
        (503, 2, None, Action.RETRY),
        (502, 999, None, Action.RETRY),
        (400, 999, None, Action.FAIL),
        (414, 1, None, Action.FAIL),
    ],
)
def test_errors_are_classified_by_status_code_and_subcode(
    status: int, code: int, subcode: int | None, action: Action
) -> None:
    assert classify(status, code, subcode).action is action


def test_flagged_audiences_and_missing_objects_get_their_own_advice() -> None:
    assert "flagged" in classify(400, 100, 1713230).advice
    assert "does not exist" in classify(400, 100, 33).advice
    assert classify(400, 100, 1713230).advice != classify(400, 100, None).advice


def test_only_the_local_sandbox_may_replace_metas_host() -> None:
    assert api_base_url(None) is None and api_base_url("") is None
    assert api_base_url("http://127.0.0.1:8701/") == "http://127.0.0.1:8701"
    assert api_base_url("localhost:8701") == "http://localhost:8701"
    for host in ("https://graph.facebook.com", "http://127.0.0.1.example.com:80", "http://10.0.0.5:8701"):
        with pytest.raises(MetaError, match="only point at the local sandbox"):
            api_base_url(host)


def test_credentials_never_show_the_token_or_secret() -> None:
    text = repr(MetaCredentials("tok-123", "act_1", "sec-456"))
    assert "tok-123" not in text and "sec-456" not in text and "act_1" in text


def test_a_batch_pivots_to_one_row_per_member_in_metas_key_order() -> None:
    table = pa.table(
        {
            "member_key": ["m1", "m1", "m2", "m3", "m3"],
            "id_type": ["phone", "email", "email", "mobile_id", "email"],
            "value": ["p1", "e1", "e2", "madid3", "e3a"],
        }
    )
    rows = pivot(table)
    assert rows.schema == ("EMAIL", "PHONE", "MADID")
    assert rows.data == (("e1", "p1", ""), ("e2", "", ""), ("e3a", "", "madid3"))
    assert rows.members == ("m1", "m2", "m3") and rows.id_types[0] == ("email", "phone")
    with pytest.raises(ValueError, match="'address' has no Meta schema key"):
        pivot(pa.table({"member_key": ["m"], "id_type": ["address"], "value": ["x"]}))


def test_invalid_rows_reject_every_identifier_of_the_member_and_never_quote_values() -> None:
    keys, types = ["m1", "m1", "m2"], ["email", "phone", "email"]
    rows = pivot(pa.table({"member_key": keys, "id_type": types, "value": ["E1", "p", "e"]}))
    found = invalid_rows(rows, {"num_invalid_entries": 2, "invalid_entry_samples": {"0": "EMAIL: bad E1"}})
    assert [(r.member_key, r.id_type, r.code) for r in found.rejections] == [
        ("m1", "email", "invalid_entry"),
        ("m1", "phone", "invalid_entry"),
    ]
    assert all("E1" not in r.message for r in found.rejections) and found.unidentified == 1


def test_audience_names_render_the_template_with_the_run_day() -> None:
    settings = {"audience_name": "[B] {name} ({slug}) - {quarter}"}
    spec = AudienceSpec.from_settings(settings, "Value Hunters", "value_hunters", "", dt.date(2026, 11, 23))
    assert (spec.name, spec.description, spec.customer_file_source) == (
        "[B] Value Hunters (value_hunters) - 2026-Q4",
        "Value Hunters",
        "USER_PROVIDED_ONLY",
    )
    with pytest.raises(MetaError, match=r"audience_name: .*\{week\}; allowed placeholders"):
        AudienceSpec.from_settings({"audience_name": "{name} {week}"}, "V", "v", "", dt.date(2026, 1, 1))
