"""Committed state: what a destination holds because we put it there, versioned and switched atomically.

A destination's committed state is a Parquet file of (member_key, id_type, value) under the artifacts
base (``<base>/<behavior>/state/<destination id>/v000042-<run>.parquet``), the fingerprints of its
members next to it (``...-<run>.members.parquet``: member_key, fp; fp NULL for a member whose
prepared rows were not all acknowledged) and a pointer row in the state database naming the current
version. A commit writes the new version's files first (atomic writes), then moves the pointer in one
transaction guarded by the version it started from, so a crash leaves the old state or the new one,
never a mix, and two commits cannot both win. States committed before fingerprints existed have no
members file (``members_uri`` None): their next prepare is a full one.

Each version also has a first-seen file (``...-<run>.since.parquet``: member_key, since_run): the run
whose commit put the member in, for as long as it stayed in without a break (ADR 0016; audience health
reads it for membership age). A member carried over from a version without that file (committed before
it existed) has since_run NULL: unknown, earlier than that version.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pyarrow as pa
import sqlalchemy as sa

from behavior_sync import parquet_io
from behavior_sync.artifacts import normalize_base, run_key
from behavior_sync.identity.engine import BATCH_ROWS, connect, register_parquet
from behavior_sync.statedb import StateDatabase, now, state_pointer

STATE_SCHEMA = pa.schema([("member_key", pa.string()), ("id_type", pa.string()), ("value", pa.string())])
STATE_MEMBERS_SCHEMA = pa.schema([("member_key", pa.string()), ("fp", pa.uint64())])
STATE_SINCE_SCHEMA = pa.schema([("member_key", pa.string()), ("since_run", pa.string())])
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

    @property
    def since_uri(self) -> str:
        """The version's first-seen file (absent for versions committed before first-seen data existed)."""
        return since_uri(self.uri)


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
        """Has ``write`` write the next version's files and writes its first-seen file (``write_since``),
        then moves the pointer to it.

        ``based_on`` is the version the rows were derived from (None: no state yet). Idempotent: when
        the pointer already names the version this commit would create, written by ``run_id`` (a
        retried commit task), that one is returned and nothing is written. Raises StateConflict when
        the pointer moved since ``based_on`` (checked before writing, and again as the pointer moves).
        """
        version = (based_on or 0) + 1
        current = self.current(behavior, destination_id)
        if current is not None and current.run_id == run_id and current.version == version:
            return current
        if (current.version if current else None) != based_on:
            raise StateConflict(f"{behavior}/{destination_id}: the state is not at version {based_on}")
        uri, members_uri = self.version_uris(behavior, destination_id, version, run_id)
        rows, members = write(uri, members_uri)
        write_since(current, members_uri, since_uri(uri), run_id)
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


def since_uri(state_uri: str) -> str:
    """The first-seen file next to the state rows at ``state_uri`` (``v…-<run>.since.parquet``)."""
    return state_uri.removesuffix(".parquet") + ".since.parquet"


def write_since(previous: CommittedState | None, members_uri: str, uri: str, run_id: str) -> int:
    """Writes the first-seen file ``uri`` of a new version whose members are at ``members_uri``; returns its rows.

    A member that was in ``previous`` keeps its since_run (NULL when ``previous`` has no first-seen file:
    unknown); any other member gets ``run_id``. Idempotent (an atomic rewrite of the same content).
    """
    with connect() as con:
        register_parquet(con, "members", members_uri)
        if previous is None:
            con.execute("CREATE TEMP VIEW previous AS SELECT NULL::VARCHAR AS member_key, NULL::VARCHAR AS since_run")
        elif parquet_io.exists(previous.since_uri):
            register_parquet(con, "previous", previous.since_uri)
        else:  # committed before first-seen files: its members' entry is unknown
            register_parquet(con, "previous_rows", previous.uri)
            con.execute("CREATE TEMP VIEW previous AS SELECT DISTINCT member_key, NULL AS since_run FROM previous_rows")
        sql = (
            "SELECT m.member_key, CASE WHEN p.member_key IS NULL THEN $run ELSE p.since_run END AS since_run "
            "FROM members AS m LEFT JOIN previous AS p USING (member_key)"
        )
        reader = con.sql(sql, params={"run": run_id}).to_arrow_reader(BATCH_ROWS)
        return parquet_io.write_atomically(uri, reader, STATE_SINCE_SCHEMA).rows


def _key(behavior: str, destination_id: str) -> sa.ColumnElement[bool]:
    return (state_pointer.c.behavior == behavior) & (state_pointer.c.destination_id == destination_id)
