"""Where the project's files live.

The project is installed editable (``pip install -e .``), so the package sits in
``<project>/plugins/behavior_sync`` and the project root is two levels up. Every
location can be overridden by an environment variable, which is how tests and
deployments point the code elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_DIR = Path(os.environ.get("BEHAVIOR_SYNC_PROJECT_DIR") or Path(__file__).resolve().parents[2])


def behaviors_dir() -> Path:
    """Folder of behavior files (``BEHAVIOR_SYNC_BEHAVIORS_DIR`` or ``include/behaviors``)."""
    return Path(os.environ.get("BEHAVIOR_SYNC_BEHAVIORS_DIR") or PROJECT_DIR / "include" / "behaviors")


def imports_dir() -> Path:
    """Folder of import files (``BEHAVIOR_SYNC_IMPORTS_DIR`` or ``include/imports``)."""
    return Path(os.environ.get("BEHAVIOR_SYNC_IMPORTS_DIR") or PROJECT_DIR / "include" / "imports")


def schemas_dir() -> Path:
    """Folder of JSON Schemas and expectation suites (``include/schemas``)."""
    return PROJECT_DIR / "include" / "schemas"


def sql_dir() -> Path:
    """Folder of SQL files (``include/sql``); behavior ``query`` paths are relative to the project root."""
    return PROJECT_DIR / "include" / "sql"


def default_data_dir() -> Path:
    """Git-ignored folder for the demo warehouse, state database and artifacts (``data/``)."""
    return Path(os.environ.get("BEHAVIOR_SYNC_DATA_DIR") or PROJECT_DIR / "data")
