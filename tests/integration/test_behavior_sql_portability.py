"""The six behavior queries give the same members on DuckDB and on PostgreSQL 15 (mandatory in CI).

A small demo warehouse is generated in DuckDB, copied table by table into the test's PostgreSQL
schema (COPY), and every ``include/sql/behaviors/*.sql`` runs unchanged on both engines through
``behavior_sync.warehouse.iter_record_batches`` with the same ``:data_interval_*`` parameters.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
import sqlalchemy as sa

from behavior_sync.demo_warehouse import generate_demo_warehouse
from behavior_sync.warehouse import iter_record_batches

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]
BEHAVIOR_SQL = sorted((ROOT / "include" / "sql" / "behaviors").glob("*.sql"))
AS_OF = dt.date(2026, 11, 23)
CUSTOMERS = 3_000
# Window ends: the daily run after AS_OF (midnight) and one ending mid-afternoon of AS_OF.
WINDOW_ENDS = (dt.datetime(2026, 11, 24), dt.datetime(2026, 11, 23, 15, 37, 12))
PG_TYPES = {"VARCHAR": "TEXT", "DOUBLE": "DOUBLE PRECISION", "FLOAT": "REAL"}


@pytest.fixture(scope="module")
def duckdb_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("portability") / "warehouse.duckdb"
    generate_demo_warehouse(path, seed=11, as_of=AS_OF, customers=CUSTOMERS)
    return path


def _copy_to_postgres(duckdb_file: Path, postgres_url: str) -> None:
    """Creates each demo table in the URL's schema with matching types and copies its rows."""
    engine = sa.create_engine(postgres_url)
    raw = engine.raw_connection()
    try:
        pg = raw.driver_connection
        with duckdb.connect(str(duckdb_file), read_only=True) as source, pg.cursor() as cur:  # type: ignore[union-attr]
            for table in ("customers", "orders", "browse_events"):
                columns = source.execute(
                    "SELECT column_name, data_type FROM information_schema.columns "
                    "WHERE table_name = ? ORDER BY ordinal_position",
                    [table],
                ).fetchall()
                cur.execute(f"CREATE TABLE {table} ({', '.join(f'{n} {PG_TYPES.get(t, t)}' for n, t in columns)})")
                with cur.copy(f"COPY {table} FROM STDIN") as copy:
                    for row in source.execute(f"SELECT * FROM {table}").fetchall():
                        copy.write_row(row)
        pg.commit()  # type: ignore[union-attr]
    finally:
        raw.close()
        engine.dispose()


def _rows(url: str, sql: str, end: dt.datetime) -> pa.Table:
    params = {"data_interval_start": end - dt.timedelta(days=1), "data_interval_end": end}
    return pa.Table.from_batches(list(iter_record_batches(url, sql, params)))


def _sorted_rows(table: pa.Table) -> list[tuple[object, ...]]:
    return sorted((tuple(row.values()) for row in table.to_pylist()), key=repr)


def test_behaviors_select_the_same_members_on_duckdb_and_postgres(duckdb_path: Path, postgres_schema_url: str) -> None:
    assert len(BEHAVIOR_SQL) >= 6
    _copy_to_postgres(duckdb_path, postgres_schema_url)
    duck_url = f"duckdb:///{duckdb_path}"
    for file in BEHAVIOR_SQL:
        sql = file.read_text()
        for end in WINDOW_ENDS:
            in_duckdb, in_postgres = _rows(duck_url, sql, end), _rows(postgres_schema_url, sql, end)
            label = f"{file.stem} at {end}"
            assert in_duckdb.num_rows > 0, label
            assert in_duckdb.column_names == in_postgres.column_names, label
            assert set(in_duckdb.column("customer_id").to_pylist()) == set(
                in_postgres.column("customer_id").to_pylist()
            ), label
            assert _sorted_rows(in_duckdb) == _sorted_rows(in_postgres), label  # same identifiers, byte for byte
