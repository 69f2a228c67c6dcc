"""Benchmark of the sync engine: two real syncs (prepare + plan + commit) and plan-only memory at large sizes.

Two syncs: demo-warehouse members (messy identifiers) for all four destinations' rule sets. The
first sync prepares everyone, plans against no state and commits everything as acknowledged; the
second runs on a snapshot where 1 % of members left, 1 % joined and 1 % changed e-mail, so prepare
and plan work incrementally from the committed members' fingerprints. Plan-only memory: synthetic
prepared identifiers (three per member) planned against no state. Each measurement runs in its own
process, as Airflow runs a task, so its peak RSS is its own.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.bench.identity_bench import _in_child, _peak_rss_mib, _spec, extract_step, warehouse

MEMBERS_SQL = "SELECT 'm' || i AS member_key, i FROM range({n}) AS r(i)"
# 1 % leave, 1 % change e-mail, 1 % join (copies of other members under new keys).
CHURN_SQL = """
SELECT customer_id, CASE WHEN customer_id % 100 = 2 THEN 'new.' || trim(email) ELSE email END AS email,
       phone, first_name, last_name, postal_code, country
FROM read_parquet('{src}') WHERE customer_id % 100 <> 1
UNION ALL
SELECT customer_id + 1000000000, 'joiner.' || trim(email), phone, first_name, last_name, postal_code, country
FROM read_parquet('{src}') WHERE customer_id % 100 = 3
"""


def _write_prepared(uri: str, members: int) -> None:
    """Synthetic prepared identifiers: e-mail, phone and country hashes per member."""
    from behavior_sync.identity.engine import connect

    con = connect()
    con.execute(f"CREATE VIEW m AS {MEMBERS_SQL.format(n=members)}")
    con.execute(
        "COPY (SELECT member_key, 'email' AS id_type, sha256('mail' || i) AS value FROM m UNION ALL "
        "SELECT member_key, 'phone', sha256('+1' || i) FROM m UNION ALL "
        "SELECT member_key, 'country', sha256('us') FROM m) TO '" + uri + "' (FORMAT parquet)"
    )


def _sync(work: str, run: str, store: Any, acknowledge: bool) -> dict[str, Any]:
    """validate -> prepare (incremental when the state has fingerprints) -> plan, every destination;
    then, with ``acknowledge``, every batch acknowledged and committed. Seconds per step."""
    from behavior_sync.identity.validate import validate_snapshot
    from behavior_sync.sync.execute import commit_plan
    from behavior_sync.sync.ledger import BatchResult, Ledger
    from behavior_sync.sync.plan import PreparedInput, compute_plan
    from behavior_sync_airflow.destination_registry import capabilities_for

    spec = _spec()
    types = {d.id: d.type for d in spec.destinations}
    out: dict[str, Any] = {}
    with _timed(out, "validate"):
        identities = validate_snapshot(f"{work}/{run}.parquet", f"{work}/{run}/identity", spec).identities_uri
    with _timed(out, "prepare"):
        prepared = _prepare(work, run, spec, store, identities)
    out["prepared_members"] = sum(p.changed_members for p in prepared.values())
    plans = {}
    with _timed(out, "plan"):
        for d, summary in prepared.items():
            ids = {"behavior": "b", "destination_id": d, "run_id": run}
            source = PreparedInput(summary.uri, summary.members_uri, summary.base_version)
            caps = capabilities_for(types[d])
            plans[d] = compute_plan(ids, source, store.current("b", d), f"{work}/{run}/{d}/plan", caps)
    out["adds"] = sum(p.counts.add_rows for p in plans.values())
    out["removes"] = sum(p.counts.remove_rows for p in plans.values())
    if acknowledge:
        for d, plan in plans.items():
            ledger = Ledger(store.db, "b", d, run, plan.base_version)
            for batch in plan.batches:  # everything acknowledged, as a destination would
                ledger.start(batch.op, batch.number, batch.rows)
                ledger.acknowledge(batch.op, batch.number, BatchResult(batch.rows))
        with _timed(out, "commit"):
            for d, plan in plans.items():
                commit_plan(plan, Ledger(store.db, "b", d, run, plan.base_version), store, store.current("b", d))
    return out


@contextmanager
def _timed(out: dict[str, Any], step: str) -> Iterator[None]:
    """Records ``<step>_s`` (wall) and ``<step>_cpu_s`` (CPU of every thread of this process: what the step
    costs, also when other work shares the machine)."""
    wall, cpu = time.perf_counter(), time.process_time()
    yield
    out[f"{step}_s"], out[f"{step}_cpu_s"] = time.perf_counter() - wall, time.process_time() - cpu


def _prepare(work: str, run: str, spec: Any, store: Any, identities: str) -> dict[str, Any]:
    from behavior_sync.identity.prepare import PrepareTarget, prepare_destinations

    targets = {}
    for d in spec.destinations:
        state = store.current("b", d.id)
        base = {"base_version": state.version, "base_members_uri": state.members_uri} if state else {}
        out = f"{work}/{run}/{d.id}"
        targets[d.id] = PrepareTarget(f"{out}/prepared.parquet", f"{out}/members.parquet", **base)
    return prepare_destinations(identities, spec, targets)


def two_syncs_child(work: str) -> dict[str, Any]:
    """Child process: the first sync (everything new) and the churned second one."""
    from behavior_sync.identity.engine import connect
    from behavior_sync.statedb import StateDatabase
    from behavior_sync.sync.state import StateStore

    churn = CHURN_SQL.format(src=f"{work}/r1.parquet")
    connect().execute(f"COPY ({churn}) TO '{work}/r2.parquet'")
    db = StateDatabase(f"sqlite:///{work}/state.db")
    db.ensure_schema()
    store = StateStore(db, f"{work}/artifacts")
    first = _sync(work, "r1", store, acknowledge=True)
    second = _sync(work, "r2", store, acknowledge=True)
    db.close()
    return {"first": first, "second": second, "peak_rss_mib": _peak_rss_mib(), "load_average": os.getloadavg()}


def plan_only_child(work: str, members: int) -> dict[str, Any]:
    """Child process: one plan of ``members`` synthetic members against no state."""
    from behavior_sync.sync.plan import Capabilities, PreparedInput, compute_plan

    _write_prepared(f"{work}/p1.parquet", members)
    started = time.perf_counter()
    plan = compute_plan(
        {"behavior": "b", "destination_id": "d", "run_id": "r1"},
        PreparedInput(f"{work}/p1.parquet"),
        None,
        f"{work}/plan1",
        Capabilities(add_batch_members=10_000, remove_batch_members=1_000),
    )
    return {"plan_s": time.perf_counter() - started, "adds": plan.counts.add_rows, "peak_rss_mib": _peak_rss_mib()}


def run(folder: Path, members: int, large: int) -> dict[str, Any]:
    """The two-sync measurement at ``members`` and the plan-only memory measurement at ``large``."""
    import shutil

    work = folder.resolve() / f"sync_{members}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    extract = _in_child(extract_step, str(warehouse(folder, members)), str(work))
    (work / "snapshot.parquet").rename(work / "r1.parquet")
    two = _in_child(two_syncs_child, str(work))
    big_work = folder.resolve() / f"plan_{large}"
    big_work.mkdir(parents=True, exist_ok=True)
    big = _in_child(plan_only_child, str(big_work), large)
    return {"members": members, "extracted": extract["rows"], "two_syncs": two, "large": large, "large_plan": big}
