"""``make start`` for real, and a Google Ads API sync whose wait step runs in the real triggerer process.

``scripts/run.sh`` with ``BEHAVIOR_SYNC_DETACH=1`` (what ``make start`` runs) starts the scheduler,
dag-processor, triggerer, api-server (LocalExecutor, SQLite) and the five sandboxes in a temporary Airflow
home and data folder, every port free and chosen here, so a developer's ``make run`` is never touched. The
behaviors folder holds the demo's Quality Enthusiasts as shipped except for a manual schedule (nothing runs
by itself); its Google Ads API destination is triggered through the REST API. The wait task must defer and
its trigger fire in the triggerer process (``dag.test()`` would run it inline instead); history must record
the run and the list's size; the sandbox list must hold every committed member. The metadata DB must hold the
connections of airflow_settings.yaml encrypted with the home's Fernet key. ``scripts/stop.sh`` (same
environment) stops every process group at the end, also when something failed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import sqlite3
import stat
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest
from cryptography.fernet import Fernet

from behavior_sync.demo_warehouse import generate_demo_warehouse
from behavior_sync.history import HistoryStore, SyncRecord
from behavior_sync.statedb import StateDatabase
from behavior_sync.sync.state import StateStore
from sandbox.google_ads import DEMO_CUSTOMER_ID, DEMO_DEVELOPER_TOKEN
from tests.support.airflow_api import api_token, free_ports

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
BEHAVIOR, DESTINATION = "quality_enthusiasts", "google_ads_api"
DAG_ID = f"behavior__{BEHAVIOR}"
STEPS = ("plan", "load", "wait", "commit", "record")
START_TIMEOUT, RUN_TIMEOUT, STOP_TIMEOUT = 240.0, 150.0, 90.0
PORT_KNOBS = (
    "BEHAVIOR_SYNC_PORT",
    "BEHAVIOR_SYNC_META_SANDBOX_PORT",
    "BEHAVIOR_SYNC_HUBSPOT_SANDBOX_PORT",
    "BEHAVIOR_SYNC_CLEVERTAP_SANDBOX_PORT",
    "BEHAVIOR_SYNC_GOOGLE_SANDBOX_PORT",
    "BEHAVIOR_SYNC_GOOGLE_ADS_SANDBOX_PORT",
    "BEHAVIOR_SYNC_GOOGLE_ADS_SANDBOX_INSPECTION_PORT",
    "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT",  # the log servers bind every interface: free ports too
    "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT",
)


@dataclass(frozen=True)
class LocalAirflow:
    """An Airflow started by ``scripts/run.sh``: its environment (Airflow home, data folder, ports) and an
    admin JWT of its REST API."""

    env: dict[str, str]
    token: str

    @property
    def home(self) -> Path:
        return Path(self.env["BEHAVIOR_SYNC_AIRFLOW_HOME"])

    @property
    def data(self) -> Path:
        return Path(self.env["BEHAVIOR_SYNC_DATA_DIR"])

    @property
    def state_url(self) -> str:
        return f"sqlite:///{self.data}/state.db"

    def api(self, path: str, body: dict[str, Any] | None = None) -> Any:
        """JSON answer of the REST API (``/api/v2`` + ``path``) as admin: a GET, or a POST of ``body``."""
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{api_url(self.env)}/api/v2{path}", data, headers)
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)

    def sandbox(self, path: str) -> Any:
        """JSON answer of the Google Ads API sandbox's inspection (``/_sandbox`` + ``path``)."""
        port = self.env["BEHAVIOR_SYNC_GOOGLE_ADS_SANDBOX_INSPECTION_PORT"]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_sandbox{path}", timeout=30) as response:
            return json.load(response)


def api_url(env: dict[str, str]) -> str:
    """The api-server's base URL."""
    return f"http://127.0.0.1:{env['BEHAVIOR_SYNC_PORT']}"


def isolated_env(folder: Path) -> dict[str, str]:
    """This process's environment without any Airflow, Behavior Sync or gRPC setting (a developer's shell,
    the test session's Airflow home), plus the knobs that put everything under ``folder`` on free ports."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "BEHAVIOR_SYNC_", "GRPC_"))}
    knobs = {
        "BEHAVIOR_SYNC_DETACH": "1",
        "BEHAVIOR_SYNC_AIRFLOW_HOME": str(folder / "airflow"),
        "BEHAVIOR_SYNC_DATA_DIR": str(folder / "data"),
        "BEHAVIOR_SYNC_BEHAVIORS_DIR": str(folder / "behaviors"),
        "BEHAVIOR_SYNC_IMPORTS_DIR": str(folder / "imports"),
        "BEHAVIOR_SYNC_GOOGLE_ADS_SANDBOX_CONFIG": str(folder / "google-ads-sandbox.json"),
        "AIRFLOW_VAR_BEHAVIOR_SYNC_GOOGLE_POLL_SECONDS": "1",
    }
    ports = dict(zip(PORT_KNOBS, map(str, free_ports(len(PORT_KNOBS))), strict=True))
    return inherited | knobs | ports


def prepare(env: dict[str, str]) -> None:
    """A small demo warehouse as of today (a manual run's window ends now), the behaviors folder (the demo
    behavior, manual schedule), no import files, and a Google Ads API sandbox that settles jobs after 2 s and
    knows the warehouse's e-mail addresses (so the list has a size)."""
    data, behaviors = Path(env["BEHAVIOR_SYNC_DATA_DIR"]), Path(env["BEHAVIOR_SYNC_BEHAVIORS_DIR"])
    for folder in (data, behaviors, Path(env["BEHAVIOR_SYNC_IMPORTS_DIR"])):
        folder.mkdir(parents=True)
    generate_demo_warehouse(data / "warehouse.duckdb", seed=7, as_of=dt.datetime.now(dt.UTC).date(), customers=3_000)
    demo = (ROOT / "include" / "behaviors" / f"{BEHAVIOR}.yaml").read_text()
    assert "\nschedule: weekly\n" in demo
    (behaviors / f"{BEHAVIOR}.yaml").write_text(demo.replace("\nschedule: weekly\n", "\nschedule: manual\n"))
    config = {
        "customers": [DEMO_CUSTOMER_ID],
        "developer_tokens": {DEMO_DEVELOPER_TOKEN: {"allowlisted": True}},
        "processing_delay_seconds": 2,
        "universe": sorted(hashed_emails(data / "warehouse.duckdb")),
    }
    Path(env["BEHAVIOR_SYNC_GOOGLE_ADS_SANDBOX_CONFIG"]).write_text(json.dumps(config))


def hashed_emails(warehouse: Path) -> set[str]:
    """SHA-256 of the warehouse's trimmed, lower-cased e-mail addresses: the people "Google knows"."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute("SELECT lower(trim(email)) FROM customers WHERE email IS NOT NULL").fetchall()
    return {hashlib.sha256(email.encode()).hexdigest() for (email,) in rows}


def script(name: str, env: dict[str, str], log: Path, timeout: float) -> int:
    """Runs ``scripts/<name>`` with ``env``, its output (the login included) into ``log``; its exit status."""
    with log.open("wb") as out:
        done = subprocess.run([ROOT / "scripts" / name], env=env, stdout=out, stderr=subprocess.STDOUT, timeout=timeout)
    return done.returncode


@pytest.fixture(scope="module")
def local_airflow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalAirflow]:
    """``make start`` in an isolated folder; ``make stop`` (scripts/stop.sh, same environment) afterwards."""
    folder = tmp_path_factory.mktemp("make_start")
    env = isolated_env(folder)
    prepare(env)
    try:
        if script("run.sh", env, folder / "run.out", START_TIMEOUT) != 0:
            pytest.fail(f"scripts/run.sh failed:\n{(folder / 'run.out').read_text()[-4000:]}")
        password = json.loads((Path(env["BEHAVIOR_SYNC_AIRFLOW_HOME"]) / "passwords.json").read_text())["admin"]
        yield LocalAirflow(env, api_token(api_url(env), "admin", password))
    finally:
        assert script("stop.sh", env, folder / "stop.out", STOP_TIMEOUT) == 0, (folder / "stop.out").read_text()


def run_to_the_end(airflow: LocalAirflow, conf: dict[str, Any]) -> tuple[str, str]:
    """Triggers a run of the behavior DAG through the REST API; (run id, final state) once it ended."""
    run = airflow.api(f"/dags/{DAG_ID}/dagRuns", {"logical_date": None, "conf": conf})
    path = f"/dags/{DAG_ID}/dagRuns/{urllib.parse.quote(run['dag_run_id'], safe='')}"
    deadline = time.monotonic() + RUN_TIMEOUT
    while (state := airflow.api(path)["state"]) not in {"success", "failed"} and time.monotonic() < deadline:
        time.sleep(2)
    return run["dag_run_id"], state


def task_states(airflow: LocalAirflow, run_id: str) -> dict[str, str]:
    path = f"/dags/{DAG_ID}/dagRuns/{urllib.parse.quote(run_id, safe='')}/taskInstances"
    return {ti["task_id"]: ti["state"] for ti in airflow.api(path)["task_instances"]}


def log_events(path: Path) -> list[dict[str, Any]]:
    """The JSON lines of an Airflow 3 task or trigger log file."""
    return [json.loads(line) for line in path.read_text().splitlines() if line.startswith("{")]


def wait_logs(airflow: LocalAirflow, run_id: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Events of the wait task's first attempt, and of its trigger (the triggerer's ``.log.trigger.<id>.log``)."""
    folder = airflow.home / "logs" / f"dag_id={DAG_ID}" / f"run_id={run_id}" / f"task_id={DESTINATION}.wait"
    (trigger_log,) = folder.glob("attempt=1.log.trigger.*.log")
    return log_events(folder / "attempt=1.log"), log_events(trigger_log)


def history_row(airflow: LocalAirflow, run_id: str) -> SyncRecord:
    store = HistoryStore(airflow.state_url)
    try:
        (record,) = [r for r in store.recent(BEHAVIOR, DESTINATION) if r.run_id == run_id]
    finally:
        store.close()
    return record


def committed_members(airflow: LocalAirflow) -> int:
    db = StateDatabase(airflow.state_url)
    try:
        state = StateStore(db, str(airflow.data / "artifacts")).current(BEHAVIOR, DESTINATION)
    finally:
        db.close()
    assert state is not None
    return state.members


def test_make_start_syncs_through_the_google_ads_api_and_the_real_triggerer_runs_the_wait(
    local_airflow: LocalAirflow,
) -> None:
    run_id, state = run_to_the_end(local_airflow, {"destinations": [DESTINATION]})
    states = task_states(local_airflow, run_id)
    assert state == "success", f"{states}; logs in {local_airflow.home / 'logs'}"
    assert {s: states[f"{DESTINATION}.{s}"] for s in STEPS} == dict.fromkeys(STEPS, "success")
    assert {states[f"google_ads.{s}"] for s in STEPS} == {"skipped"}  # only the destination asked for

    task_events, trigger_events = wait_logs(local_airflow, run_id)
    assert any(e["event"].startswith("Pausing task as DEFERRED") for e in task_events)
    fired = [e for e in trigger_events if e["event"] == "Trigger fired event"]
    assert len(fired) == 1 and fired[0]["filename"] == "triggerer_job_runner.py"
    assert "'status': 'done'" in fired[0]["result"] and "'status': 'SUCCESS'" in fired[0]["result"]

    (user_list,) = local_airflow.sandbox("/user_lists")["user_lists"]
    assert user_list["name"] == "[Behavior] - Quality Enthusiasts (Google Ads API)"
    assert user_list["members"] == committed_members(local_airflow) > 0
    record = history_row(local_airflow, run_id)
    assert record.status == "success" and record.details["processing"]["list"]["list_id"] == str(user_list["id"])
    assert record.audience_size == user_list["matched"] > 0  # min(size for search, for display): the known people


def test_make_start_keeps_a_fernet_key_and_the_metadata_db_holds_connections_encrypted(
    local_airflow: LocalAirflow,
) -> None:
    key_file = local_airflow.home / "fernet_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    fernet = Fernet(key_file.read_text().strip().encode())
    with sqlite3.connect(local_airflow.home / "airflow.db") as db:
        rows = db.execute("SELECT conn_id, extra, is_extra_encrypted FROM connection").fetchall()
    extras = {conn_id: extra for conn_id, extra, encrypted in rows if encrypted}
    assert {conn_id for conn_id, _, _ in rows} == set(extras) >= {"warehouse_default", "sync_state_default"}
    assert "sqlite:" not in extras["sync_state_default"] and "duckdb:" not in extras["warehouse_default"]
    assert json.loads(fernet.decrypt(extras["sync_state_default"].encode()))["url"] == local_airflow.state_url
