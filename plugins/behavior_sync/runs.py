"""Run-level facts that do not depend on Airflow: the data window and the run's options."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from croniter import croniter

_ONE_DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class RunWindow:
    """The data interval a run covers, as timezone-aware UTC datetimes."""

    start: dt.datetime
    end: dt.datetime

    def sql_params(self) -> dict[str, dt.datetime]:
        """Bound parameters offered to behavior SQL (naive UTC, the lowest common denominator of drivers)."""
        return {
            "data_interval_start": self.start.astimezone(dt.UTC).replace(tzinfo=None),
            "data_interval_end": self.end.astimezone(dt.UTC).replace(tzinfo=None),
        }


def resolve_window(
    interval_start: dt.datetime | None, interval_end: dt.datetime | None, run_after: dt.datetime, schedule: str | None
) -> RunWindow:
    """The run's data window: it ends at Airflow's data interval end (``run_after`` when there is none).

    Runs whose interval has a length (data-interval timetables, catchup, backfills) use it as is.
    Airflow 3's default cron timetable gives zero-length intervals (start == end == the fire time) and
    manual runs have no logical date at all: their window starts one schedule period before its end
    (a day for daily and manual behaviors, a week for weekly ones).
    """
    end = _utc(interval_end or run_after)
    if interval_start is not None and _utc(interval_start) < end:
        return RunWindow(_utc(interval_start), end)
    return RunWindow(_previous_fire(schedule, end), end)


def _previous_fire(schedule: str | None, end: dt.datetime) -> dt.datetime:
    """``end`` minus one schedule period (the gap between the two latest fire times; one day if manual)."""
    if schedule is None:
        return end - _ONE_DAY
    fires = croniter(schedule, end)
    last: dt.datetime = fires.get_prev(dt.datetime)
    before: dt.datetime = fires.get_prev(dt.datetime)
    return end - (last - before)


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


@dataclass(frozen=True)
class RunOptions:
    """Options of one run, from the DAG's params (trigger form or ``--conf``)."""

    dry_run: bool
    full_resync: bool
    destinations: tuple[str, ...]
    override_guardrails: bool = False

    @classmethod
    def from_params(cls, params: Mapping[str, Any], all_destinations: Sequence[str]) -> RunOptions:
        """Read ``dry_run``, ``full_resync``, ``override_guardrails`` and ``destinations`` (empty or missing: all).

        Raises ValueError naming unknown destination ids.
        """
        chosen = tuple(params.get("destinations") or all_destinations)
        unknown = sorted(set(chosen) - set(all_destinations))
        if unknown:
            raise ValueError(f"unknown destination id(s) {unknown}; this behavior has {sorted(all_destinations)}")
        return cls(
            dry_run=bool(params.get("dry_run", False)),
            full_resync=bool(params.get("full_resync", False)),
            destinations=chosen,
            override_guardrails=bool(params.get("override_guardrails", False)),
        )
