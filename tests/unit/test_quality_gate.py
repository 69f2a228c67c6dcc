"""The Great Expectations gate (real GX Core, ephemeral context) on a snapshot's aggregates."""

from __future__ import annotations

import pytest

from behavior_sync.identity.quality import run_gate, suite_spec
from behavior_sync.identity.steps import QualityGateFailed, check_gate

THRESHOLDS = {"min_identifiable_share": 0.9, "max_invalid_email_share": 0.05, "max_invalid_phone_share": 0.1}
GOOD = {
    "rows": 1000.0,
    "member_key_nulls": 0.0,
    "identifiable_share": 0.97,
    "invalid_email_share": 0.01,
    "invalid_phone_share": 0.02,
}
COLUMNS = ["customer_id", "email", "phone"]


def test_a_healthy_snapshot_passes_every_expectation_of_the_suite() -> None:
    result = run_gate(GOOD, COLUMNS, COLUMNS, THRESHOLDS)
    assert result.success and len(result.checks) == len(suite_spec()["expectations"]) == 5
    assert all(check.success for check in result.checks) and result.message() == ""


def test_a_failing_gate_names_each_failed_expectation_with_bound_and_observed_value() -> None:
    bad = GOOD | {"identifiable_share": 0.42, "invalid_phone_share": 0.3, "member_key_nulls": 3.0}
    result = run_gate(bad, ["customer_id", "email"], COLUMNS, THRESHOLDS)
    assert not result.success
    failed = {check.column: check for check in result.failures()}
    assert set(failed) == {"identifiable_share", "invalid_phone_share", "member_key_nulls", "(table)"}
    assert failed["identifiable_share"].bound == ">= 0.9" and failed["identifiable_share"].observed == 0.42
    assert failed["(table)"].observed == "missing ['phone']"
    with pytest.raises(QualityGateFailed) as info:
        check_gate("value_hunters", result)
    message = str(info.value)
    assert "'value_hunters'" in message and "nothing was sent" in message
    assert "identifiable_share: expected >= 0.9, observed 0.42" in message
    assert "invalid_phone_share: expected <= 0.1, observed 0.3" in message
    assert "member_key_nulls: expected <= 0, observed 3.0" in message


def test_thresholds_come_from_the_behavior_not_the_suite_file() -> None:
    strict = THRESHOLDS | {"max_invalid_email_share": 0.001}
    assert not run_gate(GOOD, COLUMNS, COLUMNS, strict).success
    lenient = THRESHOLDS | {"min_identifiable_share": 0.0}
    assert run_gate(GOOD | {"identifiable_share": 0.1}, COLUMNS, COLUMNS, lenient).success


def test_the_gate_result_is_plain_data_for_history() -> None:
    data = run_gate(GOOD, COLUMNS, COLUMNS, THRESHOLDS).as_dict()
    assert data["success"] is True and {c["expectation"] for c in data["checks"]} == {
        "expect_table_columns_to_match_set",
        "expect_column_values_to_be_between",
    }
