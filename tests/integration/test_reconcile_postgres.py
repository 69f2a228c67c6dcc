"""Drift records on PostgreSQL (mandatory in CI): written, replaced by a retried check, read newest per destination."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from behavior_sync.statedb import StateDatabase
from behavior_sync.sync.reconcile import DriftRecord, drift_history, last_checked, latest_drift, record_drift

pytestmark = pytest.mark.postgres
T0 = dt.datetime(2026, 12, 7, 6, tzinfo=dt.UTC)


def test_drift_records_round_trip_and_the_newest_per_destination_is_read(postgres_schema_url: str) -> None:
    db = StateDatabase(postgres_schema_url)
    try:
        db.ensure_schema()
        ids = ("vh", "hubspot_list", "hubspot", "run1", T0)
        counts = {"committed": 10, "observed": 9, "missing": 1, "unexpected": 0, "foreign_members": 0}
        first = DriftRecord(*ids, "exact", "drift", details={"artifact": "x.parquet"}, **counts)
        record_drift(db, first)
        record_drift(db, dataclasses.replace(first, missing=2))  # a retried check of the same run replaces it
        later = dataclasses.replace(first, run_id="run2", checked_at=T0 + dt.timedelta(days=7), status="in_sync")
        record_drift(db, later)
        other = DriftRecord("vh", "meta", "meta", "run1", T0, "count", "unknown", message="read-back failed: ...")
        record_drift(db, other)
        assert [(r.destination_id, r.run_id, r.status) for r in latest_drift(db)] == [
            ("hubspot_list", "run2", "in_sync"),
            ("meta", "run1", "unknown"),
        ]
        (kept, _) = sorted(drift_history(db, "vh", "hubspot_list"), key=lambda r: r.run_id)
        assert (kept.missing, kept.details, kept.checked_at) == (2, {"artifact": "x.parquet"}, T0)
        assert last_checked(db, "vh", "meta") is None and last_checked(db, "vh", "hubspot_list") == later.checked_at
        assert latest_drift(db, behavior="other") == []
    finally:
        db.close()
