"""Load a plan into a destination batch by batch, and commit what the destination acknowledged.

``load_plan`` walks the plan's batches in the plan's order (see ``compute_plan``), skips those the ledger says were
acknowledged, marks each batch before sending it and records the answer after. A crash between the
two leaves the batch ``sending``: the next attempt sends it again (destinations make add/remove
idempotent). A destination whose batch is not idempotent as a whole (CleverTap events) records its
own progress inside a batch with ``BatchContext.mark`` and reads it back on the next attempt
(``BatchContext.stage``). ``commit_plan`` moves the committed state by exactly the applied, not
rejected rows (a batch is applied when acknowledged or left in one of the plan's ``applied_stages``):
previous state - accepted removes + accepted adds (a replace plan: the accepted adds only, and only
once every batch was applied), and by the plan's settle rows (``sync.keying``): adopted and released
rows always, rows following a shared value when the add or remove that carried the value was
accepted, and the members a removal took with it (whole rows) when a removal carrying their shared
value was.
Rows of batches left ``sending`` (sent, answer never recorded: in doubt, ``SyncPlan.in_doubt``) move to
a member that is never current (``keying.DOUBT_PREFIX``), so the next run removes those values again
unless a current member holds them, and re-sends what current members need (idempotent sends). It
stores the run's fingerprint of a member only when the member is settled (none of its planned rows or
settle rows was left unapplied), so an unsettled member is prepared and diffed again next run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import duckdb
import pyarrow as pa

from behavior_sync import parquet_io
from behavior_sync.identity.engine import connect, fetch_reader, register_parquet, scrubbed
from behavior_sync.sync.keying import (
    ADOPT,
    DOUBT_PREFIX,
    ENTER_WITH,
    LEAVE_WITH,
    MEMBER_LEAVE_WITH,
    RELEASE,
    SETTLE_SCHEMA,
)
from behavior_sync.sync.ledger import ACKNOWLEDGED, BatchResult, Ledger, Rejection
from behavior_sync.sync.plan import Batch, Capabilities, SyncPlan, batch_rows
from behavior_sync.sync.state import STATE_MEMBERS_SCHEMA, STATE_SCHEMA, CommittedState, StateStore


def _no_mark(stage: str, rejections: Sequence[Rejection] | None = None) -> None:
    """``BatchContext.mark`` outside a ledger (tests, dry tools): progress is not recorded."""


@dataclass(frozen=True)
class BatchContext:
    """Where a batch sits in its plan (replace sessions need the sequence and the last flag).

    ``stage`` is what earlier, interrupted attempts at this batch recorded in the ledger: None for a
    first attempt, ``sending`` when they recorded nothing finer, else the last value given to
    ``mark``. ``mark(stage, rejections)`` records progress inside the batch durably, before the call
    returns, with the rows refused so far (None: those recorded stay): a batch left in one of the
    destination's ``applied_stages`` is committed as applied minus those rows (``commit_plan``).
    """

    op: str
    number: int
    count: int  # batches of this op in the plan
    total_rows: int  # rows of this op in the plan
    stage: str | None = None
    mark: Callable[[str, Sequence[Rejection] | None], None] = _no_mark

    @property
    def is_last(self) -> bool:
        """True for the op's last batch."""
        return self.number == self.count - 1


class Destination(Protocol):
    """What the engine needs of a destination: capabilities and one verb per batch."""

    capabilities: Capabilities

    def send(self, rows: pa.Table, context: BatchContext) -> BatchResult:
        """Apply one batch (``context.op``: add, remove or replace); raise on a failure of the whole batch."""
        ...


@dataclass(frozen=True)
class LoadSummary:
    """What a load did: batches sent now and skipped as already acknowledged, rows sent."""

    sent_batches: int
    skipped_batches: int
    sent_rows: int


def load_plan(
    plan: SyncPlan, destination: Destination, ledger: Ledger, on_batch: Callable[[str], None] | None = None
) -> LoadSummary:
    """Sends every batch not yet acknowledged; raises whatever the destination raises (the batch stays
    ``sending``). ``on_batch`` receives one line per sent batch (counts only)."""
    stages = {(e.op, e.batch_no): e.status for e in ledger.entries()}
    sent = skipped = rows = 0
    for batch in plan.batches:
        stage = stages.get((batch.op, batch.number))
        if stage == ACKNOWLEDGED:
            skipped += 1
            continue
        ledger.start(batch.op, batch.number, batch.rows)
        result = destination.send(batch_rows(plan, batch), _context(plan, batch, stage, ledger))
        ledger.acknowledge(batch.op, batch.number, result)
        sent, rows = sent + 1, rows + batch.rows
        if on_batch is not None:
            on_batch(
                f"{batch.op} batch {batch.number}: {batch.rows} rows, {result.accepted} accepted, "
                f"{len(result.rejections)} rejected"
            )
    return LoadSummary(sent, skipped, rows)


def _context(plan: SyncPlan, batch: Batch, stage: str | None, ledger: Ledger) -> BatchContext:
    same = [b for b in plan.batches if b.op == batch.op]

    def mark(progress: str, rejections: Sequence[Rejection] | None = None) -> None:
        ledger.mark(batch.op, batch.number, progress, rejections)

    return BatchContext(batch.op, batch.number, len(same), sum(b.rows for b in same), stage, mark)


def commit_plan(plan: SyncPlan, ledger: Ledger, store: StateStore, previous: CommittedState | None) -> CommittedState:
    """Moves the destination's state by the applied rows and settle rows of ``plan``; idempotent per run and plan.

    ``previous`` must be the state the plan was computed from. Raises StateConflict when the state
    moved since, ValueError when a replace plan is not fully applied (the old state stays).
    """
    applied = ledger.applied(plan.applied_stages)
    if plan.replace and len(applied) < len(plan.batches):
        raise ValueError("a replace plan commits only once every batch was acknowledged; the state did not move")
    in_doubt = plan.in_doubt(ledger)
    with scrubbed(f"commit {plan.destination_id}"), connect() as con:
        _register_accepted(con, plan, ledger, applied, in_doubt)
        _register_settled(con, plan.settle_uri)
        if previous is None or plan.replace:
            con.execute("CREATE TEMP VIEW previous AS SELECT * FROM accepted_adds LIMIT 0")
        else:
            register_parquet(con, "previous_src", previous.uri)
            con.execute("CREATE TEMP VIEW previous AS SELECT member_key, id_type, value FROM previous_src")
        key = "USING (member_key, id_type, value)"
        sql = (
            f"SELECT * FROM previous ANTI JOIN leaving {key} ANTI JOIN leaving_members USING (member_key) "
            f"ANTI JOIN entering {key} UNION ALL SELECT * FROM entering"
        )

        def write(uri: str, members_uri: str) -> tuple[int, int]:
            rows = parquet_io.write_atomically(uri, fetch_reader(con, sql), STATE_SCHEMA).rows
            return rows, _write_members(con, plan, uri, members_uri)

        return store.commit(plan.behavior, plan.destination_id, plan.run_id, write, plan.base_version or None)


def _register_settled(con: duckdb.DuckDBPyConnection, settle_uri: str | None) -> None:
    """Views ``entering`` / ``leaving`` (rows the state gains and loses), ``leaving_members`` (members a
    removal took whole) and ``unsettled_followers`` (members whose settle rows did not apply), from the
    accepted batches and the plan's settle rows."""
    if settle_uri is None:
        con.register("settle_src", SETTLE_SCHEMA.empty_table())
    else:
        register_parquet(con, "settle_src", settle_uri)
    con.execute("CREATE TEMP TABLE settle AS SELECT * FROM settle_src")
    row = "member_key, id_type, value"
    link = "ON s.link_type = a.id_type AND s.link_value = a.value"
    linked = {"added": (ENTER_WITH,), "removed": (LEAVE_WITH, MEMBER_LEAVE_WITH)}
    for name, table in (("added", "accepted_adds"), ("removed", "accepted_removes")):
        actions = ", ".join(f"'{a}'" for a in linked[name])  # only the values settle rows follow: a small probe
        con.execute(
            f"CREATE TEMP TABLE {name}_values AS SELECT DISTINCT a.id_type, a.value FROM {table} AS a SEMI JOIN "
            f"(SELECT link_type, link_value FROM settle WHERE action IN ({actions})) AS s {link}"
        )
    follow = {ENTER_WITH: "added_values", LEAVE_WITH: "removed_values"}
    for action, values in follow.items():
        con.execute(
            f"CREATE TEMP VIEW {action}_done AS SELECT {row} FROM settle AS s SEMI JOIN {values} AS a {link} "
            f"WHERE s.action = '{action}'"
        )
    doubt = f"SELECT '{DOUBT_PREFIX}' || member_key, id_type, value FROM"
    con.execute(
        f"CREATE TEMP VIEW entering AS SELECT {row} FROM accepted_adds UNION ALL SELECT {row} FROM settle "
        f"WHERE action = '{ADOPT}' UNION ALL SELECT {row} FROM {ENTER_WITH}_done "
        f"UNION ALL {doubt} doubt_adds UNION ALL {doubt} doubt_removes"
    )
    con.execute(
        f"CREATE TEMP VIEW leaving AS SELECT {row} FROM accepted_removes UNION ALL SELECT {row} FROM settle "
        f"WHERE action = '{RELEASE}' UNION ALL SELECT {row} FROM {LEAVE_WITH}_done UNION ALL FROM doubt_removes"
    )
    con.execute(
        f"CREATE TEMP VIEW leaving_members AS SELECT DISTINCT member_key FROM settle AS s SEMI JOIN removed_values "
        f"AS a {link} WHERE s.action = '{MEMBER_LEAVE_WITH}'"
    )
    con.execute(
        f"CREATE TEMP VIEW unsettled_followers AS SELECT member_key FROM (SELECT {row} FROM settle WHERE action IN "
        f"('{ENTER_WITH}', '{LEAVE_WITH}')) ANTI JOIN (SELECT {row} FROM {ENTER_WITH}_done "
        f"UNION ALL SELECT {row} FROM {LEAVE_WITH}_done) USING ({row})"
    )


def _write_members(con: duckdb.DuckDBPyConnection, plan: SyncPlan, state_uri: str, members_uri: str) -> int:
    """Writes the new state's members with the run's fingerprint where settled (else NULL); returns their count."""
    con.execute(
        "CREATE TEMP TABLE unsettled AS SELECT DISTINCT member_key FROM (SELECT member_key FROM unaccepted_adds "
        "UNION ALL SELECT member_key FROM unaccepted_removes UNION ALL SELECT member_key FROM unsettled_followers)"
    )
    if plan.members_uri is None:
        con.execute("CREATE TEMP VIEW current AS SELECT CAST(NULL AS VARCHAR) AS member_key, 0::UBIGINT AS fp LIMIT 0")
    else:
        register_parquet(con, "current_src", plan.members_uri)
        con.execute("CREATE TEMP VIEW current AS SELECT member_key, fp FROM current_src")
    register_parquet(con, "new_state", state_uri)
    sql = (
        "SELECT n.member_key, CASE WHEN u.member_key IS NULL THEN c.fp END AS fp "
        "FROM (SELECT DISTINCT member_key FROM new_state) AS n LEFT JOIN current AS c USING (member_key) "
        "LEFT JOIN unsettled AS u USING (member_key)"
    )
    return parquet_io.write_atomically(members_uri, fetch_reader(con, sql), STATE_MEMBERS_SCHEMA).rows


_ACCEPTED = (("adds", ("add", "replace"), "adds_uri"), ("removes", ("remove",), "removes_uri"))


def _register_accepted(
    con: duckdb.DuckDBPyConnection,
    plan: SyncPlan,
    ledger: Ledger,
    acknowledged: set[tuple[str, int]],
    in_doubt: set[tuple[str, int]],
) -> None:
    """Views accepted_adds / accepted_removes (rows of acknowledged batches minus rejected rows),
    unaccepted_adds / unaccepted_removes (the other planned rows) and doubt_adds / doubt_removes (rows of
    the ``in_doubt`` batches). Filters are left out when they cannot drop anything (every batch
    acknowledged, no rejections), so a clean commit reads the plan once."""
    for name, ops, uri_field in _ACCEPTED:
        register_parquet(con, f"planned_{name}", getattr(plan, uri_field))
        doubt = sorted(n for op, n in in_doubt if op in ops)
        where = f"batch_no IN ({', '.join(map(str, doubt))})" if doubt else "false"
        con.execute(
            f"CREATE TEMP VIEW doubt_{name} AS SELECT member_key, id_type, value FROM planned_{name} WHERE {where}"
        )
        accepted = [_acknowledged_filter(plan, ops, acknowledged)]
        pairs = [pair for op in ops for pair in ledger.rejected(op)]
        if pairs:
            rejected = pa.table({"h": [h for h, _ in pairs], "t": [t for _, t in pairs]}, schema=_REJECTED_SCHEMA)
            con.register(f"{name}_rejected", rejected)
            accepted.append(
                f"NOT EXISTS (SELECT 1 FROM {name}_rejected AS r WHERE r.t = b.id_type AND r.h = sha256(b.member_key))"
            )
        condition = " AND ".join(accepted)
        for view, where in ((f"accepted_{name}", condition), (f"unaccepted_{name}", f"NOT ({condition})")):
            con.execute(
                f"CREATE TEMP VIEW {view} AS SELECT member_key, id_type, value FROM planned_{name} AS b WHERE {where}"
            )


def _acknowledged_filter(plan: SyncPlan, ops: tuple[str, ...], acknowledged: set[tuple[str, int]]) -> str:
    """SQL condition on ``batch_no``: the acknowledged batches of ``ops`` (``true`` when that is all of them;
    ``false`` when the plan sends none, e.g. removes to a destination that cannot remove)."""
    planned = {b.number for b in plan.batches if b.op in ops}
    done = {n for op, n in acknowledged if op in ops}
    if planned and planned <= done:
        return "true"
    return f"batch_no IN ({', '.join(str(n) for n in sorted(done))})" if done else "false"


_REJECTED_SCHEMA = pa.schema([("h", pa.string()), ("t", pa.string())])
