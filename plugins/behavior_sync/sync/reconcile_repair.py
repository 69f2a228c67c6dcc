"""Repair: drift turned into an edit of the committed state, which the normal plan, ledger and commit then send.

* A missing key value: the rows of every current member holding it leave the state, with their fingerprints.
  The next prepare and plan find those members new and send them again (a shared value once, ADR 0010);
  their acknowledged batches enter the state through the ledger and the commit, exactly once as always.
* An unexpected value that an earlier state version holds (we added it once): it enters the state as a row of
  a member in doubt (``keying.DOUBT_PREFIX``), never current, so the next plan removes it as it removes any
  value in doubt that no current member holds.
* A foreign value (never in our state): never touched.

The edit is a new state version made by the reconcile run and moved in by compare-and-set on the version the
read-back compared with (``StateStore.commit``): a sync that committed in between makes it fail with
``StateConflict`` and change nothing. The tables it reads (``state_rows``, ``missing_values``, ``ours_values``)
are the comparison's (``reconcile_compare``).
"""

from __future__ import annotations

from collections.abc import Mapping

import duckdb

from behavior_sync import parquet_io
from behavior_sync.identity.engine import fetch_reader, register_parquet
from behavior_sync.statedb import StateDatabase
from behavior_sync.sync.keying import DOUBT_PREFIX, sql_list
from behavior_sync.sync.state import STATE_MEMBERS_SCHEMA, STATE_SCHEMA, CommittedState, StateStore

DRIFT_PREFIX = f"{DOUBT_PREFIX}drift:"  # member key of a value queued for removal by a repair (+ its SHA-256)


def repair_counts(con: duckdb.DuckDBPyConnection, key_type: str) -> tuple[int, int]:
    """Table ``repair_members`` (current members holding a missing value); (members to re-send, values to remove)."""
    con.execute(
        "CREATE TEMP TABLE repair_members AS SELECT DISTINCT member_key FROM state_rows SEMI JOIN missing_values "
        f"USING (value) WHERE id_type IN {sql_list([key_type])} AND NOT starts_with(member_key, '{DOUBT_PREFIX}')"
    )
    counts = con.execute("SELECT (SELECT count(*) FROM repair_members), (SELECT count(*) FROM ours_values)")
    members, values = counts.fetchall()[0]
    return int(members), int(values)


def commit_repair(
    con: duckdb.DuckDBPyConnection, db: StateDatabase, state: CommittedState, ids: Mapping[str, str], key_type: str
) -> CommittedState:
    """Commits the repaired state as the next version (run ``ids['run_id']``), next to the state it edits (the
    artifacts base ``state`` lives under). Raises ``StateConflict`` when the state moved past ``state`` since it
    was read."""
    behavior, destination_id = ids["behavior"], ids["destination_id"]
    con.execute(
        "CREATE TEMP VIEW repaired AS SELECT member_key, id_type, value FROM state_rows ANTI JOIN repair_members "
        f"USING (member_key) UNION ALL SELECT '{DRIFT_PREFIX}' || sha256(value), {sql_list([key_type])[1:-1]}, value "
        "FROM ours_values"
    )
    if state.members_uri is not None and parquet_io.exists(state.members_uri):
        register_parquet(con, "previous_members", state.members_uri)
    else:
        con.execute("CREATE TEMP VIEW previous_members AS SELECT NULL::VARCHAR AS member_key, NULL::UBIGINT AS fp")

    def write(uri: str, members_uri: str) -> tuple[int, int]:
        rows = parquet_io.write_atomically(uri, fetch_reader(con, "SELECT * FROM repaired"), STATE_SCHEMA).rows
        register_parquet(con, "repaired_rows", uri)
        members_sql = (
            "SELECT n.member_key, p.fp FROM (SELECT DISTINCT member_key FROM repaired_rows) AS n "
            "LEFT JOIN previous_members AS p USING (member_key)"
        )
        written = parquet_io.write_atomically(members_uri, fetch_reader(con, members_sql), STATE_MEMBERS_SCHEMA)
        return rows, written.rows

    base = state.uri.rsplit(f"/{behavior}/state/", 1)[0]
    return StateStore(db, base).commit(behavior, destination_id, ids["run_id"], write, state.version)
