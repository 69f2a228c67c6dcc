"""Google processing reports (no network): the member-weighted match rate and the request log's formats."""

from __future__ import annotations

import json
from pathlib import Path

from behavior_sync.destinations.google_dm_status import (
    RequestLog,
    RequestOutcome,
    SentRequest,
    match_rate,
    processing_report,
)


def test_match_rate_weighs_each_range_midpoint_by_its_records() -> None:
    outcomes = [
        RequestOutcome("job-1", "SUCCESS", 25, 2),  # MATCH_RANGE_LESS_THAN_20: midpoint 10 %
        RequestOutcome("job-2", "SUCCESS", 5, 10),  # MATCH_RANGE_91_TO_100: midpoint 95.5 %
        RequestOutcome("job-3", "SUCCESS", 1000, None),  # a remove job: no range, no weight
    ]
    assert match_rate(outcomes) == round((25 * 10 + 5 * 95.5) / 30 / 100, 4) == 0.2425
    assert match_rate([RequestOutcome("job-1", "SUCCESS", 1, 2), RequestOutcome("job-2", "SUCCESS", 1, 10)]) == 0.5275
    assert match_rate(outcomes[2:]) is None


def test_processing_report_lists_failed_jobs_and_the_weighted_rate() -> None:
    outcomes = [RequestOutcome("job-1", "FAILED", 25, None), RequestOutcome("job-2", "SUCCESS", 5, 4)]
    report = processing_report(outcomes, None)
    assert report["by_status"] == {"FAILED": 1, "SUCCESS": 1} and report["failed_requests"] == ["job-1"]
    assert report["match_rate"] == 0.355 and report["requests"] == 2  # only job-2 has a range (31-40 %)


def test_request_log_keeps_member_counts_and_still_reads_plain_id_lists(tmp_path: Path) -> None:
    log = RequestLog(str(tmp_path / "requests"))
    log.write("add", 0, [SentRequest("job-1", 25), SentRequest("job-2", 5)])
    (tmp_path / "requests" / "remove-000001.json").write_text(json.dumps(["request-9"]))  # the former format
    batches = [("remove", 1), ("add", 0), ("add", 7)]  # batch add 7 has no file: nothing was sent
    assert log.read(batches) == [SentRequest("request-9", None), SentRequest("job-1", 25), SentRequest("job-2", 5)]
    log.write("add", 0, [SentRequest("job-3", 30)])  # a retried batch replaces its record
    assert log.read([("add", 0)]) == [SentRequest("job-3", 30)]
