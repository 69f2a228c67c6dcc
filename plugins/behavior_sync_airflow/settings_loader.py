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
defaults to the project's directory); an unknown name is an error. A key that is missing or
null means "not set"; an entry whose keys are all null is skipped (Astro's template has one).
Each entry loaded prints one line without secrets: connection id, type and host only.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from behavior_sync.paths import PROJECT_DIR

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")

CONNECTION_KEYS = frozenset(
    {"conn_id", "conn_type", "conn_host", "conn_schema", "conn_login", "conn_password", "conn_port",
     "conn_uri", "conn_extra", "conn_description"}
)
POOL_KEYS = frozenset({"pool_name", "pool_slot", "pool_description", "pool_include_deferred"})
VARIABLE_KEYS = frozenset({"variable_name", "variable_value", "variable_description"})
SECTIONS = ("connections", "pools", "variables")


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
    """The names ``${...}`` may use: the environment, with ``PROJECT_DIR`` defaulting to the project."""
    values = {"PROJECT_DIR": str(PROJECT_DIR)}
    values.update(os.environ if environ is None else environ)
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
    """Parse, expand and validate a settings file; raises ``SettingsError`` naming the problem."""
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
    """Validate an already-parsed YAML document (``{"airflow": {...}}``) and expand placeholders."""
    if document is None:
        return Settings()
    if not isinstance(document, Mapping):
        raise SettingsError("the file must be a mapping with the single key 'airflow'")
    unknown = sorted(set(document) - {"airflow"})
    if unknown:
        raise SettingsError(f"unknown top-level key(s) {', '.join(map(str, unknown))} (only 'airflow' is allowed)")
    airflow = document.get("airflow") or {}
    if not isinstance(airflow, Mapping):
        raise SettingsError("airflow: must be a mapping with connections, pools and/or variables")
    unknown = sorted(set(airflow) - set(SECTIONS))
    if unknown:
        raise SettingsError(f"airflow: unknown key(s) {', '.join(map(str, unknown))} (allowed: {', '.join(SECTIONS)})")
    settings = Settings(
        connections=tuple(_entries(airflow, "connections", CONNECTION_KEYS, _connection, values)),
        pools=tuple(_entries(airflow, "pools", POOL_KEYS, _pool, values)),
        variables=tuple(_entries(airflow, "variables", VARIABLE_KEYS, _variable, values)),
    )
    _check_unique("connections", [c.conn_id for c in settings.connections])
    _check_unique("pools", [p.name for p in settings.pools])
    _check_unique("variables", [v.key for v in settings.variables])
    return settings


def _entries(
    airflow: Mapping[str, Any],
    section: str,
    allowed: frozenset[str],
    build: Callable[[dict[str, Any], str], Any],
    values: Mapping[str, str],
) -> list[Any]:
    """Validate and build every entry of one section; empty entries are skipped."""
    raw = airflow.get(section) or []
    if not isinstance(raw, list):
        raise SettingsError(f"airflow.{section}: must be a list of entries")
    built = []
    for index, entry in enumerate(raw):
        where = f"airflow.{section}[{index}]"
        if not isinstance(entry, Mapping):
            raise SettingsError(f"{where}: must be a mapping, got {type(entry).__name__}")
        name = entry.get(next(k for k in ("conn_id", "pool_name", "variable_name") if k in allowed))
        if isinstance(name, str) and name:
            where = f"{where} ({name})"
        unknown = sorted(set(map(str, entry)) - allowed)
        if unknown:
            raise SettingsError(f"{where}: unknown field(s) {', '.join(unknown)} (allowed: {', '.join(sorted(allowed))})")
        fields = {str(k): v for k, v in entry.items() if v is not None}
        if not fields:
            continue
        built.append(build(expand_placeholders(fields, values, where), where))
    return built


def _check_unique(section: str, names: Sequence[str]) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise SettingsError(f"airflow.{section}: '{name}' is declared twice")
        seen.add(name)


def _string(fields: Mapping[str, Any], key: str, where: str, *, required: bool = False) -> str | None:
    """A string field; required ones must be present and non-empty."""
    value = fields.get(key)
    if value is None:
        if required:
            raise SettingsError(f"{where}: {key} is required")
        return None
    if not isinstance(value, str):
        raise SettingsError(f"{where}: {key} must be a string, got {type(value).__name__} {value!r}")
    return value


def _integer(fields: Mapping[str, Any], key: str, where: str, *, required: bool = False, minimum: int = 0) -> int | None:
    """An integer field (an int, or a string of digits after placeholder expansion)."""
    value = fields.get(key)
    if value is None:
        if required:
            raise SettingsError(f"{where}: {key} is required")
        return None
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise SettingsError(f"{where}: {key} must be an integer, got {value!r}")
    if value < minimum:
        raise SettingsError(f"{where}: {key} must be >= {minimum}, got {value}")
    return value


def _connection(fields: dict[str, Any], where: str) -> ConnectionSpec:
    """Build a ConnectionSpec; ``conn_uri`` excludes the individual fields, as in Airflow."""
    conn_id = _string(fields, "conn_id", where, required=True)
    uri = _string(fields, "conn_uri", where)
    individual = sorted(k for k in fields if k not in {"conn_id", "conn_uri", "conn_description"})
    if uri is not None and individual:
        raise SettingsError(f"{where}: conn_uri cannot be combined with {', '.join(individual)}")
    return ConnectionSpec(
        conn_id=str(conn_id),
        conn_type=_string(fields, "conn_type", where, required=uri is None),
        host=_string(fields, "conn_host", where),
        schema=_string(fields, "conn_schema", where),
        login=_string(fields, "conn_login", where),
        password=_string(fields, "conn_password", where),
        port=_integer(fields, "conn_port", where, minimum=1),
        uri=uri,
        extra=_extra_json(fields.get("conn_extra"), where),
        description=_string(fields, "conn_description", where),
    )


def _extra_json(value: Any, where: str) -> str | None:
    """``conn_extra`` as the JSON object text Airflow stores (a mapping or a JSON object string)."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise SettingsError(f"{where}: conn_extra is a string but not JSON: {exc.msg}") from exc
    if not isinstance(value, Mapping):
        raise SettingsError(f"{where}: conn_extra must be a mapping, got {type(value).__name__}")
    return json.dumps(value)


def _pool(fields: dict[str, Any], where: str) -> PoolSpec:
    """Build a PoolSpec."""
    include_deferred = fields.get("pool_include_deferred", False)
    if not isinstance(include_deferred, bool):
        raise SettingsError(f"{where}: pool_include_deferred must be true or false, got {include_deferred!r}")
    return PoolSpec(
        name=str(_string(fields, "pool_name", where, required=True)),
        slots=int(_integer(fields, "pool_slot", where, required=True, minimum=-1) or 0),  # -1: unlimited
        description=_string(fields, "pool_description", where) or "",
        include_deferred=include_deferred,
    )


def _variable(fields: dict[str, Any], where: str) -> VariableSpec:
    """Build a VariableSpec; a missing (null) value is an error, an empty string is a value."""
    if "variable_value" not in fields:
        raise SettingsError(f"{where}: variable_value is required")
    value = fields["variable_value"]
    return VariableSpec(
        key=str(_string(fields, "variable_name", where, required=True)),
        value=value if isinstance(value, str) else json.dumps(value),
        description=_string(fields, "variable_description", where),
    )


# ---- writing -------------------------------------------------------------------------------


def apply_settings(settings: Settings, session: Session) -> list[str]:
    """Upsert every entry in ``session`` (the caller commits); returns one report line per entry."""
    lines = [upsert_connection(spec, session) for spec in settings.connections]
    lines += [upsert_pool(spec, session) for spec in settings.pools]
    lines += [upsert_variable(spec, session) for spec in settings.variables]
    return lines


CONNECTION_FIELDS = ("conn_type", "description", "host", "schema", "login", "password", "port", "extra")


def upsert_connection(spec: ConnectionSpec, session: Session) -> str:
    """Create or update one connection (fields not given are cleared); returns its report line."""
    from sqlalchemy import select

    from airflow.models import Connection

    wanted = Connection(
        conn_id=spec.conn_id, conn_type=spec.conn_type, description=spec.description, host=spec.host,
        login=spec.login, password=spec.password, schema=spec.schema, port=spec.port, extra=spec.extra,
        uri=spec.uri,
    )
    existing = session.scalar(select(Connection).where(Connection.conn_id == spec.conn_id))
    if existing is None:
        session.add(wanted)
        action = "created"
    elif all(getattr(existing, f) == getattr(wanted, f) for f in CONNECTION_FIELDS):
        action = "unchanged"
    else:
        for field in CONNECTION_FIELDS:
            setattr(existing, field, getattr(wanted, field))
        action = "updated"
    return f"connection {spec.conn_id} (type {wanted.conn_type}, host {wanted.host or '-'}): {action}"


def upsert_pool(spec: PoolSpec, session: Session) -> str:
    """Create or update one pool; returns its report line."""
    from sqlalchemy import select

    from airflow.models.pool import Pool

    existing = session.scalar(select(Pool).where(Pool.pool == spec.name))
    if existing is None:
        action = "created"
    elif (existing.slots, existing.description or "", bool(existing.include_deferred)) == (
        spec.slots, spec.description, spec.include_deferred
    ):
        action = "unchanged"
    else:
        action = "updated"
    Pool.create_or_update_pool(
        name=spec.name, slots=spec.slots, description=spec.description,
        include_deferred=spec.include_deferred, session=session,
    )
    return f"pool {spec.name} ({spec.slots} slots): {action}"


def upsert_variable(spec: VariableSpec, session: Session) -> str:
    """Create or update one variable (value not printed: it may be a secret); returns its report line."""
    from sqlalchemy import select

    from airflow.models import Variable

    existing = session.scalar(select(Variable).where(Variable.key == spec.key))
    if existing is None:
        action = "created"
    elif existing.val == spec.value and existing.description == spec.description:
        action = "unchanged"
    else:
        action = "updated"
    Variable.set(key=spec.key, value=spec.value, description=spec.description, session=session)
    return f"variable {spec.key}: {action}"


def load_settings(path: Path, environ: Mapping[str, str] | None = None) -> list[str]:
    """Read ``path`` and upsert everything in one transaction; returns the report lines."""
    settings = read_settings(path, environ)
    from airflow.utils.session import create_session

    with create_session() as session:
        return apply_settings(settings, session)


# ---- command line --------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (1 when the file is invalid)."""
    parser = argparse.ArgumentParser(
        prog="python -m behavior_sync_airflow.settings_loader",
        description="Load connections, pools and variables from airflow_settings.yaml (Astro CLI format).",
    )
    parser.add_argument("path", nargs="?", type=Path, default=default_settings_path(),
                        help="settings file (default: airflow_settings.yaml in the project directory)")
    parser.add_argument("--check", action="store_true",
                        help="only read, expand and validate the file; touch no database")
    args = parser.parse_args(argv)
    try:
        if args.check:
            settings = read_settings(args.path)
            print(f"{args.path}: ok ({len(settings.connections)} connection(s), {len(settings.pools)} pool(s), "
                  f"{len(settings.variables)} variable(s))")
            return 0
        for line in load_settings(args.path):
            print(line)
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
