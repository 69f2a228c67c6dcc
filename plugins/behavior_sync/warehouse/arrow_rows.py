"""DB-API rows to Arrow record batches that all share one schema (the SQLAlchemy path).

Each partition of rows is transposed (``zip(*rows)``) and every column is built with one
``pa.array`` call. A column's Arrow type comes from its first non-null value:

    bool -> bool        int -> int64          float -> float64      str -> string
    Decimal -> decimal128(38, scale seen in that partition)          bytes -> binary
    date -> date32      datetime -> timestamp[us] (timezone-aware: timestamp[us, tz=UTC])
    time -> time64[us]  timedelta -> duration[us]
    UUID -> string      dict / list (JSON, arrays) -> string holding JSON text

A column that is all NULL so far has no type yet: its partitions are held back (as Arrow, with
null-typed columns) until a later partition gives it one, for at most ``probe_rows`` rows; a column
still untyped after that, or at the end of the result, becomes string. Later partitions are built
with the established types; a value that does not fit raises WarehouseError naming the column
(never the value).
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from behavior_sync.warehouse.errors import WarehouseError

TYPE_PROBE_ROWS = 250_000
"""Rows held back at most while some column is still all NULL (bounds memory; then: string)."""


@dataclass(frozen=True)
class ColumnKind:
    """How one column is built: its Arrow type (None: inferred from the values) and a per-value conversion."""

    type: pa.DataType | None
    convert: Callable[[Any], Any] | None = None


def _json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


_KINDS: tuple[tuple[type | tuple[type, ...], ColumnKind], ...] = (
    (bool, ColumnKind(pa.bool_())),  # before int: bool is an int
    (int, ColumnKind(pa.int64())),
    (float, ColumnKind(pa.float64())),
    (decimal.Decimal, ColumnKind(None)),
    (str, ColumnKind(pa.string())),
    (dt.datetime, ColumnKind(pa.timestamp("us"))),  # before date: a datetime is a date
    (dt.date, ColumnKind(pa.date32())),
    (dt.time, ColumnKind(pa.time64("us"))),
    (dt.timedelta, ColumnKind(pa.duration("us"))),
    ((bytes, bytearray, memoryview), ColumnKind(pa.binary())),
    (uuid.UUID, ColumnKind(pa.string(), str)),
    ((dict, list), ColumnKind(pa.string(), _json_text)),
)


def kind_of(column: str, value: Any) -> ColumnKind:
    """The ColumnKind of a column whose first non-null value is ``value``; WarehouseError for unknown types."""
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return ColumnKind(pa.timestamp("us", tz="UTC"))
    for python_type, kind in _KINDS:
        if isinstance(value, python_type):
            return kind
    raise WarehouseError(
        f"column {column!r} holds values of Python type {type(value).__name__}, which has no Arrow mapping; "
        "CAST it to text (or another plain SQL type) in the behavior SQL"
    )


def build_array(column: str, kind: ColumnKind, values: Sequence[Any]) -> pa.Array:
    """One Arrow array of ``kind`` from ``values``; WarehouseError naming the column when a value does not fit."""
    if kind.convert is not None:
        convert = kind.convert
        values = [None if value is None else convert(value) for value in values]
    try:
        if kind.type is None:
            return pa.array(values)
        return pa.array(values, type=kind.type)
    except (pa.ArrowException, TypeError, ValueError, OverflowError) as exc:
        # pyarrow's message quotes the offending value (PII): keep only its class, and do not chain it.
        raise WarehouseError(
            f"column {column!r}: a value does not fit the column's type {kind.type or 'inferred'} "
            f"({type(exc).__name__}); the type comes from the column's first non-null values (string when "
            "it had none among the first rows), so make the values uniform with a CAST in the behavior SQL"
        ) from None


class RowBatcher:
    """Turns partitions of rows into RecordBatches that share one schema. Not thread-safe; one per result."""

    def __init__(self, names: Sequence[str], probe_rows: int = TYPE_PROBE_ROWS) -> None:
        self._names = list(names)
        self._kinds: list[ColumnKind | None] = [None] * len(self._names)
        self._held: list[pa.RecordBatch] = []
        self._held_rows = 0
        self._probe_rows = probe_rows
        self._emitted = False

    def push(self, rows: Sequence[Sequence[Any]]) -> list[pa.RecordBatch]:
        """Converts one partition; returns the batches ready to write (none while a column is untyped)."""
        batch = self._to_batch(rows)
        if self._resolved() and not self._held:
            self._emitted = True
            return [batch]
        self._held.append(batch)
        self._held_rows += batch.num_rows
        if self._resolved() or self._held_rows >= self._probe_rows:
            return self._release()
        return []

    def finish(self) -> list[pa.RecordBatch]:
        """The held batches (untyped columns as string); one empty batch carrying the schema if none was emitted."""
        released = self._release()
        if not self._emitted:
            self._emitted = True
            return [_empty_batch(self.schema())]
        return released

    def schema(self) -> pa.Schema:
        """The schema established so far; untyped columns are string."""
        types = [kind.type if kind is not None and kind.type is not None else pa.string() for kind in self._kinds]
        return pa.schema([pa.field(name, type_) for name, type_ in zip(self._names, types, strict=True)])

    def _resolved(self) -> bool:
        return all(kind is not None for kind in self._kinds)

    def _release(self) -> list[pa.RecordBatch]:
        """The held batches with their null-typed columns cast to the schema (which fixes untyped ones as string)."""
        for index, kind in enumerate(self._kinds):
            if kind is None:
                self._kinds[index] = ColumnKind(pa.string())
        schema, held = self.schema(), self._held
        self._held, self._held_rows = [], 0
        self._emitted = self._emitted or bool(held)
        return [_conform(batch, schema) for batch in held]

    def _to_batch(self, rows: Sequence[Sequence[Any]]) -> pa.RecordBatch:
        columns: list[Sequence[Any]] = list(zip(*rows, strict=True)) if rows else [() for _ in self._names]
        arrays = [self._array(index, values) for index, values in enumerate(columns)]
        return pa.RecordBatch.from_arrays(arrays, names=self._names)

    def _array(self, index: int, values: Sequence[Any]) -> pa.Array:
        """The column's array; an untyped column gets its kind from its first non-null value, or stays null-typed."""
        name, kind = self._names[index], self._kinds[index]
        if kind is None:
            first = next((value for value in values if value is not None), None)
            if first is None:
                return pa.nulls(len(values))
            kind = kind_of(name, first)
        array = build_array(name, kind, values)
        if kind.type is None:  # decimals: fix the scale seen, with room for larger values later
            kind = ColumnKind(_widened(array.type), kind.convert)
            array = array.cast(kind.type)
        self._kinds[index] = kind
        return array


def _widened(inferred: pa.DataType) -> pa.DataType:
    """decimal128(p, s) -> decimal128(38, s): later partitions may hold larger values of the same scale."""
    if pa.types.is_decimal128(inferred):
        return pa.decimal128(38, inferred.scale)
    return inferred


def _conform(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    """``batch`` with its null-typed (all-NULL) columns given the schema's types."""
    arrays = [
        pa.nulls(len(column), type=field.type) if pa.types.is_null(column.type) else column
        for column, field in zip(batch.columns, schema, strict=True)
    ]
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def _empty_batch(schema: pa.Schema) -> pa.RecordBatch:
    return pa.RecordBatch.from_arrays([pa.array([], type=field.type) for field in schema], schema=schema)
