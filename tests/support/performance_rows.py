"""Stored campaign performance for tests: the hand-computed fixture tests/fixtures/performance/three_pairs.json."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from behavior_sync.performance_store import DailyFigures, ReadWindow, Target, replace_range
from behavior_sync.statedb import StateDatabase

FIXTURE: dict[str, Any] = json.loads(
    (Path(__file__).parents[1] / "fixtures" / "performance" / "three_pairs.json").read_text()
)
STORED = ReadWindow(dt.date(2026, 10, 31), dt.date(2026, 11, 2))  # every day of the fixture
PERIOD = (dt.date(2026, 11, 1), dt.date(2026, 11, 2))  # the days its expected figures cover


def target(behavior: str, destination: str, kind: str) -> Target:
    """A read-back target of ``behavior`` x ``destination`` (type ``kind``)."""
    return Target(behavior, destination, kind, f"{kind}_default", "42", "account")


def figures(rows: list[dict[str, Any]]) -> list[DailyFigures]:
    """The fixture's rows as figures (audience 42, USD)."""
    return [
        DailyFigures(
            **{
                **row,
                "day": dt.date.fromisoformat(row["day"]),
                "object_name": f"object {row['object_id']}",
                "audience_id": "42",
                "currency": "USD",
            }
        )
        for row in rows
    ]


def seed_fixture(db: StateDatabase) -> None:
    """Stores every pair of the fixture as one read of ``STORED``."""
    for pair in FIXTURE["pairs"]:
        key = target(pair["behavior"], pair["destination_id"], pair["destination_type"])
        replace_range(db, key, STORED, figures(pair["rows"]), "run-1")
