"""Demo history (``scripts/demo_history.py``, run by ``make run`` on a fresh home): earlier weekly runs of each
scheduled behavior, queued so that Airflow's scheduler takes them oldest first and before the current run.

The queue order is Airflow's own: the query its scheduler starts queued runs with
(``DagRun.get_queued_dag_runs_to_set_running``), after the current scheduled run is created as the scheduler
creates it. The home is isolated (``isolated_env`` of the ``make start`` test) and driven through
``source scripts/env.sh``.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import itertools
import json
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import ROOT
from tests.e2e.test_make_start import isolated_env
from tests.e2e.test_secrets_at_rest import in_env

SCRIPT = ROOT / "scripts" / "demo_history.py"
QUEUE_ORDER = """
import datetime as dt, json
from croniter import croniter
from airflow.api.common.trigger_dag import trigger_dag
from airflow.models.dagrun import DagRun
from airflow.utils.session import create_session
from airflow.utils.types import DagRunTriggeredByType, DagRunType
from behavior_sync.config import load_behaviors

for b in load_behaviors().behaviors:  # the current run, as the scheduler creates it at the latest tick
    if b.schedule:
        tick = croniter(b.schedule, dt.datetime.now(dt.UTC)).get_prev(dt.datetime)
        trigger_dag(b.dag_id, run_type=DagRunType.SCHEDULED, triggered_by=DagRunTriggeredByType.TIMETABLE,
                    run_after=tick, logical_date=tick, run_id=f"scheduled__{tick.isoformat()}")
with create_session() as session:
    queued = DagRun.get_queued_dag_runs_to_set_running(session)
    print(json.dumps([[r.dag_id, r.run_id, r.logical_date.isoformat(), r.data_interval_end.isoformat()]
                      for r in queued]))
"""


def demo_history() -> ModuleType:
    spec = importlib.util.spec_from_file_location("demo_history", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_history_dates_step_back_weekly_from_the_latest_tick_then_take_the_previous_one() -> None:
    dates = demo_history().history_dates
    now = dt.datetime(2026, 12, 7, 23, 40, tzinfo=dt.UTC)  # a Monday

    def days(*values: int, hour: int = 0) -> list[dt.datetime]:
        return [dt.datetime(2026, 11 if day > 7 else 12, day, hour, tzinfo=dt.UTC) for day in values]

    assert dates("@daily", now, 2) == days(23, 30, 6)  # two weeks back, then yesterday
    assert dates("0 6 * * *", now, 1) == days(30, 6, hour=6)
    assert dates("@weekly", now, 2) == days(22, 29)  # Sundays; the previous tick is a week back already
    assert dates("@daily", now.replace(hour=0, minute=0), 1) == days(30, 6)
    assert dates("@daily", now, 0) == []


@pytest.mark.slow
def test_a_fresh_home_queues_weekly_runs_the_scheduler_takes_before_the_current_one(tmp_path: Path) -> None:
    env = isolated_env(tmp_path)
    behaviors = Path(env["BEHAVIOR_SYNC_BEHAVIORS_DIR"])
    for folder in (behaviors, Path(env["BEHAVIOR_SYNC_IMPORTS_DIR"])):
        folder.mkdir(parents=True)
    shipped = ROOT / "include" / "behaviors"
    for slug in ("value_hunters", "loyal_regulars"):  # daily, weekly
        (behaviors / f"{slug}.yaml").write_text((shipped / f"{slug}.yaml").read_text())
    manual = (shipped / "trend_followers.yaml").read_text().replace("\nschedule: daily\n", "\nschedule: manual\n")
    (behaviors / "trend_followers.yaml").write_text(manual)
    in_env(env, "airflow", "db", "migrate")
    in_env(env, "airflow", "dags", "reserialize")

    first = in_env(env, "python", str(SCRIPT), "--weeks", "3").stdout
    assert "demo history: behavior__value_hunters: 4 earlier runs queued" in first  # 3 weeks back and yesterday
    assert "demo history: behavior__loyal_regulars: 3 earlier runs queued" in first
    assert "demo history: behavior__trend_followers has a manual schedule: nothing queued" in first
    again = in_env(env, "python", str(SCRIPT), "--weeks", "3").stdout
    assert "the metadata DB has runs already: nothing queued" in again

    queue = json.loads(in_env(env, "python", "-c", QUEUE_ORDER).stdout.strip().splitlines()[-1])
    week, day = dt.timedelta(weeks=1), dt.timedelta(days=1)
    for dag_id, steps in (
        ("behavior__value_hunters", [week, week, week - day, day]),
        ("behavior__loyal_regulars", [week] * 3),
    ):
        runs = [(run_id, logical, end) for dag, run_id, logical, end in queue if dag == dag_id]
        kinds = [r[0].split("__")[0] for r in runs]
        assert kinds == ["demo_history"] * (len(steps)) + ["scheduled"]  # oldest first, the current run last
        dates = [dt.datetime.fromisoformat(logical) for _, logical, _ in runs]
        assert [later - earlier for earlier, later in itertools.pairwise(dates)] == steps
        assert all(logical == end for _, logical, end in runs)  # the data window ends at the run's date
