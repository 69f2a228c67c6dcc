"""Sync history on SQLite: schema migration, idempotent records, queries, status check."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from behavior_sync.history import HistoryStore, SyncRecord
from behavior_sync.statedb import LATEST_VERSION

T0 = dt.datetime(2026, 11, 23, 6, tzinfo=dt.UTC)


def record(
    run_id: str, status: str = "not_implemented", destination_id: str = "meta", minutes: int = 0, **extra: object
) -> SyncRecord:
    return SyncRecord(
        behavior="value_hunters",
        destination_id=destination_id,
        destination_type="meta",
        connection_id="meta_default",
        run_id=run_id,
        status=status,
        finished_at=T0 + dt.timedelta(minutes=minutes),
        extracted_rows=10,
        **extra,  # type: ignore[arg-type]
    )


def exercise_store(url: str) -> None:
    """Shared by the SQLite test here and the PostgreSQL integration test."""
    store = HistoryStore(url)
    try:
        assert store.ensure_schema() == LATEST_VERSION
        assert store.ensure_schema() == LATEST_VERSION  # idempotent
        store.record(record("r1", message="first", details={"dry_run": False}))
        store.record(record("r1", status="failed", message="retried"))  # same run: replaced
        store.record(record("r2", minutes=5))
        store.record(record("r2", destination_id="hubspot_list", minutes=6))
        rows = store.recent(behavior="value_hunters", destination_id="meta")
        assert [(r.run_id, r.status, r.message) for r in rows] == [
            ("r2", "not_implemented", ""),
            ("r1", "failed", "retried"),
        ]
        assert [r.destination_id for r in store.recent(limit=1)] == ["hubspot_list"]
        assert rows[0].extracted_rows == 10 and rows[1].details == {}
    finally:
        store.close()


def test_history_store_on_sqlite(tmp_path: Path) -> None:
    exercise_store(f"sqlite:///{tmp_path}/state.db")


def test_unknown_status_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown sync status 'done'"):
        record("r1", status="done")


def test_history_cli_prints_a_table_newest_first(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from behavior_sync.cli import main

    url = f"sqlite:///{tmp_path}/state.db"
    assert main(["history", "--state-url", url]) == 0
    assert "no sync history yet" in capsys.readouterr().out
    store = HistoryStore(url)
    store.ensure_schema()
    store.record(record("run_old", message="older"))
    store.record(record("run_new", minutes=1, message="newer"))
    store.close()
    assert main(["history", "--state-url", url, "--behavior", "value_hunters", "--last", "5"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == [
        "finished_at",
        "behavior",
        "destination_id",
        "status",
        "extracted_rows",
        "adds",
        "removes",
        "acknowledged",
        "rejected",
        "audience_size",
        "run_id",
        "message",
    ]
    assert "run_new" in lines[2] and "run_old" in lines[3] and "not_implemented" in lines[2]


def test_concurrent_first_time_schema_creation_is_safe(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    url = f"sqlite:///{tmp_path}/state.db"

    def create() -> int:
        store = HistoryStore(url)
        try:
            return store.ensure_schema()
        finally:
            store.close()

    with ThreadPoolExecutor(max_workers=6) as pool:
        assert list(pool.map(lambda _: create(), range(6))) == [LATEST_VERSION] * 6


def test_a_version_1_database_is_migrated_in_place_keeping_its_rows(tmp_path: Path) -> None:
    import sqlalchemy as sa

    url = f"sqlite:///{tmp_path}/old.db"
    engine = sa.create_engine(url)
    script = (Path(__file__).parents[1] / "fixtures" / "statedb" / "history_v1.sql").read_text()
    statements = [part for part in script.split(";") if part.strip()]
    with engine.begin() as conn:
        for statement in statements:
            conn.exec_driver_sql("\n".join(line for line in statement.splitlines() if not line.startswith("--")))
    engine.dispose()
    store = HistoryStore(url)
    try:
        assert store.ensure_schema() == LATEST_VERSION
        store.record(record("new", adds=3, removes=1, durations={"load": 1.5}, errors=({"code": "100", "count": 2},)))
        rows = {r.run_id: r for r in store.recent(limit=5)}
        assert rows["old"].message == "kept" and rows["old"].adds is None
        assert rows["new"].adds == 3 and rows["new"].durations == {"load": 1.5}
        assert rows["new"].errors == ({"code": "100", "count": 2},)
    finally:
        store.close()
