"""A strict local stand-in for Meta's Graph API (customer-file Custom Audiences).

The official facebook-business SDK reaches it unchanged once its session points at it
(``session.GRAPH = base_url``). See ``sandbox/meta/README.md`` for endpoints, rules and config.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sandbox.common.http import RunningServer, serve_in_background
from sandbox.meta.app import USAGE_HEADER, MetaSandbox
from sandbox.meta.config import DEMO_AD_ACCOUNT, DEMO_TOKEN, MetaSandboxConfig, TokenGrant

__all__ = [
    "DEMO_AD_ACCOUNT",
    "DEMO_TOKEN",
    "USAGE_HEADER",
    "MetaSandbox",
    "MetaSandboxConfig",
    "TokenGrant",
    "running_meta_sandbox",
]


@contextmanager
def running_meta_sandbox(
    config: MetaSandboxConfig | None = None, port: int = 0, state_file: Path | None = None
) -> Iterator[tuple[RunningServer, MetaSandbox]]:
    """Start a Meta sandbox on 127.0.0.1 (ephemeral port by default) in a background thread.

    Yields the running server (``base_url``) and the app (for direct inspection in tests);
    stops both on exit, saving ``state_file`` when given.
    """
    app = MetaSandbox(config or MetaSandboxConfig.demo(), state_file=state_file)
    with serve_in_background(app, port, app.limits) as server:
        yield server, app
