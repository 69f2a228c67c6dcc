"""Secrets at rest in the local Airflow: the Fernet key scripts/env.sh keeps per Airflow home, encrypted
connections in the metadata DB, ``scripts/rotate_fernet_key.sh`` (``make rotate-fernet-key``), and a hook that
still passes its test against the local Meta sandbox after a rotation.

Each test uses its own Airflow home (``isolated_env`` of the ``make start`` test: no developer setting leaks
in) and drives it as a person would: ``source scripts/env.sh`` then the ``airflow`` CLI.
"""

from __future__ import annotations

import json
import sqlite3
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.fernet import Fernet, InvalidToken

from tests.conftest import ROOT
from tests.e2e.test_make_start import isolated_env
from tests.support.meta_harness import ACCOUNT, TOKEN, meta_starter

pytestmark = pytest.mark.slow

CONN = "meta_rotation"
HOOK_TEST = """
import json, os, sys
from airflow.models import Connection
from airflow.utils.session import create_session
from sqlalchemy import select

with create_session() as session:  # decrypted with the key of scripts/env.sh
    conn = session.scalar(select(Connection).where(Connection.conn_id == sys.argv[1]))
    os.environ["AIRFLOW_CONN_" + sys.argv[1].upper()] = conn.get_uri()  # as POST /api/v2/connections/test does
print(json.dumps(conn.test_connection()))  # the Test button: Airflow builds the hook from the connection
"""


def in_env(env: dict[str, str], *command: str) -> subprocess.CompletedProcess[str]:
    """``command`` run after ``source scripts/env.sh`` in a strict shell as scripts/run.sh's (``set -euo
    pipefail``), its output captured; fails the test when it fails."""
    script = 'set -euo pipefail; source "$0"; "$@"'
    done = subprocess.run(
        ["bash", "-c", script, str(ROOT / "scripts" / "env.sh"), *command],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, f"{' '.join(command)} failed:\n{(done.stdout + done.stderr)[-3000:]}"
    return done


def home_of(env: dict[str, str]) -> Path:
    return Path(env["BEHAVIOR_SYNC_AIRFLOW_HOME"])


def key_file(env: dict[str, str]) -> Path:
    return home_of(env) / "fernet_key"


def exported_key(env: dict[str, str]) -> str:
    """AIRFLOW__CORE__FERNET_KEY as scripts/env.sh exports it."""
    return in_env(env, "printenv", "AIRFLOW__CORE__FERNET_KEY").stdout.strip()


@dataclass(frozen=True)
class StoredConnection:
    """A connection row as the metadata DB holds it (no ORM: the raw columns)."""

    password: str
    extra: str
    is_encrypted: bool
    is_extra_encrypted: bool


def stored(env: dict[str, str], conn_id: str) -> StoredConnection:
    with sqlite3.connect(home_of(env) / "airflow.db") as db:
        row = db.execute(
            "SELECT password, extra, is_encrypted, is_extra_encrypted FROM connection WHERE conn_id = ?", (conn_id,)
        ).fetchone()
    return StoredConnection(row[0], row[1], bool(row[2]), bool(row[3]))


def test_env_sh_makes_one_owner_only_fernet_key_and_every_later_start_reuses_it(tmp_path: Path) -> None:
    env = isolated_env(tmp_path)
    key = exported_key(env)
    Fernet(key.encode())  # a valid key
    assert stat.S_IMODE(key_file(env).stat().st_mode) == 0o600
    assert key_file(env).read_text().strip() == key
    made = key_file(env).stat().st_mtime_ns
    assert exported_key(env) == key and key_file(env).stat().st_mtime_ns == made
    assert exported_key(isolated_env(tmp_path / "other")) != key  # one key per Airflow home


def test_a_home_made_before_the_key_file_keeps_the_key_in_its_airflow_cfg(tmp_path: Path) -> None:
    env = isolated_env(tmp_path)
    earlier = Fernet.generate_key().decode()
    home_of(env).mkdir(parents=True)
    (home_of(env) / "airflow.cfg").write_text(f"[core]\ndags_folder = /x\nfernet_key = {earlier}\n")
    assert exported_key(env) == earlier  # what encrypted its connections so far still decrypts them


def test_after_a_rotation_the_connection_decrypts_with_the_new_key_only_and_its_hook_test_passes(
    tmp_path: Path,
) -> None:
    env = isolated_env(tmp_path)
    extra = json.dumps({"ad_account_id": f"act_{ACCOUNT}"})
    with meta_starter() as start_meta:
        host = start_meta().base_url
        in_env(env, "airflow", "db", "migrate")
        in_env(env, "airflow", "connections", "add", CONN, "--conn-type", "meta_ads", "--conn-host", host,
               "--conn-password", TOKEN, "--conn-extra", extra)  # fmt: skip
        old = Fernet(exported_key(env).encode())
        before = stored(env, CONN)
        assert before.is_encrypted and before.is_extra_encrypted
        assert TOKEN not in before.password and "ad_account_id" not in before.extra
        assert old.decrypt(before.password.encode()).decode() == TOKEN

        rotated = subprocess.run(
            [ROOT / "scripts" / "rotate_fernet_key.sh"], env=env, capture_output=True, text=True, timeout=300
        )
        assert rotated.returncode == 0, rotated.stdout + rotated.stderr
        new_key = key_file(env).read_text().strip()
        assert "," not in new_key and stat.S_IMODE(key_file(env).stat().st_mode) == 0o600
        after = stored(env, CONN)
        assert after.is_encrypted and after.is_extra_encrypted
        assert Fernet(new_key.encode()).decrypt(after.password.encode()).decode() == TOKEN
        assert json.loads(Fernet(new_key.encode()).decrypt(after.extra.encode())) == json.loads(extra)
        with pytest.raises(InvalidToken):
            old.decrypt(after.password.encode())

        tested = in_env(env, sys.executable, "-c", HOOK_TEST, CONN)
    assert json.loads(tested.stdout.strip().splitlines()[-1]) == [True, f"the token can read ad account act_{ACCOUNT}"]


def test_rotation_refuses_while_airflow_runs(tmp_path: Path) -> None:
    env = isolated_env(tmp_path)
    key = exported_key(env)
    (home_of(env) / "run").mkdir()
    (home_of(env) / "run" / "scheduler.pid").write_text("1")
    refused = subprocess.run([ROOT / "scripts" / "rotate_fernet_key.sh"], env=env, capture_output=True, text=True)
    assert refused.returncode == 1 and "make stop" in refused.stderr
    assert key_file(env).read_text().strip() == key
