"""Fixtures of the Behavior Sync page's tests: a seeded state database and a running api-server.

The api-server runs in its own Airflow home in multi-team mode, so that a real simple-auth-manager user may
read one behavior DAG only: team ``alpha`` owns the DAG bundle holding ``behavior__value_hunters``, team
``beta`` the bundle holding every other demo behavior's DAG (stand-in DAG files with the behaviors' DAG ids:
Airflow authorizes by DAG id and bundle). ``admin`` reads everything; ``alice`` (viewer, team alpha) reads
``behavior__value_hunters`` only.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from behavior_sync.config import dag_id_for, load_behaviors
from tests.support.airflow_api import api_token, free_ports
from tests.support.health_fixtures import seed_weekly_health
from tests.support.sync_history import END, daily_runs, seed, seed_rejections

ADMIN, PASSWORD = "admin", "bsync-test-password"
ONE_DAG_USER, ONE_DAG_PASSWORD = "alice", "bsync-alice-password"
READABLE_BEHAVIOR = "value_hunters"  # the one behavior whose DAG ONE_DAG_USER may read
START_TIMEOUT = 120.0


HEALTH_END = END.replace(hour=0) - dt.timedelta(days=1)  # the weekly health runs' last data date


@pytest.fixture(scope="session")
def seeded_state_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A state DB with 30 daily runs per demo behavior x destination; value_hunters/meta's last run failed. Some
    pairs (``WEEKLY_RANGES``) also have five weekly synced runs up to ``HEALTH_END`` (finished before the daily
    runs' last) with committed states: their health."""
    folder = tmp_path_factory.mktemp("ui_state")
    url = f"sqlite:///{folder}/state.db"
    runs = [r for b in load_behaviors().behaviors for d in b.destinations for r in daily_runs(b.slug, d.id, days=30)]
    failed = next(r for r in reversed(runs) if (r.behavior, r.destination_id) == ("value_hunters", "meta"))
    failed = dataclasses.replace(
        failed,
        run_id="manual__failed",
        status="failed",
        message="token expired",
        errors=({"code": "190", "count": 1, "message": "invalid token"},),
        finished_at=failed.finished_at.replace(hour=9),
    )
    seed(url, [*runs, failed])
    seed_rejections(url, "value_hunters", "meta", failed.run_id, {"invalid_email": 3, "bad_phone": 1})
    seed_weekly_health(folder, url, HEALTH_END, ran_at=HEALTH_END + dt.timedelta(hours=1))
    return url


@dataclass(frozen=True)
class ApiServer:
    """A running ``airflow api-server`` and the simple auth manager's admin login."""

    url: str
    user: str
    password: str

    def token(self) -> str:
        """A JWT from ``POST /auth/token`` with the user's password."""
        return api_token(self.url, self.user, self.password)

    def as_one_dag_user(self) -> ApiServer:
        """The same server, logged in as the user who may read ``behavior__value_hunters`` only."""
        return dataclasses.replace(self, user=ONE_DAG_USER, password=ONE_DAG_PASSWORD)


def _wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"api-server exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            urllib.request.urlopen(f"{url}/api/v2/monitor/health", timeout=2).read()
            return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"api-server not healthy after {START_TIMEOUT} s:\n{log.read_text()[-3000:]}")


def team_bundles(folder: Path) -> list[dict[str, object]]:
    """The DAG bundles of the two teams (see the module docstring), their DAG files written under ``folder``."""
    others = sorted(b.slug for b in load_behaviors().behaviors if b.slug != READABLE_BEHAVIOR)
    bundles: list[dict[str, object]] = []
    for team, slugs in (("alpha", [READABLE_BEHAVIOR]), ("beta", others)):
        path = folder / f"{team}_dags"
        path.mkdir()
        lines = [f"dag_{i} = DAG({dag_id_for(slug)!r}, schedule=None)\n" for i, slug in enumerate(slugs)]
        (path / "team_dags.py").write_text("from airflow.sdk import DAG\n\n" + "".join(lines))
        classpath = "airflow.dag_processing.bundles.local.LocalDagBundle"
        bundles.append({"name": path.name, "classpath": classpath, "kwargs": {"path": str(path)}, "team_name": team})
    return bundles


def team_airflow_env(home: Path, port: int, state_url: str) -> dict[str, str]:
    """This process's environment pointed at its own Airflow home in ``home``: multi-team, the two users."""
    passwords = home / "passwords.json"
    passwords.write_text(json.dumps({ADMIN: PASSWORD, ONE_DAG_USER: ONE_DAG_PASSWORD}))
    return os.environ | {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
        "AIRFLOW__CORE__MULTI_TEAM": "True",
        "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST": json.dumps(team_bundles(home)),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN}:admin,{ONE_DAG_USER}:viewer:alpha",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
        "AIRFLOW__API_AUTH__JWT_SECRET": "bsync-ui-test-jwt-secret",
        "AIRFLOW_CONN_SYNC_STATE_DEFAULT": json.dumps({"conn_type": "sync_state", "extra": {"url": state_url}}),
    }


def airflow_cli(env: dict[str, str], *args: str) -> None:
    """``airflow <args>`` in ``env``; fails the test with its output when it fails."""
    done = subprocess.run([sys.executable, "-m", "airflow", *args], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        pytest.fail(f"airflow {' '.join(args)} failed:\n{(done.stdout + done.stderr)[-3000:]}")


@pytest.fixture(scope="session")
def api_server(tmp_path_factory: pytest.TempPathFactory, seeded_state_url: str) -> Iterator[ApiServer]:
    """``airflow api-server`` on a free 127.0.0.1 port (one worker) in its own Airflow home (module docstring):
    DB migrated, the teams created, their bundles' DAGs parsed; ``sync_state_default`` is the seeded state DB."""
    home = tmp_path_factory.mktemp("ui_airflow_home")
    (port,) = free_ports(1)
    env = team_airflow_env(home, port, seeded_state_url)
    airflow_cli(env, "db", "migrate")
    for team in ("alpha", "beta"):
        airflow_cli(env, "teams", "create", team)
    airflow_cli(env, "dags", "reserialize")
    log = home / "api-server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "airflow", "api-server", "--host", "127.0.0.1", "--port", str(port)],
            env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_healthy(url, process, log)
        yield ApiServer(url, ADMIN, PASSWORD)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
