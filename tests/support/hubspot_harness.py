"""The HubSpot sandbox harness: the sandbox on an ephemeral port and a fake clock, reached with the real
hubspot-api-client. Shared by tests/sandbox (the sandbox's own tests) and the HubSpot destination's
integration and DAG tests.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hubspot

from sandbox.hubspot import HubSpotSandbox, HubSpotSandboxConfig, running_hubspot_sandbox
from tests.support.engine_run import Row
from tests.support.meta_harness import SandboxHarness

HS_PORTAL = 1000001  # professional: 190 requests / 10 s, 650,000 a day
HS_STARTER_PORTAL = 2000002  # starter: 100 requests / 10 s, 250,000 a day
HS_TINY_PORTAL = 3000003  # starter with a daily budget of 5 requests (daily-limit tests)
HS_TOKEN = "pat-na1-hubspot-test-token"  # a legacy private app of HS_PORTAL
HS_SERVICE_KEY = "hubspot-test-service-key"  # a Service Key of HS_PORTAL, every scope
HS_READ_ONLY_KEY = "hubspot-test-read-only-key"  # a Service Key of HS_PORTAL with the read scopes only
HS_TINY_SERVICE_KEY = "hubspot-test-tiny-service-key"  # a Service Key of HS_TINY_PORTAL
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
HS_READ_SCOPES = ["crm.lists.read", "crm.objects.contacts.read", "crm.schemas.contacts.read"]
HS_TOKENS: dict[str, dict[str, Any]] = {
    HS_TOKEN: {"portal_id": HS_PORTAL},
    HS_SERVICE_KEY: {"portal_id": HS_PORTAL, "kind": "service_key"},
    HS_READ_ONLY_KEY: {"portal_id": HS_PORTAL, "kind": "service_key", "scopes": HS_READ_SCOPES},
    HS_TINY_SERVICE_KEY: {"portal_id": HS_TINY_PORTAL, "kind": "service_key"},
    HS_SECOND_TOKEN: {"portal_id": HS_PORTAL},
    HS_STARTER_TOKEN: {"portal_id": HS_STARTER_PORTAL},
    HS_TINY_TOKEN: {"portal_id": HS_TINY_PORTAL},
    HS_LISTS_READ_TOKEN: {"portal_id": HS_PORTAL, "scopes": ["crm.lists.read"]},
}


def crm_rows(numbers: range | list[int]) -> list[Row]:
    """Members ``c<i>`` with the e-mail ``m<i>@example.com``, as the engine prepares HubSpot rows."""
    return [(f"c{i}", "email", f"m{i}@example.com") for i in numbers]


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


@contextmanager
def hubspot_starter() -> Iterator[StartHubSpot]:
    """``start(**config_overrides)`` starts a sandbox with the test portals on a fake clock; all stop at the end.

    The fake clock never rolls the 10-second window: ``unlimited=True`` lifts it for runs of many requests.
    """
    with ExitStack() as stack:

        def start(state_file: Path | None = None, unlimited: bool = False, **overrides: Any) -> HubSpotHarness:
            portals = (
                {p: s | {"ten_second_limit": 1_000_000} for p, s in HS_PORTALS.items()} if unlimited else HS_PORTALS
            )
            config = HubSpotSandboxConfig.from_mapping({"portals": portals, "tokens": HS_TOKENS, **overrides})
            clock = FakeClock()
            server, app = stack.enter_context(running_hubspot_sandbox(config, state_file=state_file, clock=clock))
            return HubSpotHarness(server.base_url, app, clock)

        yield start


def hubspot_connection(host: str | None, token: str = HS_SERVICE_KEY, portal: int = HS_PORTAL) -> str:
    """An AIRFLOW_CONN_ value of type hubspot (professional tier), with a Service Key unless ``token`` says."""
    extra = {"portal_id": str(portal), "account_tier": "professional"}
    return json.dumps({"conn_type": "hubspot", "host": host, "password": token, "extra": extra})
