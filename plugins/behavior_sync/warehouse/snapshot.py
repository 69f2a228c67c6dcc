"""The run-scoped members snapshot: a behavior query's result written as one Parquet file.

The destination is a URI that ``pyarrow.fs.FileSystem.from_uri`` resolves: an absolute local path,
``file://``, ``s3://``, ``gs://`` (ADR 0002). The file is written under a temporary name in the same
folder and moved into place, so a crash never leaves a half-written file at the final name and a
re-run replaces the previous snapshot (idempotent).
"""

from __future__ import annotations

import contextlib
import itertools
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from behavior_sync.warehouse.errors import WarehouseError
from behavior_sync.warehouse.sources import open_batches

COMPRESSION = "zstd"


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
    filesystem, path = _destination(dest_uri)
    with closing(open_batches(url, sql, params, batch_rows=batch_rows)) as batches:
        first = next(batches)
        _check_columns(first.schema.names, required_columns)
        all_batches = itertools.chain([first], batches)
        rows = _write_atomically(filesystem, path, dest_uri, all_batches, first.schema, on_progress)
    size = _size(filesystem, path, dest_uri)
    columns = {field.name: str(field.type) for field in first.schema}
    return ExtractResult(uri=dest_uri, rows=rows, bytes=size, seconds=time.monotonic() - started, columns=columns)


def _destination(dest_uri: str) -> tuple[pafs.FileSystem, str]:
    """The filesystem and path of ``dest_uri``; WarehouseError when it is neither absolute nor a URI."""
    try:
        filesystem, path = pafs.FileSystem.from_uri(dest_uri)
    except (pa.ArrowException, OSError, ValueError) as exc:
        detail = str(exc).replace(dest_uri, _safe_uri(dest_uri))
        raise WarehouseError(
            f"cannot write the snapshot to {_safe_uri(dest_uri)}: {type(exc).__name__}: {detail}; "
            "give an absolute path or a URI (file://, s3://, gs://)"
        ) from None
    return filesystem, str(path)


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


def _write_atomically(
    filesystem: pafs.FileSystem,
    path: str,
    dest_uri: str,
    batches: Iterable[pa.RecordBatch],
    schema: pa.Schema,
    on_progress: Callable[[int], None] | None,
) -> int:
    """Writes ``batches`` to a temporary file next to ``path``, then moves it to ``path``; returns the rows."""
    folder, _, name = path.rpartition("/")
    temporary = f"{folder}/.{name}.{uuid.uuid4().hex[:12]}.tmp"
    try:
        if folder:
            filesystem.create_dir(folder, recursive=True)
        rows = _write(filesystem, temporary, batches, schema, on_progress)
        filesystem.move(temporary, path)
    except (pa.ArrowException, OSError) as exc:
        _remove_quietly(filesystem, temporary)
        raise WarehouseError(
            f"could not write the snapshot to {_safe_uri(dest_uri)}: {type(exc).__name__}: {exc}; "
            "check that the location is writable (and its credentials, for object storage)"
        ) from exc
    except BaseException:
        _remove_quietly(filesystem, temporary)
        raise
    return rows


def _write(
    filesystem: pafs.FileSystem,
    path: str,
    batches: Iterable[pa.RecordBatch],
    schema: pa.Schema,
    on_progress: Callable[[int], None] | None,
) -> int:
    """Writes the non-empty ``batches`` to a new Parquet file at ``path``; returns the rows written."""
    rows = 0
    with filesystem.open_output_stream(path) as sink, pq.ParquetWriter(sink, schema, compression=COMPRESSION) as writer:
        for batch in batches:
            if not batch.num_rows:
                continue
            writer.write_batch(batch)
            rows += batch.num_rows
            if on_progress is not None:
                on_progress(rows)
    return rows


def _size(filesystem: pafs.FileSystem, path: str, dest_uri: str) -> int:
    info = filesystem.get_file_info(path)
    if info.size is None:
        raise WarehouseError(f"the snapshot {_safe_uri(dest_uri)} was written but its size cannot be read back")
    return int(info.size)


def _remove_quietly(filesystem: pafs.FileSystem, path: str) -> None:
    """Deletes ``path`` if it exists; errors are ignored (the caller is already failing)."""
    with contextlib.suppress(pa.ArrowException, OSError):
        filesystem.delete_file(path)


def _safe_uri(uri: str) -> str:
    """``uri`` without any user:password part (pyarrow accepts ``s3://key:secret@bucket/...``)."""
    parts = urlsplit(uri)
    if "@" not in parts.netloc:
        return uri
    return urlunsplit(parts._replace(netloc="***@" + parts.netloc.rpartition("@")[2]))
