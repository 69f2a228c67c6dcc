"""Sync history on PostgreSQL (mandatory in CI)."""

from __future__ import annotations

import pytest

from tests.unit.test_history import exercise_store

pytestmark = pytest.mark.postgres


def test_history_store_on_postgres(postgres_schema_url: str) -> None:
    exercise_store(postgres_schema_url)
