"""Validation of Airflow connection extras against ``include/schemas/connections/<type>.json``.

Extras are allowlisted by name (style rule 6): anything the schema does not know
is refused, so a typo never silently changes behaviour and ``**extras`` never
reaches a client. Pure core: takes plain dicts, no Airflow.
"""

from __future__ import annotations

from collections.abc import Mapping
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
