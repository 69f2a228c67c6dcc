"""The DuckDB engine of the identity steps: connection settings, streaming results, safe errors.

Identifiers are PII, so an engine error must not carry them into a task log: DuckDB quotes the
offending value in conversion and input errors. ``scrubbed`` turns every engine or storage error
into an ``IdentityError`` whose message keeps the error class and text with quoted parts blanked,
and does not chain the original exception (Airflow prints whole chains).
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

import duckdb
import pyarrow as pa

BATCH_ROWS = 100_000
_QUOTED = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"")


class IdentityError(Exception):
    """Validating or preparing identifiers failed; the message holds no identifier values."""


def connect() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection for one step.

    ``BEHAVIOR_SYNC_DUCKDB_THREADS`` (default: all cores) and ``BEHAVIOR_SYNC_DUCKDB_MEMORY``
    (default ``1GB``; DuckDB spills beyond it to ``BEHAVIOR_SYNC_DUCKDB_TEMP``, default
    ``<system temp>/bsync_duckdb``) bound its resources.
    """
    config: dict[str, str | bool | int | float | list[str]] = {
        "memory_limit": os.environ.get("BEHAVIOR_SYNC_DUCKDB_MEMORY", "1GB"),
        # DuckDB would spill into ./.tmp of whatever folder the worker runs in
        "temp_directory": os.environ.get("BEHAVIOR_SYNC_DUCKDB_TEMP")
        or os.path.join(tempfile.gettempdir(), "bsync_duckdb"),
    }
    threads = os.environ.get("BEHAVIOR_SYNC_DUCKDB_THREADS")
    if threads:
        config["threads"] = threads
    con = duckdb.connect(config=config)
    con.execute("SET enable_progress_bar = false")  # it would print bars into task logs on long queries
    return con


def register_parquet(con: duckdb.DuckDBPyConnection, name: str, uri: str) -> None:
    """Makes the Parquet file at ``uri`` queryable as ``name``.

    Local files are read by DuckDB itself (parallel, within its memory limit); object storage
    (``s3://``, ``gs://``) goes through a pyarrow dataset (ADR 0002).
    """
    from behavior_sync import parquet_io

    filesystem, path = parquet_io.resolve(uri)
    if filesystem.type_name == "local":
        escaped = path.replace("'", "''")
        con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT * FROM read_parquet('{escaped}')")
    else:
        con.register(name, parquet_io.read_dataset(uri))


def fetch_reader(con: duckdb.DuckDBPyConnection, sql: str) -> pa.RecordBatchReader:
    """The result of ``sql`` as a stream of record batches (memory bounded by the batch size)."""
    return con.sql(sql).to_arrow_reader(BATCH_ROWS)


@contextmanager
def scrubbed(step: str) -> Iterator[None]:
    """Re-raise engine and storage errors as ``IdentityError`` naming ``step``, with quoted text blanked."""
    try:
        yield
    except (duckdb.Error, pa.ArrowException, OSError, ValueError) as exc:
        message = _QUOTED.sub("'…'", str(exc).strip().splitlines()[0] if str(exc).strip() else "(no message)")
        raise IdentityError(f"{step} failed: {type(exc).__name__}: {message}") from None
