"""Run windows (incl. Airflow 3 manual runs without a logical date), run options, artifact keys."""

from __future__ import annotations

import datetime as dt

import pytest

from behavior_sync.artifacts import RunArtifacts, run_key
from behavior_sync.runs import RunOptions, resolve_window

UTC = dt.UTC
RUN_AFTER = dt.datetime(2026, 11, 23, 10, 5, tzinfo=UTC)


def test_scheduled_runs_use_airflows_data_interval() -> None:
    start, end = dt.datetime(2026, 11, 22, tzinfo=UTC), dt.datetime(2026, 11, 23, tzinfo=UTC)
    window = resolve_window(start, end, RUN_AFTER, "@daily")
    assert (window.start, window.end) == (start, end)
    assert window.sql_params() == {
        "data_interval_start": dt.datetime(2026, 11, 22),
        "data_interval_end": dt.datetime(2026, 11, 23),
    }


@pytest.mark.parametrize(
    ("schedule", "period"),
    [
        ("@daily", dt.timedelta(days=1)),
        ("@weekly", dt.timedelta(days=7)),
        ("0 6 * * *", dt.timedelta(days=1)),
        ("*/15 * * * *", dt.timedelta(minutes=15)),
        (None, dt.timedelta(days=1)),
    ],
)
def test_manual_runs_without_logical_date_end_at_run_after_and_span_one_period(
    schedule: str | None, period: dt.timedelta
) -> None:
    window = resolve_window(None, None, RUN_AFTER, schedule)
    assert window.end == RUN_AFTER and window.start == RUN_AFTER - period


def test_zero_length_intervals_of_cron_trigger_timetables_span_one_period() -> None:
    fire = dt.datetime(2026, 11, 23, 6, tzinfo=UTC)
    window = resolve_window(fire, fire, RUN_AFTER, "0 6 * * *")
    assert (window.start, window.end) == (fire - dt.timedelta(days=1), fire)


def test_naive_datetimes_are_taken_as_utc_and_params_are_naive_utc() -> None:
    other_tz = dt.timezone(dt.timedelta(hours=-3))
    window = resolve_window(dt.datetime(2026, 11, 22), dt.datetime(2026, 11, 23, 9, tzinfo=other_tz), RUN_AFTER, None)
    assert window.start.tzinfo == UTC
    assert window.sql_params()["data_interval_end"] == dt.datetime(2026, 11, 23, 12)


def test_run_options_default_to_every_destination_and_reject_unknown_ones() -> None:
    assert RunOptions.from_params({}, ["meta", "hubspot_list"]) == RunOptions(False, False, ("meta", "hubspot_list"))
    assert RunOptions.from_params({"destinations": ["meta"], "dry_run": True}, ["meta", "x"]).destinations == ("meta",)
    with pytest.raises(ValueError, match=r"unknown destination id\(s\) \['tiktok'\]"):
        RunOptions.from_params({"destinations": ["tiktok"]}, ["meta"])


def test_run_keys_are_storage_safe_and_distinct() -> None:
    ids = [
        "manual__2026-11-23T10:05:00.123456+00:00",
        "manual__2026-11-23T10_05_00.123456_00_00",
        "scheduled__2026-11-22T00:00:00+00:00",
    ]
    keys = [run_key(i) for i in ids]
    assert len(set(keys)) == len(ids)
    assert all(set(k) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._=-") for k in keys)
    assert run_key(ids[0]) == run_key(ids[0])


def test_artifact_layout_under_a_local_base_and_an_object_store_uri(tmp_path: object) -> None:
    local = RunArtifacts(base="data/artifacts/", behavior="value_hunters", run_id="manual__x")
    assert local.snapshot_uri.startswith("/") and local.snapshot_uri.endswith(
        "/value_hunters/runs/" + run_key("manual__x") + "/snapshot/members.parquet"
    )
    remote = RunArtifacts(base="s3://bucket/bsync/", behavior="value_hunters", run_id="r1")
    assert remote.destination_dir("meta") == f"s3://bucket/bsync/value_hunters/runs/{run_key('r1')}/destinations/meta"
