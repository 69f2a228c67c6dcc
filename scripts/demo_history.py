"""Queue earlier runs of every behavior DAG on a fresh Airflow home, so the demo has weeks of history.

``python scripts/demo_history.py [--weeks N]`` (``scripts/run.sh`` runs it after ``airflow dags reserialize``
and before the scheduler starts). Only when the metadata DB holds no DAG run at all (a fresh home: later
starts, and behaviors added later, get nothing). For each scheduled behavior (a manual one never runs by
itself, so it gets none) it queues manual runs (named ``demo_history__<date>``) whose logical date,
``run_after`` and data interval end are the behavior's latest schedule tick minus 1..N weeks (N:
``--weeks``, default ``$BEHAVIOR_SYNC_DEMO_HISTORY_WEEKS`` or 4; 0: none), plus its previous tick when that is
less than a week back (a daily behavior's yesterday). The behavior SQL reads ``:data_interval_end`` and the
demo warehouse holds 400 days of orders, so each run syncs the segment as it was on its date, through the real
DAG, into the sandboxes. These runs skip the guardrails (conf ``override_guardrails``): a week of a daily
segment's change at once is the demo fast-forwarding, not an incident. The current run keeps them, and it
follows the previous tick, so it sees one period's change, as it would in production.

Order: a behavior DAG runs one run at a time (``max_active_runs=1``) and the scheduler starts queued runs
oldest ``run_after`` first, so these runs go before the DAG's current scheduled run (whose ``run_after`` is the
latest tick): committed state advances to today. The scheduler works through them in the background after
start-up; this script prints one line per behavior.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from collections.abc import Sequence

from croniter import croniter

WEEK = dt.timedelta(weeks=1)


def history_dates(schedule: str, now: dt.datetime, weeks: int) -> list[dt.datetime]:
    """The data dates of the earlier runs, oldest first: ``weeks`` weekly steps back from the latest tick of
    ``schedule`` (cron or @daily/@weekly, UTC) at or before ``now``, and the tick before the latest when that is
    less than a week back."""
    ticks = croniter(schedule, now.astimezone(dt.UTC) + dt.timedelta(microseconds=1))
    latest: dt.datetime = ticks.get_prev(dt.datetime)
    previous: dt.datetime = ticks.get_prev(dt.datetime)
    dates = [latest - k * WEEK for k in range(weeks, 0, -1)]
    return [*dates, previous] if weeks and previous > latest - WEEK else dates


def queue_history(weeks: int, now: dt.datetime) -> list[str]:
    """Queues the earlier runs of every scheduled behavior whose DAG Airflow knows; returns one line per behavior.

    Nothing when any DAG run exists already. Runs before a behavior's start date are left out.
    """
    from airflow.api.common.trigger_dag import trigger_dag
    from airflow.models.dag import DagModel
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from airflow.utils.types import DagRunTriggeredByType
    from sqlalchemy import func, select

    from behavior_sync.config import load_behaviors

    with create_session() as session:
        if session.scalar(select(func.count()).select_from(DagRun)):
            return ["demo history: the metadata DB has runs already: nothing queued"]
        known = set(session.scalars(select(DagModel.dag_id)))
    lines = []
    for behavior in load_behaviors().behaviors:
        if behavior.schedule is None or behavior.dag_id not in known:
            why = "has a manual schedule" if behavior.schedule is None else "is not parsed yet"
            lines.append(f"demo history: {behavior.dag_id} {why}: nothing queued")
            continue
        start = dt.datetime.combine(behavior.start_date, dt.time(), tzinfo=dt.UTC)
        dates = [d for d in history_dates(behavior.schedule, now, weeks) if d >= start]
        for date in dates:
            trigger_dag(
                behavior.dag_id,
                triggered_by=DagRunTriggeredByType.CLI,
                run_after=date,
                logical_date=date,
                run_id=f"demo_history__{date.isoformat()}",
                conf={"override_guardrails": True},
            )
        lines.append(f"demo history: {behavior.dag_id}: {len(dates)} earlier runs queued")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weeks", type=int, default=int(os.environ.get("BEHAVIOR_SYNC_DEMO_HISTORY_WEEKS", "4")))
    args = parser.parse_args(argv)
    if args.weeks <= 0:
        return 0
    for line in queue_history(args.weeks, dt.datetime.now(dt.UTC)):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
