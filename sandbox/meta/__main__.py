"""``python -m sandbox.meta [--port N] [--state FILE] [--config FILE]``: run the Meta sandbox.

Serves on 127.0.0.1 in the foreground until Ctrl-C. Without ``--config`` it uses the demo
config (token ``sandbox-meta-token``, ad account ``act_1000000001``). With ``--state`` the
audiences survive restarts (saved every few seconds and at exit).
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence
from pathlib import Path

from sandbox.common.http import serve_forever
from sandbox.meta.app import MetaSandbox
from sandbox.meta.config import DEMO_AD_ACCOUNT, DEMO_TOKEN, MetaSandboxConfig

DEFAULT_PORT = 8701


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments and serve until interrupted; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m sandbox.meta", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port on 127.0.0.1 (default {DEFAULT_PORT})")
    parser.add_argument("--state", type=Path, help="JSON state file kept across restarts")
    parser.add_argument("--config", type=Path, help="JSON config (tokens, budgets, faults); default: demo")
    parser.add_argument("--log-level", default="INFO", help="logging level (default INFO)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = MetaSandboxConfig.load(args.config) if args.config else MetaSandboxConfig.demo()
    if args.config is None:
        logging.getLogger(__name__).info("demo config: token %s, ad account act_%s", DEMO_TOKEN, DEMO_AD_ACCOUNT)
    app = MetaSandbox(config, state_file=args.state)
    serve_forever(app, args.port, app.limits)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
