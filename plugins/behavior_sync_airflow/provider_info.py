"""Provider metadata: registers Behavior Sync's connection types with Airflow.

Airflow discovers it through the ``apache_airflow_provider`` entry point in
pyproject.toml (custom connection types cannot come from plugins/). The form
fields are generated from the connection-extras JSON Schemas in
``include/schemas/connections/`` so the UI form and the hooks' validation share
one definition. Importing this module must stay cheap: no airflow import.
"""

from __future__ import annotations

from typing import Any

from behavior_sync import __version__
from behavior_sync.schema_validation import load_schema

CONNECTION_SCHEMAS = ("warehouse", "sync_state", "meta_ads", "google_ads", "hubspot", "clevertap")


def _conn_field(spec: dict[str, Any]) -> dict[str, Any]:
    schema = {k: v for k, v in spec.items() if k not in {"title", "description"}}
    if "enum" in schema and "type" not in schema:
        schema["type"] = ["string", "null"]
    return {"label": spec.get("title", ""), "description": spec.get("description"), "schema": schema}


def _connection_type(conn_type: str) -> dict[str, Any]:
    schema = load_schema(f"connections/{conn_type}.json")
    airflow = schema["x-airflow"]
    return {
        "connection-type": airflow["connection-type"],
        "hook-class-name": airflow["hook-class-name"],
        "hook-name": airflow["hook-name"],
        "ui-field-behaviour": airflow["ui-field-behaviour"],
        "conn-fields": {name: _conn_field(spec) for name, spec in schema["properties"].items()},
    }


def get_provider_info() -> dict[str, Any]:
    """What Airflow's ProvidersManager reads; ``package-name`` must equal the distribution name."""
    return {
        "package-name": "behavior-sync",
        "name": "Behavior Sync",
        "description": "Sync warehouse behaviors to Meta, Google Ads, HubSpot and CleverTap.",
        "versions": [__version__],
        "connection-types": [_connection_type(t) for t in CONNECTION_SCHEMAS],
    }
