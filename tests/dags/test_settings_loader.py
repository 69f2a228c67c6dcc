"""airflow_settings.yaml loader: placeholders, validation, idempotent upserts through the ORM."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from behavior_sync.connections import validated_extras
from behavior_sync_airflow.settings_loader import SettingsError, load_settings, main, read_settings

ROOT = Path(__file__).resolve().parents[2]

SETTINGS = """
airflow:
  connections:
    - conn_id: bsync_test_wh
      conn_type: warehouse
      conn_host: {host}
      conn_password: s3cret-never-printed
      conn_port: 5439
      conn_extra:
        url: "duckdb:///${{BSYNC_TEST_DIR}}/wh.duckdb"
        batch_rows: {batch_rows}
    - conn_id:          # Astro's template leaves empty entries: skipped
      conn_type:
  pools:
    - pool_name: bsync_test_pool
      pool_slot: {slots}
      pool_description: test pool
  variables:
    - variable_name: bsync_test_base
      variable_value: "${{BSYNC_TEST_DIR}}/{folder}"
"""


def write_settings(
    tmp_path: Path, *, host: str = "db.example.com", batch_rows: int = 1000, slots: int = 3, folder: str = "artifacts"
) -> Path:
    path = tmp_path / "airflow_settings.yaml"
    path.write_text(SETTINGS.format(host=host, batch_rows=batch_rows, slots=slots, folder=folder))
    return path


def stored(conn_id: str, pool: str, variable: str) -> dict[str, Any]:
    """What the metadata DB holds for the three test entries, read through the ORM."""
    from airflow.models import Connection, Variable
    from airflow.models.pool import Pool
    from airflow.utils.session import create_session
    from sqlalchemy import func, select

    with create_session() as session:
        conns = session.scalars(select(Connection).where(Connection.conn_id == conn_id)).all()
        pools = session.scalars(select(Pool).where(Pool.pool == pool)).all()
        variables = session.scalars(select(Variable).where(Variable.key == variable)).all()
        return {
            "counts": (len(conns), len(pools), len(variables)),
            "conn": {
                "type": conns[0].conn_type,
                "host": conns[0].host,
                "port": conns[0].port,
                "password": conns[0].password,
                "extra": conns[0].extra_dejson,
            }
            if conns
            else None,
            "slots": pools[0].slots if pools else None,
            "variable": variables[0].val if variables else None,
            "total_conns": session.scalar(select(func.count()).select_from(Connection)),
        }


def test_load_creates_then_updates_without_duplicates(
    airflow_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BSYNC_TEST_DIR", "/srv/bsync")
    path = write_settings(tmp_path)

    assert main([str(path)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines() == [
        "connection bsync_test_wh (type warehouse, host db.example.com): created",
        "pool bsync_test_pool (3 slots): created",
        "variable bsync_test_base: created",
    ]
    assert "s3cret" not in out and "/srv/bsync" not in out
    first = stored("bsync_test_wh", "bsync_test_pool", "bsync_test_base")
    assert first["counts"] == (1, 1, 1)
    assert first["conn"] == {
        "type": "warehouse",
        "host": "db.example.com",
        "port": 5439,
        "password": "s3cret-never-printed",
        "extra": {"url": "duckdb:////srv/bsync/wh.duckdb", "batch_rows": 1000},
    }
    assert first["slots"] == 3 and first["variable"] == "/srv/bsync/artifacts"
    assert stored_encrypted("bsync_test_wh")  # the secret is never in the metadata DB as plain text

    # Same file again: nothing changes. Changed values: updated in place, never duplicated.
    assert load_settings(path) == [
        "connection bsync_test_wh (type warehouse, host db.example.com): unchanged",
        "pool bsync_test_pool (3 slots): unchanged",
        "variable bsync_test_base: unchanged",
    ]
    path = write_settings(tmp_path, host="db2.example.com", batch_rows=5000, slots=7, folder="elsewhere")
    assert [line.rsplit(": ", 1)[1] for line in load_settings(path)] == ["updated", "updated", "updated"]
    second = stored("bsync_test_wh", "bsync_test_pool", "bsync_test_base")
    assert second["counts"] == (1, 1, 1) and second["total_conns"] == first["total_conns"]
    assert second["conn"]["host"] == "db2.example.com" and second["conn"]["extra"]["batch_rows"] == 5000
    assert second["slots"] == 7 and second["variable"] == "/srv/bsync/elsewhere"


def test_unknown_placeholder_is_an_error_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("BSYNC_TEST_DIR", raising=False)
    path = write_settings(tmp_path)
    with pytest.raises(
        SettingsError,
        match=r"connections\[0\] \(bsync_test_wh\)\.conn_extra\.url: unknown placeholder \$\{BSYNC_TEST_DIR\}",
    ):
        read_settings(path)
    assert main([str(path)]) == 1
    assert "${BSYNC_TEST_DIR}" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        (
            "airflow:\n  pools:\n    - {pool_name: p1, pool_slot: many}\n",
            r"airflow\.pools\[0\] \(p1\)\.pool_slot: 'many' does not match",
        ),
        (
            "airflow:\n  connections:\n    - {conn_id: c1, conn_type: http, conn_hots: x}\n",
            r"airflow\.connections\[0\] \(c1\)\.conn_hots: unknown field",
        ),
        (
            "airflow:\n  connections:\n    - {conn_id: c1, conn_host: x}\n",
            r"airflow\.connections\[0\] \(c1\): 'conn_type' is a required property",
        ),
        (
            "airflow:\n  connections:\n    - {conn_id: c1, conn_uri: 'http://h', conn_host: x}\n",
            r"airflow\.connections\[0\] \(c1\)\.conn_host: unknown field "
            r"\(allowed here: conn_description, conn_id, conn_uri\)",
        ),
        (
            "airflow:\n  connections:\n    - {conn_id: c1, conn_type: http, conn_extra: [1, 2]}\n",
            r"airflow\.connections\[0\] \(c1\)\.conn_extra: must be of type 'object'",
        ),
        (
            "airflow:\n  variables:\n    - {variable_name: v1}\n",
            r"airflow\.variables\[0\] \(v1\): 'variable_value' is a required property",
        ),
        (
            "airflow:\n  variables:\n"
            "    - {variable_name: v1, variable_value: a}\n    - {variable_name: v1, variable_value: b}\n",
            r"airflow\.variables: 'v1' is declared twice",
        ),
        ("airflow:\n  pools: {pool_name: p1}\n", r"airflow\.pools: must be of type 'array'"),
        (
            "airflow:\n  conections: []\n",
            r"airflow\.conections: unknown field \(allowed here: connections, pools, variables\)",
        ),
        ("connections: []\n", r"connections: unknown field \(allowed here: airflow\)"),
    ],
)
def test_bad_structure_is_an_error_naming_the_entry(tmp_path: Path, yaml_text: str, message: str) -> None:
    path = tmp_path / "settings.yaml"
    path.write_text(yaml_text)
    with pytest.raises(SettingsError, match=message):
        read_settings(path)


@pytest.mark.parametrize(
    ("environ", "data"),
    [
        ({"PROJECT_DIR": "/opt/bsync"}, "/opt/bsync/data"),
        ({"PROJECT_DIR": "/opt/bsync", "BEHAVIOR_SYNC_DATA_DIR": "/srv/bsync-data"}, "/srv/bsync-data"),
    ],
)
def test_project_settings_file_expands_and_matches_the_connection_schemas(environ: dict[str, str], data: str) -> None:
    settings = read_settings(ROOT / "airflow_settings.yaml", environ=environ)
    conns = {c.conn_id: c for c in settings.connections}
    assert {cid: c.conn_type for cid, c in conns.items()} == {
        "warehouse_default": "warehouse",
        "sync_state_default": "sync_state",
    }
    assert json.loads(conns["warehouse_default"].extra or "{}") == {"url": f"duckdb:///{data}/warehouse.duckdb"}
    assert json.loads(conns["sync_state_default"].extra or "{}") == {"url": f"sqlite:///{data}/state.db"}
    for conn in settings.connections:  # the hooks would accept these extras
        assert conn.conn_type is not None and conn.password is None
        validated_extras(conn.conn_type, conn.conn_id, json.loads(conn.extra or "{}"))
    assert [(p.name, p.slots) for p in settings.pools] == [
        ("warehouse_default", 4),
        ("meta_default", 2),
        ("google_ads_default", 2),
        ("google_ads_api_default", 2),
        ("hubspot_default", 2),
        ("clevertap_default", 4),
    ]
    assert [(v.key, v.value) for v in settings.variables] == [("behavior_sync_artifacts_base", f"{data}/artifacts")]


def test_project_settings_file_loads_into_the_metadata_db(airflow_db: Path) -> None:
    lines = load_settings(ROOT / "airflow_settings.yaml")
    assert [line.split(" (")[0].split(":")[0] for line in lines] == [
        "connection warehouse_default",
        "connection sync_state_default",
        "pool warehouse_default",
        "pool meta_default",
        "pool google_ads_default",
        "pool google_ads_api_default",
        "pool hubspot_default",
        "pool clevertap_default",
        "variable behavior_sync_artifacts_base",
    ]
    assert stored("warehouse_default", "warehouse_default", "behavior_sync_artifacts_base")["conn"]["extra"] == {
        "url": f"duckdb:///{ROOT}/data/warehouse.duckdb"
    }


def test_check_mode_from_the_command_line_touches_no_database() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "behavior_sync_airflow.settings_loader", "--check", str(ROOT / "airflow_settings.yaml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "ok (2 connection(s), 6 pool(s), 1 variable(s))" in result.stdout


def stored_encrypted(conn_id: str) -> bool:
    """Whether the connection's password and extra are Fernet-encrypted in the metadata DB's raw row."""
    from airflow.models.connection import Connection
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        table = Connection.__table__
        row = session.execute(
            select(table.c.password, table.c.extra, table.c.is_encrypted, table.c.is_extra_encrypted).where(
                table.c.conn_id == conn_id
            )
        ).one()
    return bool(row.is_encrypted and row.is_extra_encrypted) and "s3cret" not in row.password + row.extra
