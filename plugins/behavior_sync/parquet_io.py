"""Run artifacts as Parquet on any pyarrow filesystem: atomic writes and dataset reads (ADR 0002).

URIs are absolute local paths, ``file://``, ``s3://`` or ``gs://``. A write goes to a temporary name
in the same folder and is moved into place, so a crash never leaves a half-written file at the final
name and a re-run replaces the previous file (idempotent). Errors are pyarrow/OS errors whose text
never holds credentials (``safe_uri``); callers wrap them in their own error type.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.fs as pafs
import pyarrow.parquet as pq

COMPRESSION = "zstd"


@dataclass(frozen=True)
class Written:
    """What a write produced: rows and the file's size in bytes."""

    rows: int
    bytes: int


def resolve(uri: str) -> tuple[pafs.FileSystem, str]:
    """Filesystem and path of ``uri``; ValueError (credential-free text) when it is neither absolute nor a URI."""
    try:
        filesystem, path = pafs.FileSystem.from_uri(uri)
    except (pa.ArrowException, OSError, ValueError) as exc:
        detail = str(exc).replace(uri, safe_uri(uri))
        raise ValueError(f"{safe_uri(uri)}: {type(exc).__name__}: {detail}") from None
    return filesystem, str(path)


def write_atomically(
    uri: str,
    batches: Iterable[pa.RecordBatch],
    schema: pa.Schema,
    on_progress: Callable[[int], None] | None = None,
    compression_level: int | None = None,
) -> Written:
    """Writes the non-empty ``batches`` as one zstd Parquet file at ``uri`` (parents created), atomically.

    ``on_progress(rows_so_far)`` is called after each written batch; ``compression_level`` trades zstd
    speed for size (None: pyarrow's default). On any failure the temporary
    file is removed and the previous file at ``uri`` (if any) is left untouched; the error propagates.
    """
    filesystem, path = resolve(uri)
    folder, _, name = path.rpartition("/")
    temporary = f"{folder}/.{name}.{uuid.uuid4().hex[:12]}.tmp"
    try:
        if folder:
            filesystem.create_dir(folder, recursive=True)
        rows = _write(filesystem, temporary, batches, schema, on_progress, compression_level)
        filesystem.move(temporary, path)
    except BaseException:
        with contextlib.suppress(pa.ArrowException, OSError):
            filesystem.delete_file(temporary)
        raise
    size = filesystem.get_file_info(path).size
    if size is None:
        raise OSError(f"{safe_uri(uri)} was written but its size cannot be read back")
    return Written(rows=rows, bytes=int(size))


def write_table(uri: str, table: pa.Table) -> Written:
    """Writes an in-memory table atomically (see ``write_atomically``)."""
    return write_atomically(uri, table.to_batches(), table.schema)


def write_text(uri: str, text: str) -> None:
    """Writes a small UTF-8 file (e.g. plan.json) atomically at ``uri``, parents created."""
    filesystem, path = resolve(uri)
    folder, _, name = path.rpartition("/")
    temporary = f"{folder}/.{name}.{uuid.uuid4().hex[:12]}.tmp"
    if folder:
        filesystem.create_dir(folder, recursive=True)
    with filesystem.open_output_stream(temporary) as sink:
        sink.write(text.encode("utf-8"))
    filesystem.move(temporary, path)


def read_text(uri: str) -> str:
    """The UTF-8 text of the file at ``uri``."""
    filesystem, path = resolve(uri)
    with filesystem.open_input_stream(path) as source:
        return bytes(source.read()).decode("utf-8")


def exists(uri: str) -> bool:
    """True when a file exists at ``uri``."""
    filesystem, path = resolve(uri)
    return bool(filesystem.get_file_info(path).type == pafs.FileType.File)


def read_dataset(uri: str) -> pads.Dataset:
    """A lazy Parquet dataset over the file at ``uri`` (DuckDB scans it with projection pushdown)."""
    filesystem, path = resolve(uri)
    return pads.dataset(path, filesystem=filesystem, format="parquet")


def _write(
    filesystem: pafs.FileSystem,
    path: str,
    batches: Iterable[pa.RecordBatch],
    schema: pa.Schema,
    on_progress: Callable[[int], None] | None,
    compression_level: int | None,
) -> int:
    rows = 0
    options = {"compression": COMPRESSION, "compression_level": compression_level}
    with filesystem.open_output_stream(path) as sink, pq.ParquetWriter(sink, schema, **options) as writer:
        for batch in batches:
            if not batch.num_rows:
                continue
            writer.write_batch(batch)
            rows += batch.num_rows
            if on_progress is not None:
                on_progress(rows)
    return rows


def safe_uri(uri: str) -> str:
    """``uri`` without any user:password part (pyarrow accepts ``s3://key:secret@bucket/...``)."""
    parts = urlsplit(uri)
    if "@" not in parts.netloc:
        return uri
    return urlunsplit(parts._replace(netloc="***@" + parts.netloc.rpartition("@")[2]))
