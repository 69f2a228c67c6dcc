"""Command-line arguments shared by several commands of ``python -m behavior_sync``."""

from __future__ import annotations

import argparse
import os

from behavior_sync.paths import default_data_dir


def add_state_url(parser: argparse.ArgumentParser) -> None:
    """Adds ``--state-url``: the state database's SQLAlchemy URL (default ``$BEHAVIOR_SYNC_STATE_URL``, else
    ``data/state.db``)."""
    parser.add_argument(
        "--state-url",
        default=os.environ.get("BEHAVIOR_SYNC_STATE_URL") or f"sqlite:///{default_data_dir() / 'state.db'}",
        help="SQLAlchemy URL of the state database (default: $BEHAVIOR_SYNC_STATE_URL or data/state.db)",
    )
