"""``python -m sandbox.clevertap [--port N] [--config FILE] [--state FILE]``: run the CleverTap sandbox.

Serves on 127.0.0.1 in the foreground until Ctrl-C. Without ``--config`` it uses the demo config
(account ``SANDBOX-000-0001``, region ``us1``, passcode from sandbox/clevertap/README.md). With
``--state`` profiles and events survive restarts (saved every few seconds and at exit).
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence
from pathlib import Path

from sandbox.clevertap.app import CleverTapSandbox
from sandbox.clevertap.config import DEMO_ACCOUNT_ID, DEMO_REGION, CleverTapSandboxConfig
from sandbox.common.http import serve_forever

DEFAULT_PORT = 8703


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments and serve until interrupted; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m sandbox.clevertap", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port on 127.0.0.1 (default {DEFAULT_PORT})")
    parser.add_argument("--state", type=Path, help="JSON state file kept across restarts")
    parser.add_argument("--config", type=Path, help="JSON config (accounts, limits, faults); default: demo")
    parser.add_argument("--log-level", default="INFO", help="logging level (default INFO)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = CleverTapSandboxConfig.load(args.config) if args.config else CleverTapSandboxConfig.demo()
    if args.config is None:
        # The demo passcode is a public, documented placeholder; passcodes are never logged.
        logging.getLogger(__name__).info(
            "demo config: account %s in %s, passcode in the README", DEMO_ACCOUNT_ID, DEMO_REGION
        )
    app = CleverTapSandbox(config, state_file=args.state)
    serve_forever(app, args.port, app.limits)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
