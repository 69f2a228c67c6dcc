"""Fixtures for sandbox tests: vendor sandboxes (Meta, HubSpot, CleverTap, Google Data Manager) on ephemeral ports."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.clevertap_harness import CleverTapHarness, StartCleverTap, clevertap_starter
from tests.support.google_dm_harness import (  # noqa: F401 - GDM_* re-exported for the sandbox tests
    GDM_ACCOUNT,
    GDM_DELAY,
    GDM_FOREIGN_ACCOUNT,
    GDM_OTHER_ACCOUNT,
    GDM_TOKEN,
    GoogleDataManagerHarness,
    StartGoogleDataManager,
    google_data_manager_starter,
)
from tests.support.hubspot_harness import (
    HS_LISTS_READ_TOKEN as HS_LISTS_READ_TOKEN,
)
from tests.support.hubspot_harness import (
    HS_PORTAL as HS_PORTAL,
)
from tests.support.hubspot_harness import (
    HS_PORTALS as HS_PORTALS,
)
from tests.support.hubspot_harness import (
    HS_SECOND_TOKEN as HS_SECOND_TOKEN,
)
from tests.support.hubspot_harness import (
    HS_SEED_EMAILS as HS_SEED_EMAILS,
)
from tests.support.hubspot_harness import (
    HS_START as HS_START,
)
from tests.support.hubspot_harness import (
    HS_STARTER_PORTAL as HS_STARTER_PORTAL,
)
from tests.support.hubspot_harness import (
    HS_STARTER_TOKEN as HS_STARTER_TOKEN,
)
from tests.support.hubspot_harness import (
    HS_TINY_PORTAL as HS_TINY_PORTAL,
)
from tests.support.hubspot_harness import (
    HS_TINY_TOKEN as HS_TINY_TOKEN,
)
from tests.support.hubspot_harness import (
    HS_TOKEN as HS_TOKEN,
)
from tests.support.hubspot_harness import (
    HS_TOKENS as HS_TOKENS,
)
from tests.support.hubspot_harness import (
    FakeClock as FakeClock,
)
from tests.support.hubspot_harness import (
    HubSpotHarness as HubSpotHarness,
)
from tests.support.hubspot_harness import (
    StartHubSpot as StartHubSpot,
)
from tests.support.hubspot_harness import (
    hubspot_starter as hubspot_starter,
)
from tests.support.meta_harness import MetaHarness, StartMeta, meta_starter


@pytest.fixture
def start_meta() -> Iterator[StartMeta]:
    """A factory: ``start_meta(**config_overrides)`` starts a sandbox; all are stopped after the test."""
    with meta_starter() as start:
        yield start


@pytest.fixture
def meta(start_meta: StartMeta) -> MetaHarness:
    """A Meta sandbox with the test tokens and default limits."""
    return start_meta()


# --- HubSpot ----------------------------------------------------------------------------------------


@pytest.fixture
def start_hubspot() -> Iterator[StartHubSpot]:
    """A factory: ``start_hubspot(**config_overrides)`` starts a sandbox on a fake clock; all stop after the test."""
    with hubspot_starter() as start:
        yield start


@pytest.fixture
def hubspot_sandbox(start_hubspot: StartHubSpot) -> HubSpotHarness:
    """A HubSpot sandbox with the test portals and tokens and default limits."""
    return start_hubspot()


# --- CleverTap ---------------------------------------------------------------------------------------


@pytest.fixture
def start_clevertap() -> Iterator[StartCleverTap]:
    """A factory: ``start_clevertap(**config_overrides)`` starts a sandbox; all are stopped after the test."""
    with clevertap_starter() as start:
        yield start


@pytest.fixture
def clevertap_sandbox(start_clevertap: StartCleverTap) -> CleverTapHarness:
    """A CleverTap sandbox with the two test accounts and default limits."""
    return start_clevertap()


# --- Google Data Manager ---------------------------------------------------------------------------


@pytest.fixture
def start_google_data_manager() -> Iterator[StartGoogleDataManager]:
    """A factory: ``start_google_data_manager(**config_overrides)`` starts a sandbox on a fake clock."""
    with google_data_manager_starter(FakeClock) as start:
        yield start


@pytest.fixture
def google_data_manager(start_google_data_manager: StartGoogleDataManager) -> GoogleDataManagerHarness:
    """A Data Manager sandbox with the two test accounts and documented limits."""
    return start_google_data_manager()
