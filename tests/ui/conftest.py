"""Fixtures of the Behavior Sync page's tests: a seeded state database and a running api-server."""

from __future__ import annotations

import dataclasses
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

from behavior_sync.config import load_behaviors
from tests.support.airflow_api import api_token, free_ports
from tests.support.sync_history import daily_runs, seed, seed_rejections

ADMIN, PASSWORD = "admin", "bsync-test-password"
START_TIMEOUT = 120.0


@pytest.fixture(scope="session")
def seeded_state_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A state DB with 30 daily runs per demo behavior x destination; value_hunters/meta's last run failed."""
    url = f"sqlite:///{tmp_path_factory.mktemp('ui_state')}/state.db"
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
    return url


@dataclass(frozen=True)
class ApiServer:
    """A running ``airflow api-server`` and the simple auth manager's admin login."""

    url: str
    user: str
    password: str

    def token(self) -> str:
        """A JWT from ``POST /auth/token`` with the admin's password."""
        return api_token(self.url, self.user, self.password)


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


@pytest.fixture(scope="session")
def api_server(airflow_db: Path, seeded_state_url: str) -> Iterator[ApiServer]:
    """``airflow api-server`` on a free 127.0.0.1 port (one worker), with the simple auth manager's admin
    (password file written first) and ``sync_state_default`` pointing at the seeded state DB."""
    passwords = airflow_db / "ui-passwords.json"
    passwords.write_text(json.dumps({ADMIN: PASSWORD}))
    (port,) = free_ports(1)
    env = os.environ | {
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
        "AIRFLOW__API_AUTH__JWT_SECRET": "bsync-ui-test-jwt-secret",
        "AIRFLOW_CONN_SYNC_STATE_DEFAULT": json.dumps({"conn_type": "sync_state", "extra": {"url": seeded_state_url}}),
    }
    log = airflow_db / "api-server.log"
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
