"""Deterministic, stateless randomness for the demo generator, as DuckDB macros.

Every draw is a pure function of ``(seed, a, b, salt)``: ``rnd(a, b, salt)`` hashes the four with
DuckDB's ``hash()`` (chained, see ``_mixed``) and maps the result to a double in [0, 1). Nothing depends on row order,
threads or how many rows a query produces, so the same key gives the same value in every run and
in every warehouse date (the basis of determinism and of the absolute timeline). ``a`` is usually
the customer, ``b`` a period or slot, ``salt`` a name that separates independent draws.

``hash()`` is stable for a given DuckDB version (pinned in requirements.txt); a DuckDB upgrade may
change the generated universe, never its shape.
"""

from __future__ import annotations

import duckdb

_UNIT = 2.0**-53  # a 53-bit integer times this is a double in [0, 1)


def _mixed(seed: int) -> str:
    """SQL for a 64-bit hash of (seed, salt, a, b): murmur-mixed after each key, so it is asymmetric.

    DuckDB's multi-argument ``hash(x, y)`` XORs the arguments' hashes, which makes draws that share
    a key correlated (and ``hash(1, 2) = hash(2, 1)``); chaining ``hash(xor(h, key))`` does not.
    """
    return f"hash(xor(hash(xor(hash(CAST({seed} AS BIGINT), salt), CAST(a AS UBIGINT))), CAST(b AS UBIGINT)))"


def macro_statements(seed: int) -> list[str]:
    """``CREATE TEMP MACRO`` statements for ``rnd``, ``hash_id``, ``hex16``, ``pick``, ``pick_char``, ``digits``,
    ``poisson3``.

    ``seed`` must be an int (it is written into the macro text); the keys ``a`` and ``b`` must be
    non-negative integers, ``salt`` a string. Temp macros live in the session, never in the file.
    """
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    mixed = _mixed(seed)
    return [
        f"CREATE OR REPLACE TEMP MACRO rnd(a, b, salt) AS ({mixed} >> 11) * {_UNIT!r}",
        # An opaque positive BIGINT id for (a, b, salt), e.g. a session id.
        f"CREATE OR REPLACE TEMP MACRO hash_id(a, b, salt) AS CAST({mixed} >> 2 AS BIGINT)",
        # 16 lowercase hex digits for (a, b, salt), e.g. half of a UUID-shaped id.
        f"CREATE OR REPLACE TEMP MACRO hex16(a, b, salt) AS lpad(lower(hex({mixed})), 16, '0')",
        "CREATE OR REPLACE TEMP MACRO pick(xs, r) AS xs[1 + CAST(floor(r * len(xs)) AS BIGINT)]",
        "CREATE OR REPLACE TEMP MACRO pick_char(s, r) AS substr(s, 1 + CAST(floor(r * length(s)) AS BIGINT), 1)",
        "CREATE OR REPLACE TEMP MACRO digits(r, n) AS "
        "lpad(CAST(CAST(floor(r * pow(10, n)) AS BIGINT) AS VARCHAR), CAST(n AS INTEGER), '0')",
        # A Poisson(lam) count capped at 3, from one uniform u.
        "CREATE OR REPLACE TEMP MACRO poisson3(lam, u) AS CASE "
        "WHEN u < 1 - exp(-lam) * (1 + lam + lam * lam / 2) THEN 3 "
        "WHEN u < 1 - exp(-lam) * (1 + lam) THEN 2 "
        "WHEN u < 1 - exp(-lam) THEN 1 ELSE 0 END",
    ]


def install_macros(con: duckdb.DuckDBPyConnection, seed: int) -> None:
    """Creates the macros of ``macro_statements(seed)`` on ``con`` (idempotent)."""
    for statement in macro_statements(seed):
        con.execute(statement)
