"""Benchmark of the plan step: first sync, a second sync with 1 % churn, and plan-only memory at large sizes.

Prepared identifiers are synthesized in DuckDB (three rows per member: e-mail, phone and country
hashes; 1 % of members leave, 1 % join and 1 % change e-mail in the second sync). Each measurement
runs in its own process, as the plan task does in Airflow, so its peak RSS is its own.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from tests.bench.identity_bench import _in_child, _peak_rss_mib

MEMBERS_SQL = "SELECT 'm' || i AS member_key, i FROM range({n}) AS r(i)"


def _write_prepared(uri: str, members: int, churn: bool) -> None:
    """A synthetic prepared file: the second-sync variant drops, adds and changes 1 % each."""
    import duckdb

    leave = "WHERE i % 100 <> 1" if churn else ""
    join = f"UNION ALL SELECT 'm' || i, i FROM range({members}, {members + members // 100}) AS r(i)" if churn else ""
    email = "sha256(CASE WHEN i % 100 = 2 THEN 'new' ELSE '' END || 'mail' || i)" if churn else "sha256('mail' || i)"
    con = duckdb.connect()
    con.execute(f"CREATE VIEW m AS SELECT * FROM ({MEMBERS_SQL.format(n=members)}) {leave} {join}")
    con.execute(
        f"COPY (SELECT member_key, 'email' AS id_type, {email} AS value FROM m UNION ALL "
        "SELECT member_key, 'phone', sha256('+1' || i) FROM m UNION ALL "
        "SELECT member_key, 'country', sha256('us') FROM m) TO '" + uri + "' (FORMAT parquet)"
    )


def plan_child(work: str, members: int, with_second: bool) -> dict[str, Any]:
    """Child process: first plan (+ commit of everything), then optionally the churned second plan."""
    from behavior_sync.statedb import StateDatabase
    from behavior_sync.sync.execute import commit_plan
    from behavior_sync.sync.ledger import BatchResult, Ledger
    from behavior_sync.sync.plan import Capabilities, compute_plan
    from behavior_sync.sync.state import StateStore

    capabilities = Capabilities(add_batch_members=10_000, remove_batch_members=1_000)
    db = StateDatabase(f"sqlite:///{work}/state.db")
    db.ensure_schema()
    store = StateStore(db, f"{work}/artifacts")
    _write_prepared(f"{work}/p1.parquet", members, churn=False)
    started = time.perf_counter()
    first = compute_plan(
        {"behavior": "b", "destination_id": "d", "run_id": "r1"},
        f"{work}/p1.parquet",
        None,
        f"{work}/plan1",
        capabilities,
    )
    out: dict[str, Any] = {"first_plan_s": time.perf_counter() - started, "first_adds": first.counts.add_rows}
    if with_second:
        ledger = Ledger(db, "b", "d", "r1", 0)
        for batch in first.batches:  # everything acknowledged, as a destination would
            ledger.start(batch.op, batch.number, batch.rows)
            ledger.acknowledge(batch.op, batch.number, BatchResult(batch.rows))
        started = time.perf_counter()
        commit_plan(first, ledger, store, None)
        out["first_commit_s"] = time.perf_counter() - started
        _write_prepared(f"{work}/p2.parquet", members, churn=True)
        started = time.perf_counter()
        second = compute_plan(
            {"behavior": "b", "destination_id": "d", "run_id": "r2"},
            f"{work}/p2.parquet",
            store.current("b", "d"),
            f"{work}/plan2",
            capabilities,
        )
        out |= {
            "second_plan_s": time.perf_counter() - started,
            "second_adds": second.counts.add_rows,
            "second_removes": second.counts.remove_rows,
        }
    db.close()
    return out | {"peak_rss_mib": _peak_rss_mib()}


def run(folder: Path, members: int, large: int) -> dict[str, Any]:
    """The two-sync measurement at ``members`` and the plan-only memory measurement at ``large``."""
    work = folder.resolve() / f"plan_{members}"
    work.mkdir(parents=True, exist_ok=True)
    two = _in_child(plan_child, str(work), members, True)
    big_work = folder.resolve() / f"plan_{large}"
    big_work.mkdir(parents=True, exist_ok=True)
    big = _in_child(plan_child, str(big_work), large, False)
    return {"members": members, "two_syncs": two, "large": large, "large_plan": big}
