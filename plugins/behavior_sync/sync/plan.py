"""The sync plan: what to add to and remove from one destination, as plain data, computed in DuckDB.

Inputs are the run's prepared identifiers (member_key, id_type, value), the run's usable members
with their fingerprints, and the destination's committed state (same columns, plus its members).
The member-level diff (prepared rows not in the state, state rows not prepared) becomes batches by
what the destination keys on (``Capabilities.keying``, ``sync.keying``): a value shared by several
members is removed only when none of them holds it any more and sent once, and whole-row destinations
get the members a removal takes with it re-added. ``full_resync`` re-sends every prepared row, as a
replace when the destination supports one. Removes always go before adds. Rows are numbered into
batches of whole members, sized by the destination's capabilities, and written run-scoped
(``adds.parquet``, ``removes.parquet``, and ``settle.parquet``: the state changes that follow the
batches without a send of their own) next to ``plan.json``.

Incremental: when prepare skipped the members whose fingerprint matches the committed state
(``PreparedInput.base_version``), only the state rows of the members that changed or left are
diffed; the unchanged members' rows are, by the fingerprint's contract, exactly what is committed.
The cost then follows the churn, not the audience size (one scan of the state's member keys, and
for shared values one scan of the state's key values).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import duckdb
import pyarrow as pa

from behavior_sync import parquet_io
from behavior_sync.identity.engine import connect, fetch_reader, register_parquet, scrubbed
from behavior_sync.sync.keying import (
    ADOPT,
    DOUBT_PREFIX,
    ENTER_WITH,
    LEAVE_WITH,
    RELEASE,
    SETTLE_SCHEMA,
    Diff,
    Keying,
    plan_dispositions,
)
from behavior_sync.sync.ledger import Ledger
from behavior_sync.sync.state import STATE_SCHEMA, CommittedState, StateConflict

BATCH_SCHEMA = STATE_SCHEMA.append(pa.field("batch_no", pa.int32()))


@dataclass(frozen=True)
class Capabilities:
    """What a destination can take: members per batch for adds and removes, removal and replace support.

    ``keying`` says what the destination keys stored things on and ``key_types`` which identifier types
    are those keys (``sync.keying``: a HubSpot contact per e-mail, a CleverTap profile per identity,
    Meta rows removed by any shared e-mail, phone, mobile or external id). ``applied_stages`` are ledger
    stages (``BatchContext.mark``) after which a batch may have taken effect in a way a re-send would
    repeat (CleverTap's event upload): a commit counts such a batch as applied, so no later run sends it
    again.
    """

    add_batch_members: int
    remove_batch_members: int
    supports_remove: bool = True
    supports_replace: bool = False
    keying: Keying = Keying.MEMBER
    key_types: frozenset[str] = frozenset()
    applied_stages: frozenset[str] = frozenset()


@dataclass(frozen=True)
class PreparedInput:
    """A destination's prepare output: the rows of the members prepared now and every usable member.

    ``members_uri`` (member_key, fp, changed) may be None: the members are then the rows' members,
    without fingerprints. ``base_version`` is the state version prepare skipped unchanged members
    against (0: every member was prepared).
    """

    uri: str
    members_uri: str | None = None
    base_version: int = 0


@dataclass(frozen=True)
class Batch:
    """One batch of a plan: ``op`` is add, remove or replace; members and rows it carries."""

    op: str
    number: int
    members: int
    rows: int


@dataclass(frozen=True)
class PlanCounts:
    """Sizes of a plan (members and identifier rows)."""

    prepared_members: int
    prepared_rows: int
    committed_members: int
    committed_rows: int
    add_members: int
    add_rows: int
    remove_members: int
    remove_rows: int
    leaving_members: int  # committed members no longer in the segment at all
    unchanged_rows: int
    kept_rows: int = 0  # rows of leavers or old values whose value another current member still holds: not removed
    joined_rows: int = 0  # new rows whose value is in the destination through another member already: not sent
    shared_rows: int = 0  # rows whose value another member's add or remove carries (sent once per value)
    readded_members: int = 0  # current members re-added because a removal of a shared value takes them too
    readded_rows: int = 0

    @property
    def removal_share(self) -> float:
        """Share of the committed audience that would leave (0 when there is none)."""
        return self.leaving_members / self.committed_members if self.committed_members else 0.0


@dataclass(frozen=True)
class SyncPlan:
    """A plan as plain data (JSON round trip): ``base_version`` is the state it was computed from (0: none)."""

    behavior: str
    destination_id: str
    run_id: str
    base_version: int
    full_resync: bool
    replace: bool
    adds_uri: str
    removes_uri: str
    counts: PlanCounts
    batches: tuple[Batch, ...] = field(default_factory=tuple)
    members_uri: str | None = None  # the run's usable members and fingerprints (commit stores them)
    incremental: bool = False
    settle_uri: str | None = None  # state changes that follow the batches (None: plans made before it existed)
    applied_stages: tuple[str, ...] = ()  # Capabilities.applied_stages of the destination
    keying: str = Keying.MEMBER.value  # Capabilities.keying of the destination

    @property
    def moves_state_unsent(self) -> bool:
        """True when the plan changes the state without any send (values adopted or released)."""
        return bool(self.counts.kept_rows or self.counts.joined_rows)

    def in_doubt(self, ledger: Ledger) -> set[tuple[str, int]]:
        """The batches whose outcome is unknown and that a later run makes sure of by sending again: left
        ``sending`` at a destination that keys on values or rows and sends nothing non-idempotent (one with
        ``applied_stages`` marks whatever a re-send would repeat, so ``sending`` there means not applied)."""
        if self.keying == Keying.MEMBER or self.applied_stages:
            return set()
        return ledger.in_doubt()

    def has_commit(self, ledger: Ledger) -> bool:
        """Whether committing the plan moves the state: a batch was applied or is in doubt, or the plan
        adopts or releases values."""
        return bool(ledger.applied(self.applied_stages) or self.in_doubt(ledger)) or self.moves_state_unsent

    def to_json(self) -> str:
        """The plan as JSON (counts, batch list, artifact paths; no identifiers)."""
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> SyncPlan:
        """Inverse of ``to_json``."""
        data = json.loads(text)
        data["counts"] = PlanCounts(**data["counts"])
        data["batches"] = tuple(Batch(**b) for b in data["batches"])
        data["applied_stages"] = tuple(data.get("applied_stages") or ())
        return cls(**data)


_KEY = "USING (member_key, id_type, value)"  # both sides hold each row once: anti joins, no dedup


def _diff(con: duckdb.DuckDBPyConnection, capabilities: Capabilities, full_resync: bool, replace: bool) -> None:
    """Views ``new_rows`` / ``gone_rows`` (the member-level diff of ``prepared`` and ``committed_affected``),
    then tables ``adds``, ``removes`` and ``settle`` by the destination's keying (``sync.keying``).

    When no committed row is affected (a first sync, or only joiners), every prepared row is new and none
    is gone: the views are then plain scans, and the keying skips what only churn needs."""
    fresh = not con.execute("SELECT EXISTS (FROM committed_affected)").fetchall()[0][0]
    if fresh:
        con.execute("CREATE TEMP VIEW new_rows AS FROM prepared")
        con.execute("CREATE TEMP VIEW gone_rows AS FROM committed_affected")
    else:
        con.execute(f"CREATE TEMP VIEW new_rows AS SELECT * FROM prepared ANTI JOIN committed_affected {_KEY}")
        con.execute(f"CREATE TEMP VIEW gone_rows AS SELECT * FROM committed_affected ANTI JOIN prepared {_KEY}")
    plan_dispositions(con, capabilities.keying, capabilities.key_types, Diff(full_resync, replace, fresh))


def _numbered(table: str, batch_members: int) -> str:
    """SQL: ``table`` with batch numbers of whole members, ``batch_members`` members a batch."""
    return (
        f"SELECT member_key, id_type, value, CAST((dense_rank() OVER (ORDER BY member_key) - 1) // {batch_members} "
        f"AS INTEGER) AS batch_no FROM {table} ORDER BY batch_no, member_key, id_type"
    )


def _counts(con: duckdb.DuckDBPyConnection, new_in: tuple[str, ...] | None, state: CommittedState | None) -> PlanCounts:
    """Sizes from one aggregate per table (the diff is already materialized in adds/removes).

    Rows of members prepare skipped are counted from the state: all committed rows outside
    ``committed_affected`` are unchanged prepared rows. ``new_in``: the settle actions that, with ``adds``,
    hold exactly the prepared rows not committed (None: they are counted with one more anti join).
    """

    def sizes(table: str, members: str = "count(DISTINCT member_key)") -> tuple[int, int]:
        m, r = con.execute(f"SELECT {members}, count(*) FROM {table}").fetchall()[0]
        return int(m), int(r)

    committed_members, committed_rows = (state.members, state.rows) if state else (0, 0)
    (_, affected_rows), (_, prepared_rows), (am, ar), (rm, rr) = (
        sizes(t) for t in ("committed_affected", "prepared", "adds", "removes")
    )
    prepared_members = sizes("current", "count(*)")[0]
    prepared_rows += committed_rows - affected_rows
    leaving_members = (
        f"committed_members ANTI JOIN current USING (member_key) WHERE NOT starts_with(member_key, '{DOUBT_PREFIX}')"
    )
    leaving = sizes(leaving_members, "count(*)")[0]
    settled = dict(con.execute("SELECT action, count(*) FROM settle GROUP BY action").fetchall())
    new_rows = sizes("new_rows", "0")[1] if new_in is None else ar + sum(int(settled.get(a, 0)) for a in new_in)
    readded_members, readded_rows = (0, 0)
    if con.execute("SELECT count(*) FROM readded").fetchall()[0][0]:  # rare: skip the scan of every add
        readded_members, readded_rows = sizes("adds SEMI JOIN readded USING (member_key)")
    return PlanCounts(
        prepared_members,
        prepared_rows,
        committed_members,
        committed_rows,
        am,
        ar,
        rm,
        rr,
        leaving,
        prepared_rows - new_rows,
        kept_rows=int(settled.get(RELEASE, 0)),
        joined_rows=int(settled.get(ADOPT, 0)),
        shared_rows=int(settled.get(ENTER_WITH, 0) + settled.get(LEAVE_WITH, 0)),
        readded_members=readded_members,
        readded_rows=readded_rows,
    )


def _new_rows_in(keying: Keying, full_resync: bool) -> tuple[str, ...] | None:
    """Where the plan's new rows went, when they can be counted without a diff (see ``_counts``)."""
    if full_resync or keying == Keying.ROW:
        return None
    return (ADOPT, ENTER_WITH) if keying == Keying.VALUE else ()


def _write_batches(con: duckdb.DuckDBPyConnection, table: str, batch_members: int, uri: str, op: str) -> list[Batch]:
    con.execute(f"CREATE TEMP TABLE {table}_numbered AS {_numbered(table, batch_members)}")
    reader = fetch_reader(con, f"SELECT * FROM {table}_numbered")
    parquet_io.write_atomically(uri, (b.cast(BATCH_SCHEMA) for b in reader), BATCH_SCHEMA)
    rows = con.execute(
        f"SELECT batch_no, count(DISTINCT member_key), count(*) FROM {table}_numbered GROUP BY 1 ORDER BY 1"
    ).fetchall()
    return [Batch(op, int(n), int(m), int(r)) for n, m, r in rows]


def compute_plan(
    ids: Mapping[str, str],
    prepared: PreparedInput,
    state: CommittedState | None,
    out_dir: str,
    capabilities: Capabilities,
    full_resync: bool = False,
) -> SyncPlan:
    """Diffs the prepared rows against ``state``; writes adds/removes/plan.json into ``out_dir``.

    ``ids`` holds ``behavior``, ``destination_id`` and ``run_id``. Deterministic for the same inputs.
    Raises StateConflict when an incremental prepare was based on another state version than
    ``state``, ValueError for ``full_resync`` over an incremental prepare, IdentityError (no values
    in its text) on engine or storage failures.
    """
    replace = full_resync and capabilities.supports_replace
    incremental = prepared.base_version != 0
    _check_base(ids, prepared, state, full_resync)
    with scrubbed(f"plan {ids['destination_id']}"), connect() as con:
        _register_inputs(con, prepared, state)
        _affected(con, incremental)
        _diff(con, capabilities, full_resync, replace)
        counts = _counts(con, _new_rows_in(capabilities.keying, full_resync), state)
        add_op = "replace" if replace else "add"
        adds = _write_batches(con, "adds", capabilities.add_batch_members, f"{out_dir}/adds.parquet", add_op)
        removes = _write_batches(
            con, "removes", capabilities.remove_batch_members, f"{out_dir}/removes.parquet", "remove"
        )
        removes = removes if capabilities.supports_remove else []
        settle = fetch_reader(con, "SELECT * FROM settle ORDER BY action, link_type, link_value, member_key, id_type")
        parquet_io.write_atomically(f"{out_dir}/settle.parquet", settle, SETTLE_SCHEMA)
    plan = SyncPlan(
        behavior=ids["behavior"],
        destination_id=ids["destination_id"],
        run_id=ids["run_id"],
        base_version=state.version if state else 0,
        full_resync=full_resync,
        replace=replace,
        adds_uri=f"{out_dir}/adds.parquet",
        removes_uri=f"{out_dir}/removes.parquet",
        counts=counts,
        batches=tuple(removes + adds),
        members_uri=prepared.members_uri,
        incremental=incremental,
        settle_uri=f"{out_dir}/settle.parquet",
        applied_stages=tuple(sorted(capabilities.applied_stages)),
        keying=capabilities.keying.value,
    )
    parquet_io.write_text(f"{out_dir}/plan.json", plan.to_json())
    return plan


def _check_base(
    ids: Mapping[str, str], prepared: PreparedInput, state: CommittedState | None, full_resync: bool
) -> None:
    if not prepared.base_version:
        return
    if full_resync:
        raise ValueError("full_resync needs every member prepared; the prepare step skipped unchanged members")
    if state is None or state.version != prepared.base_version:
        raise StateConflict(
            f"{ids['behavior']}/{ids['destination_id']}: the committed state moved from version "
            f"{prepared.base_version} since the prepare step ran; clear the prepare task to prepare again"
        )


def _register_inputs(con: duckdb.DuckDBPyConnection, prepared: PreparedInput, state: CommittedState | None) -> None:
    """Table ``prepared``; views ``current`` (usable members), ``committed`` and ``committed_members``."""
    register_parquet(con, "prepared_src", prepared.uri)
    con.execute("CREATE TEMP TABLE prepared AS SELECT member_key, id_type, value FROM prepared_src")
    if prepared.members_uri is None:
        con.execute("CREATE TEMP VIEW current AS SELECT DISTINCT member_key, true AS changed FROM prepared")
    else:
        register_parquet(con, "current_src", prepared.members_uri)
        con.execute("CREATE TEMP TABLE current AS SELECT member_key, changed FROM current_src")
    if state is None:
        con.execute("CREATE TEMP VIEW committed AS SELECT * FROM prepared LIMIT 0")
    else:
        register_parquet(con, "committed_src", state.uri)
        con.execute("CREATE TEMP VIEW committed AS SELECT member_key, id_type, value FROM committed_src")
    if state is not None and state.members_uri is not None:
        register_parquet(con, "committed_members_src", state.members_uri)
        con.execute("CREATE TEMP TABLE committed_members AS SELECT member_key FROM committed_members_src")
    else:
        con.execute("CREATE TEMP TABLE committed_members AS SELECT DISTINCT member_key FROM committed")


def _affected(con: duckdb.DuckDBPyConnection, incremental: bool) -> None:
    """Table ``committed_affected``: the committed rows the diff must see (all, or those of the members
    that changed or left when prepare skipped the unchanged ones)."""
    if not incremental:
        con.execute("CREATE TEMP TABLE committed_affected AS SELECT * FROM committed")
        return
    con.execute(
        "CREATE TEMP TABLE affected AS SELECT member_key FROM current WHERE changed "
        "UNION ALL SELECT member_key FROM committed_members ANTI JOIN current USING (member_key)"
    )
    con.execute("CREATE TEMP TABLE committed_affected AS SELECT * FROM committed SEMI JOIN affected USING (member_key)")


def read_plan(uri: str) -> SyncPlan:
    """The plan written at ``uri`` by ``compute_plan``."""
    return SyncPlan.from_json(parquet_io.read_text(uri))


def batch_rows(plan: SyncPlan, batch: Batch) -> pa.Table:
    """The rows of one batch (member_key, id_type, value)."""
    import pyarrow.dataset as pads

    uri = plan.removes_uri if batch.op == "remove" else plan.adds_uri
    table = parquet_io.read_dataset(uri).to_table(filter=pads.field("batch_no") == batch.number)
    return table.select(["member_key", "id_type", "value"])


@dataclass(frozen=True)
class Verdict:
    """Whether a plan may be sent: status ``ok``, ``blocked`` or ``paused_too_small``, and why."""

    status: str
    message: str = ""


def check_guardrails(
    counts: PlanCounts, guardrails: Mapping[str, Any], min_audience_size: int | None, override: bool
) -> Verdict:
    """The behavior's guardrails on a plan, before anything is sent.

    Blocked: an empty segment (unless ``allow_empty``), or members leaving above
    ``max_removal_fraction`` (default 0.5) of the committed audience. Paused: fewer usable members
    than ``min_audience_size``. ``override`` (run conf ``override_guardrails``) lifts the blocks.
    """
    if min_audience_size and counts.prepared_members < min_audience_size:
        return Verdict(
            "paused_too_small",
            f"{counts.prepared_members} members, below the minimum of {min_audience_size}: nothing sent; "
            "the sync resumes by itself once the segment is large enough",
        )
    if override:
        return Verdict("ok", "guardrails overridden by the run's conf (override_guardrails)")
    how = 'trigger the DAG with conf {"override_guardrails": true} if this is intended'
    if counts.prepared_members == 0 and not guardrails.get("allow_empty", False):
        return Verdict("blocked", f"the segment is empty: nothing sent, nothing removed; {how}, or set allow_empty")
    limit = float(guardrails.get("max_removal_fraction", 0.5))
    if counts.removal_share > limit:
        return Verdict(
            "blocked",
            f"{counts.leaving_members} of {counts.committed_members} members ({counts.removal_share:.0%}) would be "
            f"removed, above max_removal_fraction {limit:.0%}: nothing sent; {how}",
        )
    return Verdict("ok")
