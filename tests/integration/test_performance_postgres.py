"""Campaign performance on a PostgreSQL state database: the v7 table, idempotent replacement and the read
model's hand-computed ratios (tests/fixtures/performance/three_pairs.json), as on SQLite."""

from __future__ import annotations

import pytest

from behavior_sync.performance import performance_by_behavior
from behavior_sync.statedb import LATEST_VERSION, StateDatabase
from tests.support.performance_rows import FIXTURE, PERIOD, seed_fixture

pytestmark = pytest.mark.postgres


def test_performance_is_stored_and_compared_on_postgres(postgres_schema_url: str) -> None:
    db = StateDatabase(postgres_schema_url)
    try:
        assert db.ensure_schema() == LATEST_VERSION
        seed_fixture(db)
        seed_fixture(db)  # the same reads again replace what they stored
        pairs = {
            (p["behavior"], p["destination_id"]): p for p in performance_by_behavior(db, *PERIOD).as_json()["pairs"]
        }
        for expected in FIXTURE["pairs"]:
            pair = pairs[expected["behavior"], expected["destination_id"]]
            assert pair["objects"] == expected["objects"]
            assert {k: pair["totals"][k] for k in expected["totals"]} == expected["totals"]
    finally:
        db.close()
