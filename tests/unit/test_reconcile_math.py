"""Drift arithmetic checked against hand-computed figures: the Wilson interval, count tolerances and rounding,
and when a scheduled check is due."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from behavior_sync.destinations.readback import ReportedCount, two_digit_range
from behavior_sync.sync.reconcile import is_due
from behavior_sync.sync.reconcile_compare import compare_count, wilson


def test_the_wilson_interval_matches_the_textbook_figures_and_a_whole_population_is_exact() -> None:
    low, high = wilson(1, 10, 10**9)  # 1 of 10: Wilson 95 % is 0.0179 .. 0.4042
    assert (round(low, 4), round(high, 4)) == (0.0179, 0.4042)
    assert wilson(0, 384, 10**9)[1] == pytest.approx(0.00990, abs=1e-4)  # none missing: at most ~1 %
    assert wilson(6, 60, 60) == (0.1, 0.1)
    assert wilson(6, 50, 60)[1] - wilson(6, 50, 60)[0] < wilson(6, 50, 10**9)[1] - wilson(6, 50, 10**9)[0]


def committed(count: int) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(f"CREATE TABLE committed_members AS SELECT i::VARCHAR AS member_key FROM range({count}) t(i)")
    return con


def test_a_count_meets_the_tolerance_band_after_match_rate_and_rounding() -> None:
    rounded = two_digit_range(1200)  # Google's 1,200 stands for 1,200 .. 1,299
    assert rounded == (1200, 1299)
    within = compare_count(committed(1300), ReportedCount(*rounded, "2 digits", 0.95, 0.95), 0.05)
    assert (within.status, within.expected_low, within.expected_high) == ("in_sync", 1173, 1365)
    beyond = compare_count(committed(1500), ReportedCount(*rounded, "2 digits", 0.95, 0.95), 0.05)
    assert (beyond.status, beyond.missing, beyond.unexpected) == ("drift", 1353 - 1299, 0)
    extra = compare_count(committed(100), ReportedCount(150, 165, "Meta bounds"), 0.05)
    assert (extra.status, extra.missing, extra.unexpected) == ("drift", 0, 150 - 105)


def test_a_zero_under_the_vendors_small_list_threshold_is_unknown_not_drift() -> None:
    small = compare_count(committed(500), ReportedCount(0, 0, "Google", 1.0, 1.0, zero_below=1000), 0.05)
    assert small.status == "unknown" and "under 1,000" in small.message
    gone = compare_count(committed(500), ReportedCount(0, 0, "Meta bounds"), 0.05)
    assert (gone.status, gone.missing) == ("drift", 475)


def test_a_scheduled_check_is_due_a_period_after_the_last_answer_and_manual_only_when_asked() -> None:
    now = dt.datetime(2026, 12, 7, 6, tzinfo=dt.UTC)
    assert is_due("weekly", None, now, False)
    assert not is_due("weekly", now - dt.timedelta(days=6), now, False)
    assert is_due("weekly", now - dt.timedelta(days=7, seconds=-5), now, False)  # within the hour of slack
    assert is_due("daily", now - dt.timedelta(days=1), now, False)
    assert not is_due("manual", None, now, False) and is_due("manual", now, now, True)
