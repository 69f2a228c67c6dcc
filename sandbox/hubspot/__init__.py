"""A strict local stand-in for HubSpot's CRM APIs (date-based and legacy v3 paths): lists, contacts, properties,
account info, for private-app tokens and Service Keys.

The official hubspot-api-client reaches it unchanged once pointed at it
(``hubspot.Client.create(access_token=..., host=base_url, base_url=base_url)``).
See ``sandbox/hubspot/README.md`` for endpoints, rules and config.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sandbox.common.http import RunningServer, serve_in_background
from sandbox.hubspot.app import HubSpotSandbox
from sandbox.hubspot.config import (
    DEMO_PORTAL_ID,
    DEMO_SERVICE_KEY,
    DEMO_TOKEN,
    HubSpotSandboxConfig,
    PortalConfig,
    TokenGrant,
)

__all__ = [
    "DEMO_PORTAL_ID",
    "DEMO_SERVICE_KEY",
    "DEMO_TOKEN",
    "HubSpotSandbox",
    "HubSpotSandboxConfig",
    "PortalConfig",
    "TokenGrant",
    "running_hubspot_sandbox",
]


@contextmanager
def running_hubspot_sandbox(
    config: HubSpotSandboxConfig | None = None,
    port: int = 0,
    state_file: Path | None = None,
    clock: Callable[[], float] = time.time,
) -> Iterator[tuple[RunningServer, HubSpotSandbox]]:
    """Start a HubSpot sandbox on 127.0.0.1 (ephemeral port by default) in a background thread.

    Yields the running server (``base_url``) and the app (for direct inspection in tests);
    stops both on exit, saving ``state_file`` when given. ``clock`` (epoch seconds) drives rate
    windows, the daily reset and timestamps, so tests can move time without sleeping.
    """
    app = HubSpotSandbox(config or HubSpotSandboxConfig.demo(), state_file=state_file, clock=clock)
    with serve_in_background(app, port, app.limits) as server:
        yield server, app
