"""The sync engine's state pointer, ledger and rejections on PostgreSQL (mandatory in CI)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from behavior_sync.statedb import LATEST_VERSION, StateDatabase
from behavior_sync.sync.state import StateStore
from tests.unit.test_sync_engine import Engine, exercise_first_sync_then_churn

pytestmark = pytest.mark.postgres


@pytest.fixture()
def pg_engine(postgres_schema_url: str, tmp_path: Path) -> Iterator[Engine]:
    db = StateDatabase(postgres_schema_url)
    assert db.ensure_schema() == LATEST_VERSION
    yield Engine(tmp_path, db, StateStore(db, str(tmp_path / "artifacts")))
    db.close()


def test_first_sync_and_churn_on_postgres(pg_engine: Engine) -> None:
    exercise_first_sync_then_churn(pg_engine)
