"""Committed state: what a destination holds because we put it there, versioned and switched atomically.

A destination's committed state is a Parquet file of (member_key, id_type, value) under the artifacts
base (``<base>/<behavior>/state/<destination id>/v000042-<run>.parquet``), the fingerprints of its
members next to it (``...-<run>.members.parquet``: member_key, fp; fp NULL for a member whose
prepared rows were not all acknowledged) and a pointer row in the state database naming the current
version. A commit writes the new version's files first (atomic writes), then moves the pointer in one
transaction guarded by the version it started from, so a crash leaves the old state or the new one,
never a mix, and two commits cannot both win. States committed before fingerprints existed have no
members file (``members_uri`` None): their next prepare is a full one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pyarrow as pa
import sqlalchemy as sa

from behavior_sync.artifacts import normalize_base, run_key
from behavior_sync.statedb import StateDatabase, now, state_pointer

STATE_SCHEMA = pa.schema([("member_key", pa.string()), ("id_type", pa.string()), ("value", pa.string())])
STATE_MEMBERS_SCHEMA = pa.schema([("member_key", pa.string()), ("fp", pa.uint64())])
# Writes a version's files at (rows uri, members uri); returns (rows, members) written.
StateWriter = Callable[[str, str], tuple[int, int]]


class StateConflict(Exception):
    """Another commit moved the destination's state since this plan read it."""


@dataclass(frozen=True)
class CommittedState:
    """The current committed state of one (behavior, destination)."""

    version: int
    uri: str
    members: int
    rows: int
    run_id: str
    members_uri: str | None = None


class StateStore:
    """Committed states of every (behavior, destination), in ``db`` and under the artifacts ``base``."""

    def __init__(self, db: StateDatabase, base: str) -> None:
        self.db, self.base = db, base

    def current(self, behavior: str, destination_id: str) -> CommittedState | None:
        """The committed state, or None before the first commit."""
        query = sa.select(state_pointer).where(_key(behavior, destination_id))
        with self.db.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        if row is None:
            return None
        return CommittedState(
            row["version"], row["uri"], row["members"], row["rows"], row["run_id"], row["members_uri"]
        )

    def version_uris(self, behavior: str, destination_id: str, version: int, run_id: str) -> tuple[str, str]:
        """Where version ``version`` of the state is written: (rows uri, members uri)."""
        stem = f"{normalize_base(self.base)}/{behavior}/state/{destination_id}/v{version:06d}-{run_key(run_id)}"
        return f"{stem}.parquet", f"{stem}.members.parquet"

    def commit(
        self, behavior: str, destination_id: str, run_id: str, write: StateWriter, based_on: int | None
    ) -> CommittedState:
        """Has ``write`` write the next version's files, then moves the pointer to it.

        ``based_on`` is the version the rows were derived from (None: no state yet). Idempotent: when
        the pointer already names the version this commit would create, written by ``run_id`` (a
        retried commit task), that one is returned and nothing is written. Raises StateConflict when
        the pointer moved since ``based_on``.
        """
        version = (based_on or 0) + 1
        current = self.current(behavior, destination_id)
        if current is not None and current.run_id == run_id and current.version == version:
            return current
        uri, members_uri = self.version_uris(behavior, destination_id, version, run_id)
        rows, members = write(uri, members_uri)
        state = CommittedState(version, uri, members, rows, run_id, members_uri)
        self._move_pointer(behavior, destination_id, state, based_on)
        return state

    def _move_pointer(self, behavior: str, destination_id: str, state: CommittedState, based_on: int | None) -> None:
        values = {
            "version": state.version,
            "uri": state.uri,
            "members": state.members,
            "rows": state.rows,
            "run_id": state.run_id,
            "members_uri": state.members_uri,
            "committed_at": now(),
        }
        with self.db.engine.begin() as conn:
            if based_on is None:
                existing = conn.execute(sa.select(state_pointer.c.version).where(_key(behavior, destination_id)))
                if existing.first() is not None:
                    raise StateConflict(f"{behavior}/{destination_id}: a state was committed since this plan was made")
                conn.execute(state_pointer.insert().values(behavior=behavior, destination_id=destination_id, **values))
                return
            guard = _key(behavior, destination_id) & (state_pointer.c.version == based_on)
            if conn.execute(state_pointer.update().where(guard).values(**values)).rowcount != 1:
                raise StateConflict(f"{behavior}/{destination_id}: the state moved past version {based_on}")


def _key(behavior: str, destination_id: str) -> sa.ColumnElement[bool]:
    return (state_pointer.c.behavior == behavior) & (state_pointer.c.destination_id == destination_id)
