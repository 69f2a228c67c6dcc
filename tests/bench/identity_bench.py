"""Benchmark of the identity data path: extract -> validate (+ quality gate) -> prepare, and the naive way.

Each size runs in a fresh child process (spawn), so its peak RSS is its own. Members come from the
demo warehouse generator (messy identifiers: padding, case, national phone formats, country names,
~1 % invalid values, ~0.5 % duplicated keys); the warehouses are cached under the report folder.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import resource
import time
from pathlib import Path
from typing import Any

COLUMNS = "customer_id, email, phone, first_name, last_name, postal_code, country"
IDENTIFIERS = ("email", "phone", "first_name", "last_name", "postal_code", "country")
AS_OF = dt.date(2026, 11, 23)
THRESHOLDS = {"min_identifiable_share": 0.9, "max_invalid_email_share": 0.05, "max_invalid_phone_share": 0.1}


def _spec() -> Any:
    from behavior_sync.identity.spec import DestinationSpec, IdentitySpec

    destinations = (
        DestinationSpec("meta", "meta"),
        DestinationSpec(
            "google_ads", "google_ads", {"consent": {"ad_user_data": "GRANTED", "ad_personalization": "GRANTED"}}
        ),
        DestinationSpec("hubspot_list", "hubspot", {"mode": "list"}),
        DestinationSpec("clevertap", "clevertap", {"identity": "email"}),
    )
    return IdentitySpec("customer_id", {name: name for name in IDENTIFIERS}, destinations)


def warehouse(folder: Path, customers: int) -> Path:
    """The cached demo warehouse with ``customers`` customers (generated when missing)."""
    from behavior_sync.demo_warehouse import generate_demo_warehouse

    path = folder / f"warehouse_{customers}.duckdb"
    if not path.exists():
        generate_demo_warehouse(path, seed=42, as_of=AS_OF, customers=customers)
    return path


def _peak_rss_mib() -> float:
    """This process's peak resident memory. Linux's ``ru_maxrss`` survives exec, so a spawned child would
    report at least its parent's size: VmHWM (the high-water mark of this process image) is read instead."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024  # kB
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def extract_step(warehouse_path: str, work: str) -> dict[str, Any]:
    """Child process (like the extract task): warehouse -> snapshot Parquet."""
    from behavior_sync.warehouse import extract_to_parquet

    started = time.perf_counter()
    result = extract_to_parquet(
        f"duckdb:///{warehouse_path}", f"SELECT {COLUMNS} FROM customers", None, f"{work}/snapshot.parquet"
    )
    return {"seconds": time.perf_counter() - started, "rows": result.rows, "peak_rss_mib": _peak_rss_mib()}


def validate_step(work: str) -> dict[str, Any]:
    """Child process (like the validate task): checks + identities/quarantine files, then the GX gate."""
    from behavior_sync.identity.quality import run_gate
    from behavior_sync.identity.validate import validate_snapshot

    started = time.perf_counter()
    summary = validate_snapshot(f"{work}/snapshot.parquet", f"{work}/identity", _spec())
    seconds = time.perf_counter() - started
    started = time.perf_counter()
    gate = run_gate(summary.metrics, COLUMNS.split(", "), COLUMNS.split(", "), THRESHOLDS)
    return {
        "seconds": seconds,
        "members": summary.members,
        "gate_s": gate.seconds,
        "gate_with_import_s": time.perf_counter() - started,
        "gate_success": gate.success,
        "peak_rss_mib": _peak_rss_mib(),
    }


def prepare_step(work: str) -> dict[str, Any]:
    """Child process (like the prepare task): every destination's prepared Parquet."""
    from behavior_sync.identity.prepare import PrepareTarget, prepare_destinations

    spec = _spec()
    targets = {
        d.id: PrepareTarget(f"{work}/prepared/{d.id}.parquet", f"{work}/prepared/{d.id}.members.parquet")
        for d in spec.destinations
    }
    started = time.perf_counter()
    prepared = prepare_destinations(f"{work}/identity/identities.parquet", spec, targets)
    return {
        "seconds": time.perf_counter() - started,
        "identifiers": sum(p.rows for p in prepared.values()),
        "by_destination_s": {d: p.seconds for d, p in prepared.items()},
        "peak_rss_mib": _peak_rss_mib(),
    }


def naive(snapshot: str, max_rows: int) -> dict[str, Any]:
    """Child process: the naive way on the first ``max_rows`` rows of the snapshot."""
    import pyarrow.parquet as pq

    from tests.bench.naive import naive_prepare

    frame = pq.read_table(snapshot).slice(0, max_rows).to_pandas()
    started = time.perf_counter()
    naive_prepare(frame)
    return {"rows": len(frame), "seconds": time.perf_counter() - started, "peak_rss_mib": _peak_rss_mib()}


def _in_child(function: Any, *args: Any) -> dict[str, Any]:
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        result: dict[str, Any] = pool.apply(function, args)
    return result


def run(folder: Path, sizes: tuple[int, ...], naive_max_rows: int) -> list[dict[str, Any]]:
    """Measures every size, each step in its own process as Airflow runs tasks; one result dict per size."""
    results = []
    for size in sizes:
        work = folder.resolve() / f"identity_{size}"
        work.mkdir(parents=True, exist_ok=True)
        extract = _in_child(extract_step, str(warehouse(folder, size)), str(work))
        validate = _in_child(validate_step, str(work))
        prepare = _in_child(prepare_step, str(work))
        slow = _in_child(naive, str(work / "snapshot.parquet"), naive_max_rows)
        naive_total = slow["seconds"] / slow["rows"] * extract["rows"]
        ours = validate["seconds"] + prepare["seconds"]
        results.append(
            {
                "size": size,
                "extract": extract,
                "validate": validate,
                "prepare": prepare,
                "naive": slow | {"extrapolated_s": naive_total},
                "prepare_members_per_s": validate["members"] / prepare["seconds"],
                "validate_prepare_members_per_s": validate["members"] / ours,
                "speedup_vs_naive": naive_total / ours,
                "peak_rss_mib": max(step["peak_rss_mib"] for step in (extract, validate, prepare)),
            }
        )
    return results
