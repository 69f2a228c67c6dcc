"""A strict local stand-in for CleverTap's server API: ``/1/upload`` (profiles and events) and profile deletion.

CleverTap has no Python SDK; the pipeline speaks HTTP with a base URL, which points here in tests and
the demo (``http://127.0.0.1:PORT`` or, naming the region, ``http://127.0.0.1:PORT/us1``).
See ``sandbox/clevertap/README.md`` for endpoints, rules, config and what is UNCONFIRMED.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sandbox.clevertap.app import CleverTapSandbox
from sandbox.clevertap.config import (
    DEMO_ACCOUNT_ID,
    DEMO_PASSCODE,
    DEMO_REGION,
    REGIONS,
    AccountConfig,
    CleverTapSandboxConfig,
)
from sandbox.common.http import RunningServer, serve_in_background

__all__ = [
    "DEMO_ACCOUNT_ID",
    "DEMO_PASSCODE",
    "DEMO_REGION",
    "REGIONS",
    "AccountConfig",
    "CleverTapSandbox",
    "CleverTapSandboxConfig",
    "running_clevertap_sandbox",
]


@contextmanager
def running_clevertap_sandbox(
    config: CleverTapSandboxConfig | None = None,
    port: int = 0,
    state_file: Path | None = None,
    sleep: Callable[[float], None] | None = None,
) -> Iterator[tuple[RunningServer, CleverTapSandbox]]:
    """Start a CleverTap sandbox on 127.0.0.1 (ephemeral port by default) in a background thread.

    Yields the running server (``base_url``) and the app (for direct inspection in tests); stops
    both on exit, saving ``state_file`` when given. ``sleep`` replaces ``time.sleep`` for the
    configured latency and processing delay.
    """
    app = CleverTapSandbox(config or CleverTapSandboxConfig.demo(), state_file=state_file, sleep=sleep or time.sleep)
    with serve_in_background(app, port, app.limits) as server:
        yield server, app
