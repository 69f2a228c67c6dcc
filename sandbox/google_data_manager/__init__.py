"""A strict local stand-in for Google's Data Manager API (REST): user lists and Customer Match audience members.

The official ``google-ads-datamanager`` client reaches it unchanged with ``transport="rest"``,
``AnonymousCredentials()`` and ``client_options={"api_endpoint": "http://127.0.0.1:PORT"}``.
See ``sandbox/google_data_manager/README.md`` for endpoints, rules, config and what is UNCONFIRMED.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sandbox.common.http import RunningServer, serve_in_background
from sandbox.google_data_manager.app import GoogleDataManagerSandbox
from sandbox.google_data_manager.config import (
    ACCOUNT_TYPES,
    DEMO_ACCESS_TOKEN,
    DEMO_ACCOUNT_ID,
    DEMO_ACCOUNT_TYPE,
    GoogleDataManagerSandboxConfig,
)

__all__ = [
    "ACCOUNT_TYPES",
    "DEMO_ACCESS_TOKEN",
    "DEMO_ACCOUNT_ID",
    "DEMO_ACCOUNT_TYPE",
    "GoogleDataManagerSandbox",
    "GoogleDataManagerSandboxConfig",
    "running_google_data_manager_sandbox",
]


@contextmanager
def running_google_data_manager_sandbox(
    config: GoogleDataManagerSandboxConfig | None = None,
    port: int = 0,
    state_file: Path | None = None,
    clock: Callable[[], float] | None = None,
    sleep: Callable[[float], None] | None = None,
) -> Iterator[tuple[RunningServer, GoogleDataManagerSandbox]]:
    """Start a Data Manager sandbox on 127.0.0.1 (ephemeral port by default) in a background thread.

    Yields the running server (``base_url``) and the app; stops both on exit, saving ``state_file``
    when given. ``clock`` (epoch seconds) drives processing delays and quotas; ``sleep`` replaces
    ``time.sleep`` for injected latency.
    """
    app = GoogleDataManagerSandbox(
        config or GoogleDataManagerSandboxConfig.demo(),
        state_file=state_file,
        clock=clock or time.time,
        sleep=sleep or time.sleep,
    )
    with serve_in_background(app, port, app.limits) as server:
        yield server, app
