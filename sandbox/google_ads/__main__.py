"""``python -m sandbox.google_ads [--port N] [--inspection-port N] [--config FILE] [--state FILE] [--tls-dir DIR]``.

Serves the Google Ads API sandbox (gRPC over TLS) and its HTTP inspection on 127.0.0.1 in the foreground
until Ctrl-C or SIGTERM. Without ``--config`` it uses the demo config (customer ``1234567890``,
developer token ``sandbox-developer-token``, 60 s processing). Clients must trust ``<tls-dir>/trust.pem``
through ``GRPC_DEFAULT_SSL_ROOTS_FILE_PATH`` (see README.md). With ``--state`` lists and jobs survive restarts.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from sandbox.common.http import LOCALHOST, serve_in_background
from sandbox.google_ads import GoogleAdsSandbox, GoogleAdsSandboxConfig, ensure_identity, grpc_server
from sandbox.google_ads.inspection import GoogleAdsInspection

DEFAULT_PORT = 8705
DEFAULT_INSPECTION_PORT = 8706
DEFAULT_TLS_DIR = Path("data/google-ads-sandbox-tls")
logger = logging.getLogger(__name__)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments and serve until interrupted; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m sandbox.google_ads", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"gRPC port (default {DEFAULT_PORT})")
    parser.add_argument(
        "--inspection-port",
        type=int,
        default=DEFAULT_INSPECTION_PORT,
        help=f"HTTP /_sandbox port ({DEFAULT_INSPECTION_PORT})",
    )
    parser.add_argument("--config", type=Path, help="JSON config (customers, tokens, limits, faults); default: demo")
    parser.add_argument("--state", type=Path, help="JSON state file kept across restarts")
    parser.add_argument(
        "--tls-dir", type=Path, default=DEFAULT_TLS_DIR, help=f"TLS identity folder ({DEFAULT_TLS_DIR})"
    )
    parser.add_argument("--log-level", default="INFO", help="logging level (default INFO)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = GoogleAdsSandboxConfig.load(args.config) if args.config else GoogleAdsSandboxConfig.demo()
    app = GoogleAdsSandbox(config, state_file=args.state)
    identity = ensure_identity(args.tls_dir)
    server, port = grpc_server(app, identity, args.port)
    stopping = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server.start()
    try:
        with serve_in_background(GoogleAdsInspection(app), args.inspection_port) as inspection:
            logger.info("gRPC on %s:%s, inspection on %s", LOCALHOST, port, inspection.base_url)
            logger.info("clients: export GRPC_DEFAULT_SSL_ROOTS_FILE_PATH=%s", identity.trust_bundle.resolve())
            stopping.wait()
    finally:
        logger.info("sandbox stopping")
        server.stop(grace=1).wait(5)
        app.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
