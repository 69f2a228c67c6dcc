"""Test set-up shared by every test.

Airflow reads its configuration from the environment at import time, so the test
Airflow home (a temporary folder with a SQLite metadata DB) is configured here,
before any test module imports airflow. The metadata DB is migrated once per
session, and only when a test asks for it (fixture ``airflow_db``), so pure core
tests stay fast.
"""

from __future__ import annotations

import atexit
import base64
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_HOME = Path(tempfile.mkdtemp(prefix="bsync_af_home_"))
atexit.register(shutil.rmtree, _HOME, ignore_errors=True)

os.environ.update(
    {
        "AIRFLOW_HOME": str(_HOME),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{_HOME}/airflow.db",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        "BEHAVIOR_SYNC_PROJECT_DIR": str(ROOT),
        # as `make run` does (scripts/env.sh): connection secrets are stored encrypted in the metadata DB
        "AIRFLOW__CORE__FERNET_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode(),
    }
)
# gRPC reads its root certificates' path when it is imported: the Google Ads sandbox's trust bundle
# (gRPC's own roots + the sandbox's self-signed certificate) is written there when a sandbox starts.
os.environ["GRPC_DEFAULT_SSL_ROOTS_FILE_PATH"] = str(_HOME / "google-ads-sandbox-tls" / "trust.pem")

POSTGRES_URL = os.environ.get("BEHAVIOR_SYNC_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """Migrate the session's Airflow metadata DB once; returns the Airflow home."""
    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], check=True, capture_output=True)
    return _HOME


@pytest.fixture(scope="session")
def postgres_server_url() -> str:
    """URL of the PostgreSQL test server. Fails under CI when it is missing; skips elsewhere."""
    import sqlalchemy as sa

    try:
        engine = sa.create_engine(POSTGRES_URL)
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # noqa: BLE001 - any failure means "no server"
        message = f"PostgreSQL not reachable at {POSTGRES_URL}: {type(exc).__name__}"
        if IN_CI:
            pytest.fail(f"{message} (CI=true makes PostgreSQL tests mandatory)")
        pytest.skip(message)
    return POSTGRES_URL


@pytest.fixture()
def postgres_schema_url(postgres_server_url: str) -> Iterator[str]:
    """A SQLAlchemy URL whose search_path is a fresh schema, dropped after the test."""
    import sqlalchemy as sa

    schema = f"bsync_t_{uuid.uuid4().hex[:10]}"
    engine = sa.create_engine(postgres_server_url)
    with engine.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    url = sa.make_url(postgres_server_url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        engine.dispose()
