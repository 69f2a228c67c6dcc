"""Writing an Arrow table into the warehouse as a table replaced whole (imports of vendor data).

``duckdb:///<path>`` URLs are written with the ``duckdb`` package (``CREATE OR REPLACE TABLE ... AS``
from Arrow, one transaction); any other URL through SQLAlchemy (the table is created when missing,
emptied and filled in one transaction). Only string and timestamp columns are used by imports.
"""

from __future__ import annotations

import pyarrow as pa
import sqlalchemy as sa

from behavior_sync.warehouse.errors import HINT_CONNECT, driver_error


def replace_table(url: str, table: str, data: pa.Table) -> int:
    """Replaces ``table`` (a validated identifier) with ``data``; returns the rows written.

    Raises ``WarehouseError`` (no password in its text) when the warehouse refuses.
    """
    import duckdb

    try:
        if url.startswith("duckdb:///"):
            _duckdb_replace(url.removeprefix("duckdb:///"), table, data)
        else:
            _sqlalchemy_replace(url, table, data)
    except (sa.exc.SQLAlchemyError, duckdb.Error, OSError) as exc:
        raise driver_error(f"write table {table} into", url, exc, HINT_CONNECT) from None
    return int(data.num_rows)


def _duckdb_replace(path: str, table: str, data: pa.Table) -> None:
    import duckdb

    with duckdb.connect(path.split("?")[0]) as con:
        con.register("incoming", data)
        con.execute(f'CREATE OR REPLACE TABLE "{table}" AS SELECT * FROM incoming')


def _sqlalchemy_replace(url: str, table: str, data: pa.Table) -> None:
    columns = [
        sa.Column(f.name, sa.DateTime(timezone=True) if pa.types.is_timestamp(f.type) else sa.Text())
        for f in data.schema
    ]
    target = sa.Table(table, sa.MetaData(), *columns)
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            target.create(conn, checkfirst=True)
            conn.execute(sa.delete(target))
            if data.num_rows:
                conn.execute(target.insert(), data.to_pylist())
    finally:
        engine.dispose()
