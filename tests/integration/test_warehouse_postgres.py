"""Warehouse extraction from PostgreSQL through SQLAlchemy streaming (mandatory in CI)."""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import traceback
import uuid
from pathlib import Path

import psycopg
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from behavior_sync.warehouse import WarehouseError, extract_to_parquet, iter_record_batches

pytestmark = pytest.mark.postgres

ROWS = 60
NULL_FIRST = 25  # late_value is NULL in the first NULL_FIRST rows (ordered by id), then set
EXPECTED_COLUMNS = {
    "id": "int64",
    "visits": "int64",
    "email": "string",
    "active": "bool",
    "signup": "date32[day]",
    "last_seen": "timestamp[us]",
    "seen_at": "timestamp[us, tz=UTC]",
    "spend": "decimal128(38, 2)",
    "ratio": "decimal128(38, 4)",
    "score": "double",
    "external_id": "string",
    "attrs": "string",
    "late_value": "int64",
    "never": "string",
}


@pytest.fixture()
def warehouse(postgres_schema_url: str) -> str:
    """A ``members`` table of ROWS rows in the test's own schema; the schema's URL."""
    engine = sa.create_engine(postgres_schema_url)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            """
            CREATE TABLE members (
                id BIGINT PRIMARY KEY, visits INTEGER, email TEXT, active BOOLEAN, signup DATE,
                last_seen TIMESTAMP, seen_at TIMESTAMPTZ, spend NUMERIC(12,2), ratio NUMERIC, score DOUBLE PRECISION,
                external_id UUID, attrs JSONB, late_value INTEGER, never TEXT
            )
            """
        )
        conn.execute(
            sa.text(
                f"""
            INSERT INTO members
            SELECT i, i * 3, 'user' || i || '@example.com', i % 2 = 0, DATE '2024-01-01' + i,
                   TIMESTAMP '2024-03-01' + i * INTERVAL '1 hour',
                   TIMESTAMPTZ '2024-03-01 00:00:00+02' + i * INTERVAL '1 hour',
                   CASE WHEN i % 5 = 0 THEN NULL ELSE i * 1.25 END, round(i / 8.0, 4), i / 4.0,
                   md5(i::text)::uuid, jsonb_build_object('tier', i % 3, 'tags', jsonb_build_array('a', i)),
                   CASE WHEN i >= {NULL_FIRST} THEN i * 10 END, NULL
            FROM generate_series(0, {ROWS - 1}) AS g(i)
            """
            )
        )
        conn.exec_driver_sql("CREATE SEQUENCE ticket")
    engine.dispose()
    return postgres_schema_url


def test_extract_types_including_a_column_null_in_the_first_batches(warehouse: str, tmp_path: Path) -> None:
    dest = tmp_path / "snapshot" / "members.parquet"
    progress: list[int] = []

    result = extract_to_parquet(
        warehouse, "SELECT * FROM members ORDER BY id", None, str(dest), batch_rows=8, on_progress=progress.append
    )

    table = pq.read_table(dest)
    assert (result.rows, table.num_rows, result.columns) == (ROWS, ROWS, EXPECTED_COLUMNS)
    assert {f.name: str(f.type) for f in table.schema} == EXPECTED_COLUMNS
    assert progress[-1] == ROWS and len(progress) == -(-ROWS // 8)
    late = table.column("late_value").to_pylist()
    assert late[:NULL_FIRST] == [None] * NULL_FIRST and late[NULL_FIRST:] == [i * 10 for i in range(NULL_FIRST, ROWS)]


def test_extracted_values_round_trip(warehouse: str, tmp_path: Path) -> None:
    extract_to_parquet(warehouse, "SELECT * FROM members ORDER BY id", None, str(tmp_path / "m.parquet"), batch_rows=8)

    row = pq.read_table(tmp_path / "m.parquet").to_pylist()[7]

    assert row["seen_at"] == dt.datetime(2024, 2, 29, 22, tzinfo=dt.UTC) + dt.timedelta(hours=7)
    assert row["last_seen"] == dt.datetime(2024, 3, 1, 7)
    assert (row["spend"], row["ratio"]) == (decimal.Decimal("8.75"), decimal.Decimal("0.8750"))
    assert row["external_id"] == str(uuid.UUID(hashlib.md5(b"7").hexdigest()))
    assert json.loads(row["attrs"]) == {"tier": 1, "tags": ["a", 7]}
    assert (row["never"], row["active"], row["signup"]) == (None, False, dt.date(2024, 1, 8))


def test_params_with_casts_and_literal_colons(warehouse: str, tmp_path: Path) -> None:
    sql = """
        SELECT id, 'at: ' || to_char(seen_at, 'HH24:MI') AS label, attrs->>'tier' AS tier
        FROM members
        WHERE seen_at >= :since AND seen_at < :until::timestamptz  -- naive UTC values (:not_a_param)
          AND email <> 'x:y' AND attrs @> '{"tier":1}'
        ORDER BY id
    """
    since = dt.datetime(2024, 3, 1, 2, tzinfo=dt.timezone(dt.timedelta(hours=2)))  # 2024-03-01 00:00 UTC
    params = {"since": since, "until": dt.datetime(2024, 3, 1, 12), "unused": 1}

    result = extract_to_parquet(warehouse, sql, params, str(tmp_path / "m.parquet"), batch_rows=2)

    rows = pq.read_table(tmp_path / "m.parquet").to_pylist()
    # seen_at (UTC) = 2024-02-29 22:00 + i hours; in [00:00, 12:00) -> i in 2..13; tier 1 -> i % 3 == 1
    assert [r["id"] for r in rows] == [4, 7, 10, 13] and result.rows == 4
    assert rows[0] == {"id": 4, "label": "at: 02:00", "tier": "1"}


def test_missing_parameter_is_named(warehouse: str) -> None:
    with pytest.raises(WarehouseError, match=":until"):
        iter_record_batches(
            warehouse, "SELECT id FROM members WHERE seen_at < :until", {"since": dt.datetime(2024, 1, 1)}
        )


def test_hundred_thousand_rows_stream_through_small_batches(warehouse: str, tmp_path: Path) -> None:
    sql = """
        SELECT g AS member_id, 'user' || g || '@example.com' AS email, g % 7 = 0 AS flagged,
               (g * 0.01)::numeric(12,2) AS spend, TIMESTAMPTZ '2024-01-01' + g * INTERVAL '1 second' AS seen_at
        FROM generate_series(1, :n) AS g
    """
    progress: list[int] = []

    result = extract_to_parquet(
        warehouse, sql, {"n": 100_000}, str(tmp_path / "big.parquet"), batch_rows=7_000, on_progress=progress.append
    )

    assert result.rows == 100_000 == pq.ParquetFile(tmp_path / "big.parquet").metadata.num_rows
    assert len(progress) == 15 and progress[-1] == 100_000
    sizes = {b.num_rows for b in iter_record_batches(warehouse, sql, {"n": 100_000}, batch_rows=7_000)}
    assert max(sizes) == 7_000


def test_empty_result_has_the_column_names(warehouse: str, tmp_path: Path) -> None:
    result = extract_to_parquet(
        warehouse, "SELECT id, email FROM members WHERE false", None, str(tmp_path / "m.parquet")
    )

    assert result.rows == 0 and pq.read_table(tmp_path / "m.parquet").column_names == ["id", "email"]


def test_missing_table_raises_warehouse_error_with_driver_class(warehouse: str, tmp_path: Path) -> None:
    with pytest.raises(WarehouseError) as caught:
        extract_to_parquet(warehouse, "SELECT * FROM no_such_table", None, str(tmp_path / "m.parquet"))

    assert "UndefinedTable" in str(caught.value) and "no_such_table" in str(caught.value)
    assert isinstance(caught.value.__cause__, sa.exc.DBAPIError)
    assert isinstance(caught.value.__cause__.orig, psycopg.errors.UndefinedTable)
    assert list(tmp_path.iterdir()) == []


def test_queries_run_in_a_read_only_transaction(warehouse: str) -> None:
    with pytest.raises(WarehouseError, match="read-only"):
        list(iter_record_batches(warehouse, "SELECT nextval('ticket') AS n"))


def test_conversion_errors_do_not_quote_row_values(warehouse: str) -> None:
    with pytest.raises(WarehouseError, match="InvalidTextRepresentation") as caught:
        list(iter_record_batches(warehouse, "SELECT email::integer FROM members ORDER BY id"))

    assert "example.com" not in str(caught.value)
    logged = "".join(traceback.format_exception(caught.value))  # what an Airflow task log would print
    assert "example.com" not in logged
