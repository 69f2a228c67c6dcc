"""Fixtures for sandbox tests: vendor sandboxes (Meta, HubSpot, CleverTap, Google Data Manager) on ephemeral ports."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hubspot
import pytest

from sandbox.hubspot import HubSpotSandbox, HubSpotSandboxConfig, running_hubspot_sandbox
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
from tests.support.meta_harness import MetaHarness, SandboxHarness, StartMeta, meta_starter


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

HS_PORTAL = 1000001  # professional: 190 requests / 10 s, 650,000 a day
HS_STARTER_PORTAL = 2000002  # starter: 100 requests / 10 s, 250,000 a day
HS_TINY_PORTAL = 3000003  # starter with a daily budget of 5 requests (daily-limit tests)
HS_TOKEN = "pat-na1-hubspot-test-token"
HS_SECOND_TOKEN = "pat-na1-hubspot-second-token"  # another private app of HS_PORTAL
HS_STARTER_TOKEN = "pat-na1-hubspot-starter-token"
HS_TINY_TOKEN = "pat-na1-hubspot-tiny-token"
HS_LISTS_READ_TOKEN = "pat-na1-hubspot-lists-read-token"  # crm.lists.read only
HS_SEED_EMAILS = [f"seed.{i}@example.com" for i in range(1, 6)]
HS_START = 1_748_876_400.0  # 2025-06-02T15:00:00Z, 11:00 in US/Eastern
HS_PORTALS: dict[str, dict[str, Any]] = {
    str(HS_PORTAL): {"tier": "professional", "contacts": HS_SEED_EMAILS},
    str(HS_STARTER_PORTAL): {"tier": "starter"},
    str(HS_TINY_PORTAL): {"tier": "starter", "daily_limit": 5},
}
HS_TOKENS: dict[str, dict[str, Any]] = {
    HS_TOKEN: {"portal_id": HS_PORTAL},
    HS_SECOND_TOKEN: {"portal_id": HS_PORTAL},
    HS_STARTER_TOKEN: {"portal_id": HS_STARTER_PORTAL},
    HS_TINY_TOKEN: {"portal_id": HS_TINY_PORTAL},
    HS_LISTS_READ_TOKEN: {"portal_id": HS_PORTAL, "scopes": ["crm.lists.read"]},
}


class FakeClock:
    """An epoch-seconds clock that only moves when told to (``advance``)."""

    def __init__(self, start: float = HS_START) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds``."""
        self.now += seconds


@dataclass
class HubSpotHarness(SandboxHarness):
    """A running HubSpot sandbox, its fake clock, and helpers to reach it with the real hubspot-api-client."""

    app: HubSpotSandbox
    clock: FakeClock

    def client(self, token: str = HS_TOKEN, **kwargs: Any) -> hubspot.Client:
        """``hubspot.Client`` pointed at the sandbox (``host`` for generated APIs, ``base_url`` for api_request)."""
        return hubspot.Client.create(access_token=token, host=self.base_url, base_url=self.base_url, **kwargs)

    def members(self, list_id: str) -> list[str]:
        """The record ids the sandbox holds in a list (inspection)."""
        members: list[str] = self.get(f"lists/{list_id}/members")["members"]
        return members

    def contacts(self, portal: int = HS_PORTAL) -> dict[str, dict[str, str]]:
        """E-mail -> stored properties of every contact of a portal (inspection)."""
        rows = self.get("contacts", portal=portal)["contacts"]
        return {row["email"]: row["properties"] for row in rows}


StartHubSpot = Callable[..., HubSpotHarness]


@pytest.fixture
def start_hubspot() -> Iterator[StartHubSpot]:
    """A factory: ``start_hubspot(**config_overrides)`` starts a sandbox on a fake clock; all stop after the test."""
    with ExitStack() as stack:

        def start(state_file: Path | None = None, **overrides: Any) -> HubSpotHarness:
            config = HubSpotSandboxConfig.from_mapping({"portals": HS_PORTALS, "tokens": HS_TOKENS, **overrides})
            clock = FakeClock()
            server, app = stack.enter_context(running_hubspot_sandbox(config, state_file=state_file, clock=clock))
            return HubSpotHarness(server.base_url, app, clock)

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
