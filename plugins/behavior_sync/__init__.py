"""Behavior Sync core: pure Python, no Airflow import (tests/unit/test_core_is_airflow_free.py)."""

from __future__ import annotations

__version__ = "0.1.0"
