"""``python -m sandbox.google_data_manager [--port N] [--config FILE] [--state FILE]``: run the Data Manager sandbox.

Serves on 127.0.0.1 in the foreground until Ctrl-C. Without ``--config`` it uses the demo config
(Google Ads account ``1234567890`` accessible, anonymous credentials or the README's demo token,
60 s processing delay). With ``--state`` user lists, members and requests survive restarts.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence
from pathlib import Path

from sandbox.common.http import serve_forever
from sandbox.google_data_manager.app import GoogleDataManagerSandbox
from sandbox.google_data_manager.config import DEMO_ACCOUNT_ID, GoogleDataManagerSandboxConfig

DEFAULT_PORT = 8704


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments and serve until interrupted; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m sandbox.google_data_manager", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port on 127.0.0.1 (default {DEFAULT_PORT})")
    parser.add_argument("--state", type=Path, help="JSON state file kept across restarts")
    parser.add_argument(
        "--config", type=Path, help="JSON config (accounts, credentials, limits, faults); default: demo"
    )
    parser.add_argument("--log-level", default="INFO", help="logging level (default INFO)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = GoogleDataManagerSandboxConfig.load(args.config) if args.config else GoogleDataManagerSandboxConfig.demo()
    if args.config is None:
        logging.getLogger(__name__).info("demo config: Google Ads account %s accessible", DEMO_ACCOUNT_ID)
    app = GoogleDataManagerSandbox(config, state_file=args.state)
    serve_forever(app, args.port, app.limits)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
