"""Drift arithmetic: a destination's read-back against the committed state, as counts (docs/adr/0015).

Everything runs over DuckDB tables of one connection, set up by ``register_state``: ``state_rows`` (the
committed state's rows) and the key values derived from them. Rows of members in doubt
(``keying.DOUBT_PREFIX``: sent, outcome unknown) are neither expected nor unexpected.

* exact: ``missing_values`` (committed key values the destination lacks) and ``unexpected_values`` (held
  values never committed), of which ``ours_values`` are found in an earlier committed state version (we
  added them once) and the rest are foreign; drift when anything is missing or ours is unexpected: a
  foreign member alone is kept and reported, never drift (nothing of ours is wrong);
* sampled: a reservoir sample of committed key values; drift when any sampled value is missing; the missing
  share is estimated with a Wilson score interval (95 %, finite-population corrected);
* count: the reported range must meet the range the committed count may show as after the vendor's match
  rate and the behavior's ``count_tolerance``.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import duckdb
import pyarrow as pa

from behavior_sync.destinations.readback import HeldValues, Method, ReportedCount, values_table
from behavior_sync.identity.engine import register_parquet
from behavior_sync.sync.keying import DOUBT_PREFIX, sql_list

IN_SYNC, DRIFT, UNKNOWN = "in_sync", "drift", "unknown"
CONFIDENCE = 0.95
_Z = 1.959964  # two-sided 95 %


@dataclass(frozen=True)
class Comparison:
    """The outcome of one comparison, as the drift record's counts (no identifiers)."""

    method: Method
    status: str
    committed: int
    message: str
    tolerance: str
    observed: int | None = None
    sample_size: int | None = None
    missing: int | None = None
    unexpected: int | None = None
    foreign: int | None = None
    expected_low: int | None = None
    expected_high: int | None = None
    missing_share: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    confidence: float | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def record_fields(self) -> dict[str, Any]:
        """The drift record's fields this comparison sets (``sync.reconcile.DriftRecord``)."""
        values = asdict(self) | {"method": self.method.value, "foreign_members": self.foreign}
        return {name: value for name, value in values.items() if name != "foreign"}


def register_state(con: duckdb.DuckDBPyConnection, state_uri: str, key_type: str | None) -> None:
    """Views ``state_rows``, ``committed_keys`` / ``doubt_keys`` (distinct values of ``key_type`` held by
    current members / by members in doubt) and table ``committed_members`` (current member keys)."""
    register_parquet(con, "state_src", state_uri)
    con.execute("CREATE TEMP VIEW state_rows AS SELECT member_key, id_type, value FROM state_src")
    doubt = f"starts_with(member_key, '{DOUBT_PREFIX}')"
    keys = sql_list([key_type] if key_type else [])
    for name, where in (("committed_keys", f"NOT {doubt}"), ("doubt_keys", doubt)):
        con.execute(
            f"CREATE TEMP TABLE {name} AS SELECT DISTINCT value FROM state_rows WHERE id_type IN {keys} AND {where}"
        )
    con.execute(f"CREATE TEMP TABLE committed_members AS SELECT DISTINCT member_key FROM state_rows WHERE NOT {doubt}")


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return int(con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])


def committed_values(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The committed key values (for destinations that look them up one by one)."""
    return [str(r[0]) for r in con.execute("SELECT value FROM committed_keys ORDER BY value").fetchall()]


def compare_exact(
    con: duckdb.DuckDBPyConnection, held: HeldValues, history: Sequence[str], key_type: str
) -> Comparison:
    """Tables ``missing_values``, ``unexpected_values`` and ``ours_values``; the exact comparison's counts.
    ``history``: URIs of the destination's committed state versions (where "we added it" is looked up)."""
    con.register("held_src", held.values)
    con.execute("CREATE TEMP TABLE held AS SELECT DISTINCT value FROM held_src")
    con.execute("CREATE TEMP TABLE missing_values AS SELECT value FROM committed_keys ANTI JOIN held USING (value)")
    con.execute(
        "CREATE TEMP TABLE unexpected_values AS SELECT value FROM held ANTI JOIN committed_keys USING (value) "
        "ANTI JOIN doubt_keys USING (value)"
    )
    con.execute("CREATE TEMP TABLE ours_values (value VARCHAR)")
    if _count(con, "unexpected_values"):
        _find_ours(con, history, key_type)
    committed, missing = _count(con, "committed_keys"), _count(con, "missing_values")
    unexpected, ours = _count(con, "unexpected_values"), _count(con, "ours_values")
    foreign = unexpected - ours + held.unaddressable
    status = DRIFT if missing or ours else IN_SYNC
    message = (
        f"{committed} committed, {_count(con, 'held') + held.unaddressable} held: {missing} missing, {ours} unexpected "
        f"that we had added, {foreign} foreign (never added by us: kept)"
    )
    return Comparison(
        Method.EXACT,
        status,
        committed,
        message,
        "exact: every key value compared (tolerance 0)",
        observed=_count(con, "held") + held.unaddressable,
        missing=missing,
        unexpected=unexpected + held.unaddressable,
        foreign=foreign,
        expected_low=committed,
        expected_high=committed,
        details={"held_notes": held.notes, "unaddressable": held.unaddressable},
    )


def _find_ours(con: duckdb.DuckDBPyConnection, history: Sequence[str], key_type: str) -> None:
    """Fills ``ours_values``: the unexpected values some committed state version holds (we added them once)."""
    for number, uri in enumerate(history):
        register_parquet(con, f"history_{number}", uri)
        con.execute(
            f"INSERT INTO ours_values SELECT value FROM unexpected_values ANTI JOIN ours_values USING (value) "
            f"SEMI JOIN (SELECT value FROM history_{number} WHERE id_type IN {sql_list([key_type])}) USING (value)"
        )


def sample_values(con: duckdb.DuckDBPyConnection, size: int, seed_text: str) -> list[str]:
    """A reservoir sample of at most ``size`` committed key values (repeatable for the same ``seed_text``)."""
    seed = int(hashlib.sha256(seed_text.encode()).hexdigest()[:7], 16)
    query = f"SELECT value FROM committed_keys USING SAMPLE reservoir({int(size)} ROWS) REPEATABLE ({seed})"
    return sorted(str(r[0]) for r in con.execute(query).fetchall())


def wilson(missing: int, sample: int, population: int) -> tuple[float, float]:
    """95 % Wilson score interval of the missing share, with the finite-population correction (a sample of the
    whole population is exact)."""
    if sample == 0:
        return 0.0, 1.0
    share = missing / sample
    if sample >= population:
        return share, share
    n = sample * (population - 1) / (population - sample)  # effective size: the corrected variance
    z2 = _Z * _Z
    centre = (share + z2 / (2 * n)) / (1 + z2 / n)
    half = _Z / (1 + z2 / n) * math.sqrt(share * (1 - share) / n + z2 / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def compare_sampled(con: duckdb.DuckDBPyConnection, sample: Sequence[str], lacking: Sequence[str]) -> Comparison:
    """Table ``missing_values`` (the sampled values the destination lacks) and the sampled comparison's counts."""
    con.register("lacking_src", values_table(list(lacking)))
    con.execute("CREATE TEMP TABLE missing_values AS SELECT DISTINCT value FROM lacking_src")
    con.execute("CREATE TEMP TABLE ours_values (value VARCHAR)")  # a sample never finds unexpected members
    population, n, x = _count(con, "committed_keys"), len(sample), len(set(lacking))
    low, high = wilson(x, n, population)
    share = x / n if n else 0.0
    estimate = (round(share * population), round(low * population), round(high * population))
    message = (
        f"{x} of {n} sampled of {population} committed missing: about {share:.1%} "
        f"(95 % {low:.1%}..{high:.1%}, {estimate[1]}..{estimate[2]} members)"
    )
    return Comparison(
        Method.SAMPLED,
        DRIFT if x else IN_SYNC,
        population,
        message,
        f"sampled: {n} of {population}; Wilson 95 % interval, finite-population corrected",
        sample_size=n,
        missing=x,
        missing_share=share,
        ci_low=low,
        ci_high=high,
        confidence=CONFIDENCE,
        details={"estimated_missing": estimate[0], "estimated_missing_range": [estimate[1], estimate[2]]},
    )


def compare_count(con: duckdb.DuckDBPyConnection, reported: ReportedCount, tolerance: float) -> Comparison:
    """The count comparison: the reported range [low, high] against the range the committed members may show as,
    [committed x match_low x (1 - tolerance), committed x (1 + tolerance)] (a list never counts more of ours than
    we sent, whatever the match rate)."""
    committed = _count(con, "committed_members")
    low = math.floor(committed * reported.match_low * (1 - tolerance) + 1e-9)  # 1e-9: float error, not a member
    high = math.ceil(committed * (1 + tolerance) - 1e-9)
    words = (
        f"count: committed {committed} x match {reported.match_low:.0%} x (1 - {tolerance:.0%}) .. "
        f"committed x (1 + {tolerance:.0%}) = [{low}, {high}]; {reported.rounding}"
    )
    details = {"reported": [reported.low, reported.high], "match": [reported.match_low, reported.match_high]}
    details |= {"notes": reported.notes}
    base = Comparison(
        Method.COUNT,
        IN_SYNC,
        committed,
        "",
        words,
        observed=reported.low,
        expected_low=low,
        expected_high=high,
        details=details,
    )
    if reported.high == 0 and 0 < low < reported.zero_below:
        return _with(base, UNKNOWN, f"the vendor reports 0, as it may for lists under {reported.zero_below:,}")
    missing, unexpected = max(0, low - reported.high), max(0, reported.low - high)
    shown = f"reported {reported.low}..{reported.high}, expected {low}..{high}"
    if missing or unexpected:
        text = f"{shown}: at least {missing} fewer / {unexpected} more than the tolerance allows"
        return _with(base, DRIFT, text, missing, unexpected)
    return _with(base, IN_SYNC, f"{shown}: within tolerance", 0, 0)


def _with(
    base: Comparison, status: str, message: str, missing: int | None = None, unexpected: int | None = None
) -> Comparison:
    return replace(base, status=status, message=message, missing=missing, unexpected=unexpected)


def hashed_lists(con: duckdb.DuckDBPyConnection) -> pa.Table:
    """The missing and unexpected values as SHA-256 hex with their kind (missing, ours, foreign): the run
    artifact a person can match against their own hashed keys; never the values."""
    sql = (
        "SELECT sha256(value) AS key_sha256, 'missing' AS kind FROM missing_values "
        "UNION ALL SELECT sha256(value), 'ours' FROM ours_values "
        "UNION ALL SELECT sha256(value), 'foreign' FROM (SELECT value FROM unexpected_values "
        "ANTI JOIN ours_values USING (value)) ORDER BY kind, key_sha256"
    )
    if not con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'unexpected_values'").fetchall()[0][0]:
        sql = "SELECT sha256(value) AS key_sha256, 'missing' AS kind FROM missing_values ORDER BY key_sha256"
    return con.sql(sql).to_arrow_table()
