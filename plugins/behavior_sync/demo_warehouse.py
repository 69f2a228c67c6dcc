"""The demo warehouse: a deterministic DuckDB file of customers, orders and browse events.

``generate_demo_warehouse`` writes the warehouse the six example behaviors
(``include/sql/behaviors/*.sql``) run against in the demo and the tests. Tables (schema ``main``):

* ``customers``      one row per customer (~0.5 % twice, same ``customer_id``), with realistically
                     messy identifiers: see ``behavior_sync.demo.identifiers``
* ``orders``         the 400 days up to and including ``as_of``
* ``browse_events``  view / add_to_cart / checkout events of the last 120 days
* ``demo_metadata``  seed, as_of, customers, generator version, history windows, DuckDB version

Generation is columnar SQL inside DuckDB; randomness is ``hash(seed, key...)``
(``behavior_sync.demo.random_sql``), so the same (seed, as_of, customers) gives identical table
contents, and facts sit on an absolute timeline (``behavior_sync.demo.timeline``): a later
``as_of`` keeps the past and adds new days, so behaviors gain and lose members between dates.
No Airflow here; the CLI is ``python -m behavior_sync demo-warehouse``.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from behavior_sync.demo.customers import customers_sql
from behavior_sync.demo.facts import BROWSE_EVENTS_SQL, ORDERS_SQL
from behavior_sync.demo.people import EMAIL_VERSIONS_SQL, people_sql
from behavior_sync.demo.random_sql import install_macros
from behavior_sync.demo.timeline import Timeline
from behavior_sync.demo.vocabulary import countries_table

GENERATOR_VERSION = "1"
_PARAM = re.compile(r"\$([A-Za-z_]\w*)")

_METADATA_SQL = """
CREATE TABLE demo_metadata AS
SELECT CAST($seed AS BIGINT) AS seed, CAST($as_of AS DATE) AS as_of, CAST($customers AS BIGINT) AS customers,
       CAST($generator_version AS VARCHAR) AS generator_version,
       DATE '1970-01-01' + CAST($order_from_day AS INTEGER) AS orders_from,
       DATE '1970-01-01' + CAST($browse_from_day AS INTEGER) AS browse_events_from,
       CAST($duckdb_version AS VARCHAR) AS duckdb_version
"""


@dataclass(frozen=True)
class DemoSummary:
    """What ``generate_demo_warehouse`` wrote: the file, its inputs, row counts and wall time (s)."""

    path: Path
    seed: int
    as_of: dt.date
    customers: int
    customer_rows: int
    order_rows: int
    browse_rows: int
    seconds: float


def generate_demo_warehouse(path: Path, *, seed: int = 42, as_of: dt.date, customers: int = 100_000) -> DemoSummary:
    """Writes the demo warehouse for ``as_of`` to the DuckDB file ``path`` and returns a summary.

    ``customers`` is the number of customer ids; all of them exist for ``as_of`` on or after
    2026-09-30 (earlier dates hold those who had signed up by then). The write is atomic: the
    file is built next to ``path`` under a temporary name and renamed over it, so readers see the
    old warehouse or the new one, never a partial one; the parent folder is created. Same
    arguments (and DuckDB version) give identical table contents; rerunning is idempotent.
    Raises TypeError/ValueError for bad arguments, duckdb.Error if DuckDB fails (no file left).
    """
    _check_arguments(seed, as_of, customers)
    started = time.perf_counter()
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = target.parent / f".{target.name}.{uuid.uuid4().hex[:12]}.tmp"
    try:
        counts = _build(scratch, seed, Timeline(as_of), customers)
        os.replace(scratch, target)
    finally:
        for leftover in (scratch, scratch.with_name(scratch.name + ".wal")):
            leftover.unlink(missing_ok=True)
    return DemoSummary(target, seed, as_of, customers, *counts, seconds=time.perf_counter() - started)


def _check_arguments(seed: int, as_of: dt.date, customers: int) -> None:
    """Raises TypeError/ValueError unless seed is a 64-bit int, as_of a date and customers >= 1."""
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    if not -(2**63) <= seed < 2**63:
        raise ValueError("seed must fit in a signed 64-bit integer")
    if isinstance(as_of, dt.datetime) or not isinstance(as_of, dt.date):
        raise TypeError(f"as_of must be a datetime.date, got {type(as_of).__name__}")
    if isinstance(customers, bool) or not isinstance(customers, int):
        raise TypeError(f"customers must be an int, got {type(customers).__name__}")
    if not 1 <= customers < 100_000_000:
        raise ValueError(f"customers must be between 1 and 99,999,999, got {customers}")


def _build(file: Path, seed: int, timeline: Timeline, customers: int) -> tuple[int, int, int]:
    """Creates every table in a new DuckDB file; returns (customer, order, browse event) row counts."""
    params = {
        **timeline.sql_params(),
        "customers": customers,
        "seed": seed,
        "as_of": timeline.as_of,
        "generator_version": GENERATOR_VERSION,
        "duckdb_version": duckdb.__version__,
    }
    con = duckdb.connect(str(file))
    try:
        install_macros(con, seed)
        con.register("countries_arrow", countries_table())
        con.execute("CREATE TEMP TABLE countries AS SELECT * FROM countries_arrow")
        for statement in (
            people_sql(),
            EMAIL_VERSIONS_SQL,
            customers_sql(),
            ORDERS_SQL,
            BROWSE_EVENTS_SQL,
            _METADATA_SQL,
        ):
            _execute(con, statement, params)
        counts = tuple(_count(con, table) for table in ("customers", "orders", "browse_events"))
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return counts[0], counts[1], counts[2]


def _execute(con: duckdb.DuckDBPyConnection, sql: str, params: Mapping[str, Any]) -> None:
    """Runs ``sql`` binding only the ``$name`` parameters it uses (DuckDB rejects unused ones)."""
    used = {name: params[name] for name in _PARAM.findall(sql)}
    con.execute(sql, used or None)


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    row = con.execute(f"SELECT count(*) FROM {table}").fetchone()
    return int(row[0]) if row else 0


__all__ = ["GENERATOR_VERSION", "DemoSummary", "generate_demo_warehouse"]
