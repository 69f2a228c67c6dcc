"""Google Data Manager v1.8 in the pure core: the new error reasons' advice, the processing report's per-reason
counts, and size warnings that cite both the product document's thresholds and Google's serving minimum."""

from __future__ import annotations

import pytest

from behavior_sync.destinations.google_dm_errors import ERROR_TABLE, classify
from behavior_sync.destinations.google_dm_status import (
    REMOVE_ALL_STATUS,
    ListSize,
    RequestOutcome,
    processing_report,
    warnings,
)
from behavior_sync.destinations.retry import Action

INGESTED = "audience_members_ingestion_status"


@pytest.mark.parametrize(
    ("reason", "advice"),
    [
        ("INVALID_REMOVE_AS_OF_TIME", "clock runs ahead of Google's"),
        ("REQUIRED_PREREQUISITE_LINK_MISSING", "Linked accounts"),
        ("REQUEST_TOO_OLD", "about 50 days"),
    ],
)
def test_the_v1_8_error_reasons_fail_with_their_own_advice_not_as_a_behavior_sync_bug(reason: str, advice: str) -> None:
    rule = classify(400, reason)

    assert rule.action is Action.FAIL and advice in rule.advice
    assert rule is not ERROR_TABLE[(400, None)]  # not "this is a Behavior Sync bug"


def test_the_processing_report_adds_up_error_and_warning_counts_per_reason_and_counts_remove_all_requests() -> None:
    internal, consent = "PROCESSING_ERROR_REASON_INTERNAL_ERROR", "PROCESSING_ERROR_REASON_DENIED_CONSENT"
    outcomes = [
        RequestOutcome("r0", "SUCCESS", 0, None, REMOVE_ALL_STATUS),
        RequestOutcome("r1", "PARTIAL_SUCCESS", 10, 5, INGESTED, {internal: 2, consent: 1}, {"W": 4}),
        RequestOutcome("r2", "PARTIAL_SUCCESS", 10, 5, INGESTED, {internal: 3}),
    ]

    report = processing_report(outcomes, None, {"WARNING_REASON_GENERIC": 2})

    assert report["error_counts"] == {consent: 1, internal: 5} and report["warning_counts"] == {"W": 4}
    assert report["field_warnings"] == {"WARNING_REASON_GENERIC": 2} and report["removed_all"] == 1
    assert report["by_status"] == {"PARTIAL_SUCCESS": 2, "SUCCESS": 1} and report["failed_requests"] == ["r1", "r2"]


def test_size_warnings_cite_the_product_documents_thresholds_and_googles_serving_minimum() -> None:
    tiny, small = ListSize("1", "list", 40, 40), ListSize("1", "list", 2_000, 2_000)

    found = warnings(tiny, None)
    medium = warnings(small, None)

    assert len(found) == 3 and "below the 100 active members Google needs to serve" in found[0]
    assert "1,000 Search needs (the product document's threshold" in found[1]
    assert "5,000 that Display, YouTube and Gmail campaigns need (the product document's threshold" in found[2]
    assert all("serves a Customer Match list from 100 active members" in w for w in found[1:])
    assert len(medium) == 1 and "5,000" in medium[0]  # above Google's minimum and the Search threshold
