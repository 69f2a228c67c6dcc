"""Streaming a behavior query's result as Arrow record batches, from DuckDB or any SQLAlchemy URL.

``duckdb:///<path>`` URLs (``duckdb:////abs/path.duckdb``, ``duckdb:///:memory:``) are read with the
``duckdb`` package itself, Arrow end to end: the file is opened read-only and the relation streams
through DuckDB's Arrow record batch reader. The URL's query string is passed as DuckDB settings
(``?memory_limit=2GB&threads=4``). Any other URL goes through SQLAlchemy 2 with server-side
streaming (``stream_results``/``yield_per``); each partition of rows becomes one batch
(``arrow_rows``). On PostgreSQL the transaction is read-only.

Sessions run with time zone UTC (DuckDB and PostgreSQL), so naive-UTC parameters compare correctly
with TIMESTAMPTZ columns and results do not depend on the worker's or the server's zone.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from behavior_sync.warehouse.arrow_rows import RowBatcher
from behavior_sync.warehouse.errors import (
    HINT_CONNECT,
    HINT_QUERY,
    HINT_READ,
    WarehouseError,
    chainable,
    driver_error,
    safe_url,
)
from behavior_sync.warehouse.sql_params import BoundSql, bind_for_duckdb, bind_for_sqlalchemy

if TYPE_CHECKING:
    import duckdb

Batches = Generator[pa.RecordBatch, None, None]


def iter_record_batches(
    url: str, sql: str, params: Mapping[str, Any] | None = None, *, batch_rows: int = 50_000
) -> Iterator[pa.RecordBatch]:
    """Runs ``sql`` on the warehouse at ``url`` and yields its rows as Arrow record batches.

    ``sql`` uses ``:name`` parameters (see ``sql_params``); only those it uses are bound.
    Batches hold at most ``batch_rows`` rows and all share one schema; an empty result yields exactly
    one empty batch carrying the query's schema. Memory stays bounded by the batch size (plus, on
    the SQLAlchemy path, rows held back while a column is still all NULL: ``arrow_rows``).

    Raises ValueError for ``batch_rows < 1``, and WarehouseError for an unparseable URL or a missing
    parameter (at call time) and for driver failures (connection, SQL, streaming: while iterating).
    The connection is closed when the iterator is exhausted or closed; close it when stopping early.
    Read-only: running it again has no effect on the warehouse.
    """
    return open_batches(url, sql, params, batch_rows=batch_rows)


def open_batches(url: str, sql: str, params: Mapping[str, Any] | None = None, *, batch_rows: int = 50_000) -> Batches:
    """``iter_record_batches`` as a closable generator (same contract)."""
    if batch_rows < 1:
        raise ValueError(f"batch_rows must be at least 1, got {batch_rows}")
    if _backend(url) == "duckdb":
        return _duckdb_batches(url, bind_for_duckdb(sql, params), batch_rows)
    return _sqlalchemy_batches(url, bind_for_sqlalchemy(sql, params), batch_rows)


def _backend(url: str) -> str:
    try:
        return sa.make_url(url).get_backend_name()
    except (sa.exc.ArgumentError, ValueError, TypeError):
        raise WarehouseError(
            "the warehouse URL cannot be parsed; it must be a SQLAlchemy URL such as "
            "duckdb:////abs/path/warehouse.duckdb or postgresql+psycopg://user@host:5432/db"
        ) from None


def _duckdb_batches(url: str, bound: BoundSql, batch_rows: int) -> Batches:
    import duckdb

    with _duckdb_connection(url) as con:
        try:
            relation = con.sql(bound.text, params=bound.params or None)
            if relation is None:
                raise WarehouseError(
                    f"the SQL returned no result set on {safe_url(url)}; a behavior query must be a SELECT"
                )
            reader = relation.to_arrow_reader(batch_rows)
        except duckdb.Error as exc:
            raise driver_error("run the query on", url, exc, HINT_QUERY) from chainable(exc)
        with reader:
            yield from _at_least_one(_guarded(reader, url, (duckdb.Error, pa.ArrowException)), reader.schema)


@contextmanager
def _duckdb_connection(url: str) -> Iterator[duckdb.DuckDBPyConnection]:
    """A DuckDB connection for ``url`` (files read-only), its session in UTC; closed on exit."""
    import duckdb

    parsed = sa.make_url(url)
    database = parsed.database or ":memory:"
    config: dict[str, Any] = {key: value for key, value in parsed.query.items() if isinstance(value, str)}
    try:
        con = duckdb.connect(database, read_only=database != ":memory:", config=config)
    except duckdb.Error as exc:
        raise driver_error("open", url, exc, HINT_CONNECT) from chainable(exc)
    with con:
        try:
            con.execute("SET TimeZone = 'UTC'")
            con.execute("SET enable_progress_bar = false")  # no progress bars in task logs
        except duckdb.Error as exc:
            raise driver_error("set up a session on", url, exc, HINT_CONNECT) from chainable(exc)
        yield con


def _sqlalchemy_batches(url: str, bound: BoundSql, batch_rows: int) -> Batches:
    with _sqlalchemy_connection(url) as conn:
        try:
            result = conn.execution_options(stream_results=True, yield_per=batch_rows).execute(
                sa.text(bound.text), bound.params
            )
        except sa.exc.SQLAlchemyError as exc:
            raise driver_error("run the query on", url, exc, HINT_QUERY) from chainable(exc)
        with result:
            if not result.returns_rows:
                raise WarehouseError(
                    f"the SQL returned no result set on {safe_url(url)}; a behavior query must be a SELECT"
                )
            batcher = RowBatcher(list(result.keys()))
            for rows in _guarded(result.partitions(batch_rows), url, (sa.exc.SQLAlchemyError,)):
                yield from batcher.push(rows)
            yield from batcher.finish()


@contextmanager
def _sqlalchemy_connection(url: str) -> Iterator[sa.Connection]:
    """A connection without pooling (the engine is disposed on exit); read-only and UTC on PostgreSQL."""
    try:
        engine = sa.create_engine(url, poolclass=NullPool)
    except (sa.exc.SQLAlchemyError, ImportError) as exc:
        raise driver_error("create an engine for", url, exc, HINT_CONNECT) from chainable(exc)
    try:
        with _connect(engine, url) as conn:
            yield conn
    finally:
        engine.dispose()


@contextmanager
def _connect(engine: sa.Engine, url: str) -> Iterator[sa.Connection]:
    try:
        conn = engine.connect()
    except sa.exc.SQLAlchemyError as exc:
        raise driver_error("connect to", url, exc, HINT_CONNECT) from chainable(exc)
    with conn:
        if engine.dialect.name == "postgresql":
            try:
                conn.execution_options(postgresql_readonly=True)
                conn.exec_driver_sql("SET TIME ZONE 'UTC'")
            except sa.exc.SQLAlchemyError as exc:
                raise driver_error("set up a session on", url, exc, HINT_CONNECT) from chainable(exc)
        yield conn


def _guarded(items: Iterable[Any], url: str, errors: tuple[type[BaseException], ...]) -> Iterator[Any]:
    """``items``, with the driver's ``errors`` raised while reading them turned into WarehouseError."""
    iterator = iter(items)
    while True:
        try:
            item = next(iterator)
        except StopIteration:
            return
        except errors as exc:
            raise driver_error("read the query results from", url, exc, HINT_READ) from chainable(exc)
        yield item


def _at_least_one(batches: Iterable[pa.RecordBatch], schema: pa.Schema) -> Iterator[pa.RecordBatch]:
    """The non-empty ``batches``; a single empty batch of ``schema`` when there are none."""
    emitted = False
    for batch in batches:
        if batch.num_rows:
            emitted = True
            yield batch
    if not emitted:
        yield pa.RecordBatch.from_arrays([pa.array([], type=field.type) for field in schema], schema=schema)
