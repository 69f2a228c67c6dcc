"""Write the entries of ``airflow_settings.yaml`` into Airflow's metadata DB (create or update, never duplicate).

Used by ``behavior_sync_airflow.settings_loader``; each function works in the caller's ORM session
and returns one report line without secrets.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from behavior_sync_airflow.settings_loader import ConnectionSpec, PoolSpec, Settings, VariableSpec

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


def apply_settings(settings: Settings, session: Session) -> list[str]:
    """Upsert every entry in ``session`` (the caller commits); returns one report line per entry."""
    lines = [upsert_connection(spec, session) for spec in settings.connections]
    lines += [upsert_pool(spec, session) for spec in settings.pools]
    lines += [upsert_variable(spec, session) for spec in settings.variables]
    return lines


CONNECTION_FIELDS = ("conn_type", "description", "host", "schema", "login", "password", "port", "extra")


def upsert_connection(spec: ConnectionSpec, session: Session) -> str:
    """Create or update one connection (fields not given are cleared); returns its report line."""
    from airflow.models import Connection
    from sqlalchemy import select

    wanted = Connection(
        conn_id=spec.conn_id,
        conn_type=spec.conn_type,
        description=spec.description,
        host=spec.host,
        login=spec.login,
        password=spec.password,
        schema=spec.schema,
        port=spec.port,
        extra=spec.extra,
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
    from airflow.models.pool import Pool
    from sqlalchemy import select

    existing = session.scalar(select(Pool).where(Pool.pool == spec.name))
    if existing is None:
        action = "created"
    elif (existing.slots, existing.description or "", bool(existing.include_deferred)) == (
        spec.slots,
        spec.description,
        spec.include_deferred,
    ):
        action = "unchanged"
    else:
        action = "updated"
    Pool.create_or_update_pool(
        name=spec.name,
        slots=spec.slots,
        description=spec.description,
        include_deferred=spec.include_deferred,
        session=session,
    )
    return f"pool {spec.name} ({spec.slots} slots): {action}"


def upsert_variable(spec: VariableSpec, session: Session) -> str:
    """Create or update one variable (value not printed: it may be a secret); returns its report line."""
    from airflow.models import Variable
    from sqlalchemy import select

    existing = session.scalar(select(Variable).where(Variable.key == spec.key))
    if existing is None:
        action = "created"
    elif existing.val == spec.value and existing.description == spec.description:
        action = "unchanged"
    else:
        action = "updated"
    Variable.set(key=spec.key, value=spec.value, description=spec.description, session=session)
    return f"variable {spec.key}: {action}"
