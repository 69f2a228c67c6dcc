"""Validation of Airflow connection extras against ``include/schemas/connections/<type>.json``.

Extras are allowlisted by name (style rule 6): anything the schema does not know
is refused, so a typo never silently changes behaviour and ``**extras`` never
reaches a client. Pure core: takes plain dicts, no Airflow.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import make_url

from behavior_sync.schema_validation import load_schema, validate_with_defaults


class ConnectionSettingsError(ValueError):
    """A connection whose extras do not match its type's schema; names the connection and fields."""


def validated_extras(conn_type: str, conn_id: str, extras: Mapping[str, Any]) -> dict[str, Any]:
    """Return the extras with defaults filled; empty values (None, "") count as unset.

    Raises ConnectionSettingsError naming ``conn_id`` and every bad field; values are not echoed
    for fields whose schema marks them as passwords.
    """
    schema_name = f"connections/{conn_type}.json"
    present = {k: v for k, v in extras.items() if v not in (None, "")}
    filled, problems = validate_with_defaults(present, schema_name)
    if problems:
        secret = {k for k, s in load_schema(schema_name)["properties"].items() if s.get("format") == "password"}
        lines = [f"{p.field}: invalid value" if p.field in secret else str(p) for p in problems]
        raise ConnectionSettingsError(f"connection {conn_id!r} ({conn_type}): " + "; ".join(lines))
    return dict(filled)


def url_with_password(url: str, password: str | None) -> str:
    """Insert the connection's password into a SQLAlchemy URL that has none (the password stays out of extras)."""
    parsed = make_url(url)
    if password and not parsed.password:
        parsed = parsed.set(password=password)
    return parsed.render_as_string(hide_password=False)


@dataclass(frozen=True)
class ConnectionValues:
    """An Airflow connection's fields the project uses, read without importing Airflow (CLI commands)."""

    conn_type: str
    host: str | None
    password: str | None = field(repr=False)
    extra: Mapping[str, Any]


def read_connection(conn_id: str) -> ConnectionValues:
    """The connection ``conn_id``: from ``AIRFLOW_CONN_<ID>`` (JSON form) when set, else from
    ``airflow connections get`` (secrets backends and the metadata database). Raises
    ConnectionSettingsError when neither has it. The password is never printed."""
    raw = os.environ.get(f"AIRFLOW_CONN_{conn_id.upper()}")
    if raw and raw.lstrip().startswith("{"):
        data = json.loads(raw)
        extra = data.get("extra") or {}
        return ConnectionValues(str(data.get("conn_type") or ""), data.get("host"), data.get("password"),
                                json.loads(extra) if isinstance(extra, str) else extra)  # fmt: skip
    airflow = shutil.which("airflow")
    if airflow is None:
        raise ConnectionSettingsError(f"connection {conn_id!r} is not in AIRFLOW_CONN_{conn_id.upper()} and the "
                                      "airflow command is not on PATH: run `source scripts/env.sh` first")  # fmt: skip
    done = subprocess.run([airflow, "connections", "get", conn_id, "-o", "json"], capture_output=True, text=True)
    if done.returncode != 0:
        raise ConnectionSettingsError(f"connection {conn_id!r} not found (airflow connections get failed)")
    item = json.loads(done.stdout)[0]
    return ConnectionValues(str(item.get("conn_type") or ""), item.get("host"), item.get("password"),
                            item.get("extra_dejson") or {})  # fmt: skip
