"""The Behavior Sync page's read models on a PostgreSQL state database (mandatory in CI): the checks of
tests/unit/test_dashboard.py (the overview's index-seek queries) against PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.unit import test_dashboard as checks

pytestmark = pytest.mark.postgres


@pytest.mark.parametrize(
    "check",
    [
        checks.test_overview_of_an_empty_install_lists_the_configured_destinations,
        checks.test_overview_shows_the_latest_run_and_the_latest_sync,
        checks.test_pair_history_is_oldest_first_and_limited,
    ],
    ids=lambda check: check.__name__.removeprefix("test_"),
)
def test_dashboard_on_postgres(postgres_schema_url: str, check: Callable[[str], None]) -> None:
    check(postgres_schema_url)
