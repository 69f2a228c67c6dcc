"""The reconcile step of a behavior: per destination, when due, read back what it holds, compare it with the
committed state, record the drift, and on request repair it (docs/adr/0015).

Called by the behavior DAG's reconcile task (before prepare, so a repair is sent by the same run's plan) and by
``python -m behavior_sync reconcile``. The DAG folds earlier runs' acknowledged, uncommitted batches first
(``fold_base``), as prepare does; the CLI does not (a DAG run may be loading), and reports ``unknown`` while a
run's batches are uncommitted. A destination that cannot be read (vendor error, bad connection) is recorded as
``unknown`` with the reason: one destination never stops the others, and a check never fails a sync.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import duckdb
import pyarrow.fs as pafs
import sqlalchemy as sa

from behavior_sync import parquet_io
from behavior_sync.artifacts import run_key
from behavior_sync.config import Behavior, Destination
from behavior_sync.connections import ConnectionSettingsError, ConnectionValues
from behavior_sync.destinations import LoadKey
from behavior_sync.destinations.readback import METHODS, ExactReadBack, Method, ReadBack, SampledReadBack
from behavior_sync.destinations.readers import ReadTarget, reader_for
from behavior_sync.identity.engine import connect, scrubbed
from behavior_sync.statedb import StateDatabase, batch_ledger, sync_history
from behavior_sync.sync.fold import fold_open_plans
from behavior_sync.sync.objects import DestinationObjects
from behavior_sync.sync.reconcile import DriftRecord, is_due, last_checked, record_drift
from behavior_sync.sync.reconcile_compare import (
    DRIFT,
    Comparison,
    committed_values,
    compare_count,
    compare_exact,
    compare_sampled,
    hashed_lists,
    register_state,
    sample_values,
)
from behavior_sync.sync.reconcile_repair import commit_repair, repair_counts
from behavior_sync.sync.state import CommittedState, StateConflict, StateStore

_ROWS_FILE = re.compile(r"v\d{6}-.+-[0-9a-f]{8}\.parquet")  # a state version's rows (not .members / .since)


@dataclass(frozen=True)
class ReconcileOptions:
    """One reconcile call: the run it belongs to, which destinations (None: all), whether to repair, whether to
    check now whatever the schedule, and (the DAG) the artifacts base to fold open plans with first."""

    run_id: str
    now: dt.datetime
    destinations: Sequence[str] | None = None
    repair: bool = False
    forced: bool = False
    fold_base: str | None = None


def reconcile_behavior(
    behavior: Behavior, db: StateDatabase, connection_of: Callable[[str], ConnectionValues], options: ReconcileOptions
) -> list[DriftRecord]:
    """Checks each selected destination that is due, records each check, returns the records (none: nothing due)."""
    schedule = str(behavior.reconcile.get("schedule") or "weekly")
    records = []
    for destination in behavior.destinations:
        if options.destinations is not None and destination.id not in options.destinations:
            continue
        if not is_due(schedule, last_checked(db, behavior.slug, destination.id), options.now, options.forced):
            continue
        record = check_destination(behavior, destination, db, connection_of, options)
        record_drift(db, record)
        records.append(record)
    return records


def check_destination(
    behavior: Behavior,
    destination: Destination,
    db: StateDatabase,
    connection_of: Callable[[str], ConnectionValues],
    options: ReconcileOptions,
) -> DriftRecord:
    """One destination's check (not recorded); ``unknown`` with the reason when it cannot be made."""
    method = METHODS[destination.type]
    record = DriftRecord(
        behavior.slug, destination.id, destination.type, options.run_id, options.now, method, "unknown"
    )
    store = StateStore(db, options.fold_base or "")
    if options.fold_base is not None:
        fold_open_plans(store, behavior.slug, destination.id, options.run_id)
    state = store.current(behavior.slug, destination.id)
    if state is None:
        return replace(record, message="nothing committed yet: no sync has loaded this destination")
    record = replace(record, state_version=state.version)
    if runs := uncommitted_runs(db, behavior.slug, destination.id, state.version):
        return replace(record, message=f"run {runs[0]} sent batches that are not committed yet: run the behavior "
                                       "DAG (it folds them in) and reconcile again")  # fmt: skip
    target = ReadTarget(behavior.slug, behavior.name, destination.id, destination.type, destination.connection,
                        destination.settings)  # fmt: skip
    expected: tuple[type[Exception], ...] = (ConnectionSettingsError, *_vendor_errors())
    try:
        rate = last_match_rate(db, behavior.slug, destination.id)
        reader = reader_for(target, connection_of(destination.connection), DestinationObjects(db), rate)
        if reader is None:
            return replace(record, message="no list or audience is known yet: no sync created or found one")
        return _checked(record, reader, db, state, behavior.reconcile, options)
    except expected as exc:
        return replace(record, message=f"read-back failed: {exc}")


def _checked(
    record: DriftRecord,
    reader: ReadBack,
    db: StateDatabase,
    state: CommittedState,
    settings: Any,
    options: ReconcileOptions,
) -> DriftRecord:
    key_type = getattr(reader, "key_type", None)
    with scrubbed(f"reconcile {record.destination_id}"), connect() as con:
        register_state(con, state.uri, key_type)
        comparison = _compare(con, reader, state, settings, f"{options.run_id}/{record.destination_id}")
        checked = replace(record, **comparison.record_fields())
        if comparison.method != Method.COUNT and (comparison.missing or comparison.unexpected):
            checked = _with_artifact(con, checked, state)
        if not options.repair or comparison.status != DRIFT:
            return checked
        if comparison.method == Method.COUNT:
            command = LoadKey(record.behavior, record.destination_id, True).resync_command()
            return replace(checked, message=f"{checked.message}; repair: a count cannot say who is missing or "
                                            f"unexpected, a full re-sync re-sends everyone: {command}")  # fmt: skip
        return _repaired(con, checked, db, state, str(key_type))


def _compare(
    con: duckdb.DuckDBPyConnection, reader: ReadBack, state: CommittedState, settings: Any, seed: str
) -> Comparison:
    """The comparison the reader allows (its vendor calls happen here)."""
    if isinstance(reader, ExactReadBack):
        held = reader.held(lambda: committed_values(con))
        return compare_exact(con, held, state_history(state.uri), reader.key_type)
    if isinstance(reader, SampledReadBack):
        sample = sample_values(con, int(settings.get("sample_size") or 384), seed)
        return compare_sampled(con, sample, reader.lacking(sample))
    return compare_count(con, reader.count(), float(settings.get("count_tolerance", 0.05)))


def _with_artifact(con: duckdb.DuckDBPyConnection, record: DriftRecord, state: CommittedState) -> DriftRecord:
    """Writes the hashed missing / unexpected keys next to the state (``<base>/<behavior>/reconcile/...``)."""
    base = state.uri.rsplit(f"/{record.behavior}/state/", 1)[0]
    uri = f"{base}/{record.behavior}/reconcile/{record.destination_id}/{run_key(record.run_id)}/drift_keys.parquet"
    parquet_io.write_table(uri, hashed_lists(con))
    return replace(record, details=dict(record.details) | {"artifact": uri})


def _repaired(
    con: duckdb.DuckDBPyConnection, record: DriftRecord, db: StateDatabase, state: CommittedState, key_type: str
) -> DriftRecord:
    """Commits the repair (``reconcile_repair``) and says what the next plan sends."""
    members, values = repair_counts(con, key_type)
    if not members and not values:
        return record
    ids = {"behavior": record.behavior, "destination_id": record.destination_id, "run_id": record.run_id}
    try:
        repaired = commit_repair(con, db, state, ids, key_type)
    except StateConflict as exc:
        return replace(record, message=f"{record.message}; repair not made: {exc}; reconcile again")
    note = (
        f"repair: state version {repaired.version} queues {members} members to re-send and {values} values we had "
        "added to remove; the next sync of this destination sends them"
    )
    details = dict(record.details) | {"repair_version": repaired.version}
    return replace(record, repaired_missing=members, repaired_unexpected=values, message=f"{record.message}; {note}",
                   details=details)  # fmt: skip


def state_history(state_uri: str) -> list[str]:
    """URIs of every committed version's rows file of the destination whose current state is at ``state_uri``."""
    folder = state_uri.rsplit("/", 1)[0]
    filesystem, path = parquet_io.resolve(folder)
    found = filesystem.get_file_info(pafs.FileSelector(path, allow_not_found=True))
    return [f"{folder}/{name}" for name in sorted(i.base_name for i in found if _ROWS_FILE.fullmatch(i.base_name))]


def uncommitted_runs(db: StateDatabase, behavior: str, destination_id: str, version: int) -> list[str]:
    """Runs whose batches against state ``version`` are in the ledger (sent or sending) but not committed."""
    ledger = batch_ledger.c
    query = (
        sa.select(ledger.run_id)
        .where(
            (ledger.behavior == behavior) & (ledger.destination_id == destination_id) & (ledger.plan_base == version)
        )
        .distinct()
        .order_by(ledger.run_id)
    )
    with db.engine.connect() as conn:
        return [str(r[0]) for r in conn.execute(query)]


def last_match_rate(db: StateDatabase, behavior: str, destination_id: str) -> float | None:
    """The match rate the destination last reported (sync history), or None."""
    history = sync_history.c
    query = (
        sa.select(history.match_rate)
        .where((history.behavior == behavior) & (history.destination_id == destination_id))
        .where(history.match_rate.is_not(None))
        .order_by(history.finished_at.desc(), history.id.desc())
        .limit(1)
    )
    with db.engine.connect() as conn:
        rate = conn.execute(query).scalar()
    return None if rate is None else float(rate)


def _vendor_errors() -> tuple[type[Exception], ...]:
    """The destinations' error types (what a read-back raises when the vendor cannot answer)."""
    from behavior_sync.destinations.clevertap_errors import CleverTapError
    from behavior_sync.destinations.google_dm_errors import GoogleAdsError
    from behavior_sync.destinations.hubspot_errors import HubSpotError
    from behavior_sync.destinations.meta_errors import MetaError

    return CleverTapError, GoogleAdsError, HubSpotError, MetaError
