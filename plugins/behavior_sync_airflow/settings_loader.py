"""Load ``airflow_settings.yaml`` (Astro CLI format) into the Airflow metadata database.

    python -m behavior_sync_airflow.settings_loader [PATH] [--check]

Plain Airflow does not read ``airflow_settings.yaml`` (it is an Astro CLI convention), so
``make run`` loads it with this module: connections, pools and variables are upserted in one
process and one transaction through Airflow's ORM (instead of three ``airflow ... import``
CLI start-ups). Re-running updates existing entries and never duplicates them. ``--check``
only reads, expands and validates the file (no Airflow import, no database).

The format (astro-cli ``settings/types.go``)::

    airflow:
      connections:   # conn_id, conn_type, conn_host, conn_schema, conn_login, conn_password,
                     # conn_port, conn_uri, conn_extra (a mapping, or a JSON object string)
      pools:         # pool_name, pool_slot, pool_description
      variables:     # variable_name, variable_value

plus three optional keys Astro does not have: ``conn_description``, ``variable_description``
and ``pool_include_deferred`` (whether deferred tasks hold a pool slot; default false).

``${NAME}`` in any string is replaced by the environment variable NAME (``PROJECT_DIR``
defaults to the project's directory, ``BEHAVIOR_SYNC_DATA_DIR`` to ``${PROJECT_DIR}/data``); an
unknown name is an error. A key that is missing or
null means "not set"; an entry whose keys are all null is skipped (Astro's template has one).
The rest is checked against ``include/schemas/airflow_settings.schema.json``.
Each entry loaded prints one line without secrets: connection id, type and host only.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from behavior_sync.paths import PROJECT_DIR
from behavior_sync.schema_validation import Problem, validate_with_defaults

PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")

SCHEMA = "airflow_settings.schema.json"
NAME_KEYS = {"connections": "conn_id", "pools": "pool_name", "variables": "variable_name"}
ENTRY_PATH = re.compile(r"^airflow\.(connections|pools|variables)\[(\d+)\]")
TYPE_ERROR = re.compile(r"^.* is not of type ", re.DOTALL)  # keeps values (secrets) out


class SettingsError(ValueError):
    """The settings file is unreadable or invalid; the message names the entry and the field."""


@dataclass(frozen=True)
class ConnectionSpec:
    """One connection, as the ``airflow.models.Connection`` constructor takes it."""

    conn_id: str
    conn_type: str | None = None
    host: str | None = None
    schema: str | None = None
    login: str | None = None
    password: str | None = None
    port: int | None = None
    uri: str | None = None
    extra: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class PoolSpec:
    """One pool."""

    name: str
    slots: int
    description: str = ""
    include_deferred: bool = False


@dataclass(frozen=True)
class VariableSpec:
    """One variable; non-string YAML values are stored as JSON text (as ``variables import`` does)."""

    key: str
    value: str
    description: str | None = None


@dataclass(frozen=True)
class Settings:
    """Everything a settings file declares, validated and with placeholders expanded."""

    connections: tuple[ConnectionSpec, ...] = ()
    pools: tuple[PoolSpec, ...] = ()
    variables: tuple[VariableSpec, ...] = ()


# ---- reading and validating --------------------------------------------------------------


def default_settings_path() -> Path:
    """``airflow_settings.yaml`` in the project directory."""
    return PROJECT_DIR / "airflow_settings.yaml"


def placeholder_values(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The names ``${...}`` may use: the environment, with ``PROJECT_DIR`` defaulting to the project and
    ``BEHAVIOR_SYNC_DATA_DIR`` (the demo's data folder, scripts/env.sh) to ``<PROJECT_DIR>/data``."""
    values = {"PROJECT_DIR": str(PROJECT_DIR)}
    values.update(os.environ if environ is None else environ)
    values.setdefault("BEHAVIOR_SYNC_DATA_DIR", f"{values['PROJECT_DIR']}/data")
    return values


def expand_placeholders(value: Any, values: Mapping[str, str], where: str) -> Any:
    """Replace ``${NAME}`` in every string inside ``value`` (mapping keys excepted)."""
    if isinstance(value, str):

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in values:
                raise SettingsError(f"{where}: unknown placeholder ${{{name}}} (no environment variable {name})")
            return values[name]

        return PLACEHOLDER.sub(substitute, value)
    if isinstance(value, Mapping):
        return {k: expand_placeholders(v, values, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [expand_placeholders(v, values, f"{where}[{i}]") for i, v in enumerate(value)]
    return value


def read_settings(path: Path, environ: Mapping[str, str] | None = None) -> Settings:
    """Parse, expand and validate a settings file; raises ``SettingsError`` naming every problem."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SettingsError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise SettingsError(f"{path}: not valid YAML: {exc}") from exc
    try:
        return parse_settings(document, placeholder_values(environ))
    except SettingsError as exc:
        raise SettingsError(f"{path}: {exc}") from exc


def parse_settings(document: Any, values: Mapping[str, str]) -> Settings:
    """Expand placeholders in a parsed document (``{"airflow": {...}}``), validate it against
    ``include/schemas/airflow_settings.schema.json`` and build the specs.

    Raises ``SettingsError`` listing every problem, ``; ``-separated, each as ``<field>: <message>``
    where an entry is named by its index in the file and its name: ``airflow.pools[1] (p1).pool_slot``.
    """
    if document is None:
        return Settings()
    airflow, origin = _without_nulls(document.get("airflow") if isinstance(document, Mapping) else None)
    if isinstance(airflow, Mapping):
        try:
            document = {**document, "airflow": expand_placeholders(airflow, values, "airflow")}
        except SettingsError as exc:
            raise SettingsError(_label(str(exc), airflow, origin)) from exc
    filled, problems = validate_with_defaults(document, SCHEMA)
    if problems:
        raise SettingsError(
            "; ".join(
                str(Problem(_label(p.field, airflow, origin), TYPE_ERROR.sub("must be of type ", p.message)))
                for p in problems
            )
        )
    sections = filled.get("airflow") or {}
    settings = Settings(
        connections=tuple(
            _connection(fields, _label(f"airflow.connections[{i}]", airflow, origin))
            for i, fields in enumerate(sections.get("connections") or [])
        ),
        pools=tuple(_pool(fields) for fields in sections.get("pools") or []),
        variables=tuple(_variable(fields) for fields in sections.get("variables") or []),
    )
    _check_unique("connections", [c.conn_id for c in settings.connections])
    _check_unique("pools", [p.name for p in settings.pools])
    _check_unique("variables", [v.key for v in settings.variables])
    return settings


def _without_nulls(airflow: Any) -> tuple[Any, dict[str, list[int]]]:
    """Drop null keys ("not set") and then empty entries from each section of ``airflow``.

    Returns the cleaned copy and, per section, the index in the file of each entry kept.
    """
    if not isinstance(airflow, Mapping):
        return airflow, {}
    airflow, origin = dict(airflow), dict[str, list[int]]()
    for section in NAME_KEYS:
        if isinstance(airflow.get(section), list):
            kept = [
                (i, {k: v for k, v in e.items() if v is not None} if isinstance(e, Mapping) else e)
                for i, e in enumerate(airflow[section])
            ]
            kept = [(i, e) for i, e in kept if e != {}]
            origin[section], airflow[section] = [i for i, _ in kept], [e for _, e in kept]
    return airflow, origin


def _label(text: str, airflow: Any, origin: Mapping[str, list[int]]) -> str:
    """Rewrite a leading ``airflow.<section>[i]`` (i-th kept entry) as the entry's index in the file and its name."""
    match = ENTRY_PATH.match(text)
    if not match or match[1] not in origin:
        return text
    entry = airflow[match[1]][int(match[2])]
    name = entry.get(NAME_KEYS[match[1]]) if isinstance(entry, Mapping) else None
    named = f" ({name})" if isinstance(name, str) and name else ""
    return f"airflow.{match[1]}[{origin[match[1]][int(match[2])]}]{named}{text[match.end() :]}"


def _check_unique(section: str, names: Sequence[str]) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise SettingsError(f"airflow.{section}: '{name}' is declared twice")
        seen.add(name)


def _connection(fields: Mapping[str, Any], where: str) -> ConnectionSpec:
    """Build a ConnectionSpec from a validated entry."""
    port = fields.get("conn_port")
    return ConnectionSpec(
        conn_id=fields["conn_id"],
        conn_type=fields.get("conn_type"),
        host=fields.get("conn_host"),
        schema=fields.get("conn_schema"),
        login=fields.get("conn_login"),
        password=fields.get("conn_password"),
        port=None if port is None else int(port),
        uri=fields.get("conn_uri"),
        extra=_extra_json(fields.get("conn_extra"), where),
        description=fields.get("conn_description"),
    )


def _extra_json(value: Any, where: str) -> str | None:
    """``conn_extra`` as the JSON object text Airflow stores (a mapping or a JSON object string)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise SettingsError(f"{where}: conn_extra is a string but not JSON: {exc.msg}") from exc
        if not isinstance(value, Mapping):
            raise SettingsError(f"{where}: conn_extra is a string but not a JSON object")
    return None if value is None else json.dumps(value)


def _pool(fields: Mapping[str, Any]) -> PoolSpec:
    """Build a PoolSpec from a validated entry (defaults filled)."""
    return PoolSpec(
        name=fields["pool_name"],
        slots=int(fields["pool_slot"]),
        description=fields["pool_description"],
        include_deferred=fields["pool_include_deferred"],
    )


def _variable(fields: Mapping[str, Any]) -> VariableSpec:
    """Build a VariableSpec from a validated entry; non-string values are stored as JSON text."""
    value = fields["variable_value"]
    return VariableSpec(
        key=fields["variable_name"],
        value=value if isinstance(value, str) else json.dumps(value),
        description=fields.get("variable_description"),
    )


def load_settings(path: Path, environ: Mapping[str, str] | None = None) -> list[str]:
    """Read ``path`` and upsert everything in one transaction; returns the report lines. Raises SettingsError
    for an invalid file, or when connections would be stored without a Fernet key (unencrypted)."""
    settings = read_settings(path, environ)
    from airflow.models.crypto import get_fernet
    from airflow.utils.session import create_session

    if settings.connections and not get_fernet().is_encrypted:
        raise SettingsError(
            "no Fernet key: connection passwords and extras would be stored in plain text; set "
            "AIRFLOW__CORE__FERNET_KEY (make run keeps one in the Airflow home's fernet_key file)"
        )

    from behavior_sync_airflow.settings_store import apply_settings

    with create_session() as session:
        return apply_settings(settings, session)


# ---- command line --------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (1 when the file is invalid)."""
    parser = argparse.ArgumentParser(
        prog="python -m behavior_sync_airflow.settings_loader",
        description="Load connections, pools and variables from airflow_settings.yaml (Astro CLI format).",
    )
    parser.add_argument(
        "path",
        nargs="?",
        type=Path,
        default=default_settings_path(),
        help="settings file (default: airflow_settings.yaml in the project directory)",
    )
    parser.add_argument(
        "--check", action="store_true", help="only read, expand and validate the file; touch no database"
    )
    args = parser.parse_args(argv)
    try:
        if args.check:
            settings = read_settings(args.path)
            print(
                f"{args.path}: ok ({len(settings.connections)} connection(s), {len(settings.pools)} pool(s), "
                f"{len(settings.variables)} variable(s))"
            )
            return 0
        for line in load_settings(args.path):
            print(line)
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
