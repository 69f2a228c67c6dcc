"""The run-scoped members snapshot: a behavior query's result written as one Parquet file.

The destination is a URI that ``pyarrow.fs.FileSystem.from_uri`` resolves: an absolute local path,
``file://``, ``s3://``, ``gs://`` (ADR 0002); the write is atomic and idempotent (``parquet_io``).
"""

from __future__ import annotations

import itertools
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from behavior_sync import parquet_io
from behavior_sync.warehouse.errors import WarehouseError
from behavior_sync.warehouse.sources import open_batches


@dataclass(frozen=True)
class ExtractResult:
    """What ``extract_to_parquet`` wrote. Counts only: safe for XCom and logs."""

    uri: str  # where the snapshot was written (the dest_uri given)
    rows: int
    bytes: int  # size of the written Parquet file
    seconds: float  # wall time of query + write
    columns: dict[str, str]  # column name -> Arrow type string


def extract_to_parquet(
    url: str,
    sql: str,
    params: Mapping[str, Any] | None,
    dest_uri: str,
    *,
    batch_rows: int = 50_000,
    required_columns: Sequence[str] = (),
    on_progress: Callable[[int], None] | None = None,
) -> ExtractResult:
    """Streams the result of ``sql`` on ``url`` into a zstd-compressed Parquet file at ``dest_uri``.

    Batches of at most ``batch_rows`` rows are written as they arrive (memory bounded by the batch
    size); ``on_progress(rows_so_far)`` is called after each written batch. An empty result gives a
    valid Parquet file with the query's schema and no rows. Parent folders are created.

    Idempotent: a re-run overwrites the snapshot; a failure leaves the previous file (or none) in
    place and removes its temporary file. Raises WarehouseError when the query fails (see
    ``iter_record_batches``), when the result lacks one of ``required_columns`` or repeats a column
    name (before anything is written), or when the destination cannot be written.
    """
    started = time.monotonic()
    _destination(dest_uri)
    with closing(open_batches(url, sql, params, batch_rows=batch_rows)) as batches:
        first = next(batches)
        _check_columns(first.schema.names, required_columns)
        written = _write(dest_uri, itertools.chain([first], batches), first.schema, on_progress)
    columns = {field.name: str(field.type) for field in first.schema}
    return ExtractResult(
        uri=dest_uri, rows=written.rows, bytes=written.bytes, seconds=time.monotonic() - started, columns=columns
    )


def _destination(dest_uri: str) -> None:
    """WarehouseError when ``dest_uri`` is neither an absolute path nor a URI pyarrow.fs resolves."""
    try:
        parquet_io.resolve(dest_uri)
    except ValueError as exc:
        raise WarehouseError(
            f"cannot write the snapshot to {exc}; give an absolute path or a URI (file://, s3://, gs://)"
        ) from None


def _check_columns(names: Sequence[str], required: Sequence[str]) -> None:
    """WarehouseError when a required column is missing or a column name is repeated."""
    missing = [name for name in required if name not in names]
    if missing:
        raise WarehouseError(
            f"the query result lacks the required column(s) {', '.join(missing)}; it returned: "
            f"{', '.join(names) or '(no columns)'}. Alias the columns in the behavior SQL (... AS {missing[0]}) "
            "or fix the behavior's member_key/identifiers"
        )
    repeated = sorted(name for name, count in Counter(names).items() if count > 1)
    if repeated:
        raise WarehouseError(
            f"the query result has the column name(s) {', '.join(repeated)} more than once; "
            "give each column a unique alias in the behavior SQL"
        )


def _write(
    dest_uri: str,
    batches: Iterable[pa.RecordBatch],
    schema: pa.Schema,
    on_progress: Callable[[int], None] | None,
) -> parquet_io.Written:
    """Writes the snapshot atomically; storage errors become WarehouseError (query errors pass through)."""
    try:
        return parquet_io.write_atomically(dest_uri, batches, schema, on_progress)
    except (pa.ArrowException, OSError) as exc:
        raise WarehouseError(
            f"could not write the snapshot to {parquet_io.safe_uri(dest_uri)}: {type(exc).__name__}: {exc}; "
            "check that the location is writable (and its credentials, for object storage)"
        ) from exc
