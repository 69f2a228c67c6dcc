"""Audience health and overlap on a PostgreSQL state database (mandatory in CI): the hand-computed checks of
tests/unit/test_health.py, run against PostgreSQL's JSON functions and timestamps."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.health_fixtures import HealthFixture
from tests.unit import test_health as checks

pytestmark = pytest.mark.postgres


@pytest.fixture()
def fixture(tmp_path: Path, postgres_schema_url: str) -> Iterator[HealthFixture]:
    made = HealthFixture(tmp_path, postgres_schema_url)
    yield made
    made.db.close()


@pytest.mark.parametrize(
    "check",
    [
        checks.test_each_synced_run_has_its_size_entries_exits_growth_and_churn,
        checks.test_membership_age_counts_from_the_run_that_put_each_member_in,
        checks.test_the_window_compares_the_size_before_its_first_run_with_the_size_after_its_last,
        checks.test_overlap_per_behavior_unites_its_destinations,
    ],
    ids=lambda check: check.__name__.removeprefix("test_"),
)
def test_health_on_postgres(fixture: HealthFixture, check: Callable[[HealthFixture], None]) -> None:
    check(fixture)
