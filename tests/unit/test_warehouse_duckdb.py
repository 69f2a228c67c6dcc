"""Warehouse extraction from DuckDB files into Parquet snapshots (behavior_sync.warehouse).

Also the parts of the module that need no server: ``:name`` parameter scanning, the rows-to-Arrow
conversion of the SQLAlchemy path (on SQLite and on plain Python rows), and error messages.
"""

from __future__ import annotations

import datetime as dt
import decimal
import traceback
import uuid
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from behavior_sync.warehouse import ExtractResult, WarehouseError, arrow_rows, extract_to_parquet, iter_record_batches
from behavior_sync.warehouse.arrow_rows import RowBatcher
from behavior_sync.warehouse.sql_params import bind_for_duckdb, bind_for_sqlalchemy, parameter_names

ROWS = 25
EXPECTED_COLUMNS = {
    "id": "int64",
    "visits": "int32",
    "email": "string",
    "active": "bool",
    "signup": "date32[day]",
    "last_seen": "timestamp[us]",
    "spend": "decimal128(12, 2)",
    "score": "double",
    "nickname": "string",
}
MEMBERS_SQL = "SELECT * FROM members ORDER BY id"


def expected_member(i: int) -> dict[str, object]:
    """Row ``i`` of the seed table, as Python values (NULLs where the seed puts them)."""
    return {
        "id": 1_000_000_000_000 + i,
        "visits": i * 3,
        "email": f"user{i}@example.com",
        "active": i % 2 == 0,
        "signup": dt.date(2024, 1, 1) + dt.timedelta(days=i),
        "last_seen": dt.datetime(2024, 3, 1) + dt.timedelta(hours=i),
        "spend": None if i % 5 == 0 else decimal.Decimal(i * 125) / 100,
        "score": i / 4,
        "nickname": None if i % 4 == 0 else f"nick{i}",
    }


@pytest.fixture()
def warehouse(tmp_path: Path) -> str:
    """A DuckDB file with a ``members`` table of ROWS rows covering the common types and NULLs; its URL."""
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute(
            """
            CREATE TABLE members (id BIGINT, visits INTEGER, email VARCHAR, active BOOLEAN, signup DATE,
                                  last_seen TIMESTAMP, spend DECIMAL(12,2), score DOUBLE, nickname VARCHAR)
            """
        )
        con.execute(
            f"""
            INSERT INTO members
            SELECT 1000000000000 + i, i * 3, 'user' || i || '@example.com', i % 2 = 0,
                   DATE '2024-01-01' + i::INTEGER, TIMESTAMP '2024-03-01' + i * INTERVAL 1 HOUR,
                   CASE WHEN i % 5 = 0 THEN NULL ELSE (i * 1.25)::DECIMAL(12,2) END, i / 4,
                   CASE WHEN i % 4 = 0 THEN NULL ELSE 'nick' || i END
            FROM range({ROWS}) r(i)
            """
        )
    return f"duckdb:///{path}"


def leftovers(folder: Path) -> list[str]:
    """Files in ``folder`` other than the snapshot itself (temporary files must not survive)."""
    return sorted(p.name for p in folder.iterdir() if p.name != "members.parquet")


# --- DuckDB extraction ---------------------------------------------------------------------------


def test_extract_writes_every_row_with_duckdb_types_and_values(warehouse: str, tmp_path: Path) -> None:
    dest = tmp_path / "run" / "snapshot" / "members.parquet"

    result = extract_to_parquet(warehouse, MEMBERS_SQL, None, str(dest), batch_rows=4)

    assert isinstance(result, ExtractResult)
    assert (result.uri, result.rows, result.columns) == (str(dest), ROWS, EXPECTED_COLUMNS)
    assert result.bytes == dest.stat().st_size > 0 and result.seconds >= 0
    table = pq.read_table(dest)
    assert {f.name: str(f.type) for f in table.schema} == EXPECTED_COLUMNS
    assert table.to_pylist() == [expected_member(i) for i in range(ROWS)]
    parquet = pq.ParquetFile(dest)
    assert parquet.metadata.num_row_groups > 1
    assert parquet.metadata.row_group(0).column(0).compression == "ZSTD"


def test_iter_record_batches_streams_bounded_batches_of_one_schema(warehouse: str) -> None:
    batches = list(iter_record_batches(warehouse, MEMBERS_SQL, batch_rows=4))

    assert len(batches) > 1
    assert all(0 < b.num_rows <= 4 for b in batches)
    assert sum(b.num_rows for b in batches) == ROWS
    assert all(b.schema == batches[0].schema for b in batches)


def test_params_bind_next_to_casts_literal_colons_and_comments(warehouse: str, tmp_path: Path) -> None:
    sql = """
        SELECT id, 'seen at: ' || strftime(last_seen, '%H:%M') AS label, visits::VARCHAR AS visits_text
        FROM members
        WHERE last_seen >= :since  -- a tz-aware value: bound as naive UTC (:not_a_param in a comment)
          AND visits < :max_visits::INTEGER
          AND email <> 'x:y' /* :nor_here */
        ORDER BY id
    """
    since = dt.datetime(2024, 3, 1, 12, tzinfo=dt.timezone(dt.timedelta(hours=2)))  # 10:00 UTC
    params = {"since": since, "max_visits": "45", "unused": object()}

    result = extract_to_parquet(warehouse, sql, params, str(tmp_path / "members.parquet"))

    rows = pq.read_table(tmp_path / "members.parquet").to_pylist()
    assert result.rows == 5 and [r["id"] - 1_000_000_000_000 for r in rows] == [10, 11, 12, 13, 14]
    assert rows[0] == {"id": 1_000_000_000_010, "label": "seen at: 10:00", "visits_text": "30"}


def test_a_parameter_without_value_is_named_in_the_error(warehouse: str, tmp_path: Path) -> None:
    sql = "SELECT * FROM members WHERE last_seen < :data_interval_end AND id > :min_id"

    with pytest.raises(WarehouseError, match=r":min_id.*no value") as caught:
        extract_to_parquet(warehouse, sql, {"data_interval_end": dt.datetime(2025, 1, 1)}, str(tmp_path / "m.parquet"))

    assert ":data_interval_end" not in str(caught.value).split("no value")[0]
    assert not (tmp_path / "m.parquet").exists()


def test_missing_required_columns_are_listed_with_the_returned_ones(warehouse: str, tmp_path: Path) -> None:
    with pytest.raises(WarehouseError) as caught:
        extract_to_parquet(
            warehouse,
            "SELECT id, email FROM members",
            None,
            str(tmp_path / "members.parquet"),
            required_columns=("id", "phone", "customer_id"),
        )

    message = str(caught.value)
    assert "phone, customer_id" in message and "it returned: id, email" in message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["warehouse.duckdb"]  # nothing written, not even a temp file


def test_repeated_column_names_are_refused(warehouse: str, tmp_path: Path) -> None:
    with pytest.raises(WarehouseError, match="email more than once"):
        extract_to_parquet(warehouse, "SELECT email, email FROM members", None, str(tmp_path / "m.parquet"))


def test_empty_result_gives_an_empty_file_with_the_query_schema(warehouse: str, tmp_path: Path) -> None:
    dest = tmp_path / "members.parquet"
    progress: list[int] = []

    result = extract_to_parquet(
        warehouse, "SELECT * FROM members WHERE id < 0", None, str(dest), on_progress=progress.append
    )

    table = pq.read_table(dest)
    assert (result.rows, table.num_rows, progress) == (0, 0, [])
    assert result.columns == EXPECTED_COLUMNS == {f.name: str(f.type) for f in table.schema}


def test_empty_result_still_yields_one_batch_with_the_schema(warehouse: str) -> None:
    batches = list(iter_record_batches(warehouse, "SELECT id, email FROM members WHERE false"))

    assert [b.num_rows for b in batches] == [0]
    assert batches[0].schema == pa.schema([("id", pa.int64()), ("email", pa.string())])


def test_rerun_overwrites_the_snapshot(warehouse: str, tmp_path: Path) -> None:
    dest = tmp_path / "members.parquet"
    extract_to_parquet(warehouse, MEMBERS_SQL, None, str(dest), batch_rows=7)

    again = extract_to_parquet(warehouse, "SELECT id FROM members WHERE id % 2 = 0", None, f"file://{dest}")

    assert again.rows == 13 and pq.read_table(dest).column_names == ["id"]
    assert leftovers(tmp_path) == ["warehouse.duckdb"]


def test_progress_is_reported_after_each_batch_with_growing_counts(warehouse: str, tmp_path: Path) -> None:
    progress: list[int] = []

    extract_to_parquet(
        warehouse, MEMBERS_SQL, None, str(tmp_path / "members.parquet"), batch_rows=4, on_progress=progress.append
    )

    assert len(progress) > 1 and progress == sorted(set(progress)) and progress[-1] == ROWS


def test_a_crash_mid_write_keeps_the_previous_snapshot_and_no_temp_file(warehouse: str, tmp_path: Path) -> None:
    dest = tmp_path / "members.parquet"
    extract_to_parquet(warehouse, "SELECT id FROM members WHERE id % 5 = 0", None, str(dest))
    before = dest.read_bytes()

    def crash(rows_so_far: int) -> None:
        if rows_so_far > 4:
            raise RuntimeError("worker killed")

    with pytest.raises(RuntimeError, match="worker killed"):
        extract_to_parquet(warehouse, MEMBERS_SQL, None, str(dest), batch_rows=4, on_progress=crash)

    assert dest.read_bytes() == before
    assert leftovers(tmp_path) == ["warehouse.duckdb"]


def test_bad_table_name_raises_warehouse_error_with_driver_class_and_url(warehouse: str, tmp_path: Path) -> None:
    with pytest.raises(WarehouseError) as caught:
        extract_to_parquet(warehouse, "SELECT * FROM no_such_table", None, str(tmp_path / "m.parquet"))

    message = str(caught.value)
    assert "CatalogException" in message and "no_such_table" in message and warehouse in message
    assert isinstance(caught.value.__cause__, duckdb.Error)
    assert leftovers(tmp_path) == ["warehouse.duckdb"]


def test_conversion_errors_do_not_quote_row_values(warehouse: str) -> None:
    with pytest.raises(WarehouseError, match="ConversionException") as caught:
        list(iter_record_batches(warehouse, "SELECT CAST(email AS INTEGER) FROM members"))

    assert "@example.com" not in str(caught.value)
    logged = "".join(traceback.format_exception(caught.value))  # what an Airflow task log would print
    assert "@example.com" not in logged


def test_missing_database_file_is_an_error_and_is_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "nope.duckdb"

    with pytest.raises(WarehouseError, match="could not open"):
        list(iter_record_batches(f"duckdb:///{missing}", "SELECT 1"))

    assert not missing.exists()


def test_the_warehouse_file_is_opened_read_only(warehouse: str) -> None:
    with pytest.raises(WarehouseError, match="read-only"):
        list(iter_record_batches(warehouse, "CREATE TABLE sneaky AS SELECT 1 AS x"))


def test_in_memory_duckdb_and_timestamptz_come_out_in_utc() -> None:
    sql = "SELECT TIMESTAMPTZ '2024-05-01 12:00:00+02' AS at, :day::DATE AS day"

    batch = next(iter_record_batches("duckdb:///:memory:", sql, {"day": "2024-05-01"}))

    assert batch.schema.field("at").type == pa.timestamp("us", tz="UTC")
    assert batch.to_pylist()[0]["at"] == dt.datetime(2024, 5, 1, 10, tzinfo=dt.UTC)


def test_destination_must_be_absolute_or_a_uri(warehouse: str) -> None:
    with pytest.raises(WarehouseError, match="absolute path or a URI"):
        extract_to_parquet(warehouse, MEMBERS_SQL, None, "relative/members.parquet")


def test_batch_rows_must_be_positive(warehouse: str) -> None:
    with pytest.raises(ValueError, match="batch_rows"):
        iter_record_batches(warehouse, MEMBERS_SQL, batch_rows=0)


# --- :name parameters ----------------------------------------------------------------------------


def test_parameters_are_found_only_in_sql_code() -> None:
    sql = r"""
        SELECT :a, x::int, 'lit :b', E'it\'s :c', "col:d", $$ :e $$, $t$ :f $t$, arr[1:2], \:g, :h::date
        -- :i
        /* :j */
        FROM t WHERE y = :a AND z = :k
    """

    assert parameter_names(sql) == ["a", "h", "k"]


def test_sqlalchemy_text_sees_literal_colons_as_text() -> None:
    sql = """SELECT :x AS x, '{"k":1}' AS j, 'a:b' AS s, :when AS d"""
    day = dt.datetime(2024, 1, 2, 23, tzinfo=dt.timezone(dt.timedelta(hours=-2)))

    rows = [b.to_pylist() for b in iter_record_batches("sqlite://", sql, {"x": 7, "when": day, "extra": 1})]

    bound = bind_for_sqlalchemy(sql, {"x": 7, "when": day})
    assert bound.params == {"x": 7, "when": dt.datetime(2024, 1, 3, 1)}
    assert rows == [[{"x": 7, "j": '{"k":1}', "s": "a:b", "d": "2024-01-03 01:00:00"}]]


def test_duckdb_binding_keeps_literals_and_rewrites_parameters() -> None:
    bound = bind_for_duckdb("SELECT :a::int, ':a', :b -- :c", {"a": 1, "b": dt.datetime(2024, 1, 1, tzinfo=dt.UTC)})

    assert bound.text == "SELECT $a ::int, ':a', $b -- :c"
    assert bound.params == {"a": 1, "b": dt.datetime(2024, 1, 1)}


# --- SQLAlchemy path without a server (SQLite) and rows -> Arrow -----------------------------------


def test_sqlite_column_null_in_first_partitions_takes_its_type_from_later_rows(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'w.sqlite'}"
    sql = """
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 30)
        SELECT i, CASE WHEN i > 12 THEN i * 10 END AS late, NULL AS never FROM n
    """

    result = extract_to_parquet(url, sql, None, str(tmp_path / "members.parquet"), batch_rows=5)

    table = pq.read_table(tmp_path / "members.parquet")
    assert result.rows == 30 and result.columns == {"i": "int64", "late": "int64", "never": "string"}
    assert table.column("late").null_count == 12 and table.column("late").to_pylist()[12] == 130


def test_row_batcher_maps_python_values_to_arrow_types() -> None:
    values = (
        True,
        7,
        1.5,
        decimal.Decimal("1.25"),
        "s",
        dt.datetime(2024, 1, 1, 12, tzinfo=dt.timezone(dt.timedelta(hours=2))),
        dt.datetime(2024, 1, 1),
        dt.date(2024, 1, 1),
        uuid.UUID(int=1),
        {"k": [1, "é"]},
        [1, 2],
        b"\x00",
    )
    names = ["b", "i", "f", "d", "s", "tz", "ts", "day", "u", "obj", "arr", "raw"]

    batches = RowBatcher(names).push([values, (None,) * len(values)])

    schema, row = batches[0].schema, batches[0].to_pylist()[0]
    assert [str(t) for t in schema.types] == [
        "bool",
        "int64",
        "double",
        "decimal128(38, 2)",
        "string",
        "timestamp[us, tz=UTC]",
        "timestamp[us]",
        "date32[day]",
        "string",
        "string",
        "string",
        "binary",
    ]
    assert row["tz"] == dt.datetime(2024, 1, 1, 10, tzinfo=dt.UTC)
    assert (row["u"], row["obj"], row["arr"]) == (str(uuid.UUID(int=1)), '{"k": [1, "é"]}', "[1, 2]")


def test_row_batcher_holds_partitions_until_typed_then_casts_them() -> None:
    batcher = RowBatcher(["a", "b"])

    assert batcher.push([(1, None), (2, None)]) == []
    released = batcher.push([(3, decimal.Decimal("2.50"))])
    later = batcher.push([(4, decimal.Decimal("12.75"))]) + batcher.finish()

    assert [b.num_rows for b in released + later] == [2, 1, 1]
    assert {str(b.schema.field("b").type) for b in released + later} == {"decimal128(38, 2)"}


def test_row_batcher_bounds_what_it_holds_then_falls_back_to_string() -> None:
    batcher = RowBatcher(["email", "phone"], probe_rows=3)

    assert batcher.push([("a@x.io", None), ("b@x.io", None)]) == []
    released = batcher.push([("c@x.io", None)])
    assert [str(b.schema.field("phone").type) for b in released] == ["string", "string"]

    with pytest.raises(WarehouseError, match=r"column 'phone'.*CAST") as caught:
        batcher.push([("d@x.io", 5551234)])
    assert "5551234" not in str(caught.value) and caught.value.__cause__ is None


def test_a_value_that_does_not_fit_the_established_type_names_the_column() -> None:
    batcher = RowBatcher(["visits"])
    batcher.push([(1,)])

    with pytest.raises(WarehouseError, match=r"column 'visits'") as caught:
        batcher.push([("secret@example.com",)])

    assert "secret@example.com" not in str(caught.value)


def test_unknown_python_types_ask_for_a_cast() -> None:
    with pytest.raises(WarehouseError, match=r"column 'c'.*Python type complex.*CAST"):
        RowBatcher(["c"]).push([(1j,)])


def test_default_type_probe_is_bounded() -> None:
    assert 0 < arrow_rows.TYPE_PROBE_ROWS <= 1_000_000


# --- URLs and messages ---------------------------------------------------------------------------


def test_connection_errors_hide_the_password() -> None:
    url = "postgresql+psycopg://bsync:s3cr3t-pw@127.0.0.1:1/warehouse"

    with pytest.raises(WarehouseError, match="could not connect to") as caught:
        list(iter_record_batches(url, "SELECT 1"))

    assert "s3cr3t-pw" not in str(caught.value) and "bsync:***@127.0.0.1:1" in str(caught.value)


def test_unparseable_url_is_reported_without_echoing_it() -> None:
    with pytest.raises(WarehouseError, match="cannot be parsed") as caught:
        iter_record_batches("not a url with pw=hunter2", "SELECT 1")

    assert "hunter2" not in str(caught.value)
