"""``python -m sandbox.hubspot [--port N] [--config FILE] [--state FILE]``: run the HubSpot sandbox.

Serves on 127.0.0.1 in the foreground until Ctrl-C. Without ``--config`` it uses the demo
config (private-app token ``sandbox-hubspot-token`` and Service Key ``sandbox-hubspot-service-key``,
both with every scope, professional portal 1000001, three seeded contacts). With ``--state`` lists,
contacts and properties survive restarts (saved every few seconds and at exit).
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence
from pathlib import Path

from sandbox.common.http import serve_forever
from sandbox.hubspot.app import HubSpotSandbox
from sandbox.hubspot.config import DEMO_PORTAL_ID, HubSpotSandboxConfig

DEFAULT_PORT = 8702


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments and serve until interrupted; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m sandbox.hubspot", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port on 127.0.0.1 (default {DEFAULT_PORT})")
    parser.add_argument("--state", type=Path, help="JSON state file kept across restarts")
    parser.add_argument("--config", type=Path, help="JSON config (portals, tokens, limits, faults); default: demo")
    parser.add_argument("--log-level", default="INFO", help="logging level (default INFO)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = HubSpotSandboxConfig.load(args.config) if args.config else HubSpotSandboxConfig.demo()
    if args.config is None:
        # The demo token is a public, documented placeholder; real tokens are never logged.
        logging.getLogger(__name__).info("demo config: portal %s, token from sandbox/hubspot/README.md", DEMO_PORTAL_ID)
    app = HubSpotSandbox(config, state_file=args.state)
    serve_forever(app, args.port, app.limits)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
