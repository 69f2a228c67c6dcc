"""Validation of ``/users`` and ``/usersreplace`` parameters: ``payload`` and ``session``.

Whole-request refusals (code 100) — payload missing or not a JSON object, bad schema, multi-key
without ``is_raw: true``, no rows, more than 10,000 rows, a row whose shape does not match the
schema. Per-row problems only make the row invalid: it is counted in ``num_invalid_entries``,
sampled (row index → reason, never the value) and not stored.

A valid row becomes a ``Row``: the sorted ``(key, value)`` pairs of its non-empty values, with
single-key schemas mapped to their multi-key name (EMAIL_SHA256 → EMAIL, PHONE_SHA256 → PHONE,
MOBILE_ADVERTISER_ID → MADID), so a person uploaded either way is the same row.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sandbox.meta.errors import invalid_parameter

MAX_ROWS_PER_REQUEST = 10_000
MAX_INVALID_SAMPLES = 10
SINGLE_KEY_SCHEMAS = {"EMAIL_SHA256": "EMAIL", "PHONE_SHA256": "PHONE", "MOBILE_ADVERTISER_ID": "MADID"}
UNHASHED_KEYS = frozenset({"EXTERN_ID", "MADID"})
HASHED_KEYS = frozenset(
    {"EMAIL", "PHONE", "GEN", "DOBY", "DOBM", "DOBD", "LN", "FN", "FI", "CT", "ST", "ZIP", "COUNTRY"}
)
MULTI_KEYS = HASHED_KEYS | UNHASHED_KEYS
MAX_EXTERN_ID_CHARS = 256  # UNCONFIRMED: Meta documents no limit; long values are almost surely a bug
_SHA256 = re.compile(r"[0-9a-f]{64}")
_ADVERTISING_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_PAYLOAD_KEYS = frozenset({"schema", "is_raw", "data", "app_ids", "page_ids"})

Row = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class UploadSession:
    """The ``session`` parameter: one upload split into batches."""

    session_id: int
    batch_seq: int
    last_batch_flag: bool
    estimated_num_total: int | None


@dataclass(frozen=True)
class ParsedPayload:
    """A validated payload: the valid rows, and counts and samples of the invalid ones."""

    keys: tuple[str, ...]
    rows: tuple[Row, ...]
    num_received: int
    num_invalid: int
    invalid_samples: dict[str, str]


def parse_payload(raw: str | None) -> ParsedPayload:
    """Validate the ``payload`` parameter (a JSON string); raises ``GraphError`` (code 100)."""
    payload = _json_object(raw, "payload")
    unknown = set(payload) - _PAYLOAD_KEYS
    if unknown:
        raise invalid_parameter(f"Unsupported payload keys: {sorted(unknown)[:5]}")
    keys = _parse_schema(payload.get("schema"), payload.get("is_raw", False))
    data = payload.get("data")
    if not isinstance(data, list) or not data:
        raise invalid_parameter("Data is missing or does not match schema: data must be a non-empty list")
    if len(data) > MAX_ROWS_PER_REQUEST:
        raise invalid_parameter(
            f"Too many rows in one request: {len(data)}; at most {MAX_ROWS_PER_REQUEST} rows per request"
        )
    cells = _shape_rows(data, keys, multi_key=isinstance(payload["schema"], list))
    return _validate_rows(cells, keys)


def parse_session(raw: str | None, required: bool = False) -> UploadSession | None:
    """Validate the ``session`` parameter; None when absent and not ``required``."""
    if raw is None or raw == "":
        if required:
            raise invalid_parameter("The parameter session is required")
        return None
    session = _json_object(raw, "session")
    session_id: Any = session.get("session_id")
    batch_seq: Any = session.get("batch_seq", 1)
    last, total = session.get("last_batch_flag", False), session.get("estimated_num_total")
    if not _is_int(session_id) or session_id < 1:
        raise invalid_parameter("session.session_id must be a positive integer")
    if not _is_int(batch_seq) or batch_seq < 1:
        raise invalid_parameter("session.batch_seq must be an integer >= 1")
    if not isinstance(last, bool):
        raise invalid_parameter("session.last_batch_flag must be a boolean")
    if total is not None and (not _is_int(total) or total < 0):
        raise invalid_parameter("session.estimated_num_total must be an integer >= 0")
    return UploadSession(session_id, batch_seq, last, total)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _json_object(raw: str | None, name: str) -> dict[str, Any]:
    if raw is None or raw == "":
        raise invalid_parameter(f"The parameter {name} is required")
    try:
        value = json.loads(raw)
    except ValueError:
        raise invalid_parameter(f"Param {name} must be a JSON object") from None
    if not isinstance(value, dict):
        raise invalid_parameter(f"Param {name} must be a JSON object")
    return value


def _parse_schema(schema: Any, is_raw: Any) -> tuple[str, ...]:
    if isinstance(schema, str):
        if schema not in SINGLE_KEY_SCHEMAS:
            raise invalid_parameter(f"Invalid schema {schema[:40]!r}: use one of {sorted(SINGLE_KEY_SCHEMAS)}")
        return (SINGLE_KEY_SCHEMAS[schema],)
    if not isinstance(schema, list) or not schema:
        raise invalid_parameter("Invalid schema: a single-key schema name or a non-empty list of keys")
    if not all(isinstance(key, str) and key in MULTI_KEYS for key in schema):
        raise invalid_parameter(f"Invalid schema: multi-key schemas take keys from {sorted(MULTI_KEYS)}")
    if len(set(schema)) != len(schema):
        raise invalid_parameter("Invalid schema: a key appears twice")
    if is_raw is not True:
        raise invalid_parameter("Multi-key schemas require is_raw=true")
    return tuple(schema)


def _shape_rows(data: list[Any], keys: tuple[str, ...], multi_key: bool) -> list[Sequence[Any]]:
    """Each row as a sequence of cells; a row of the wrong shape refuses the whole request."""
    if not multi_key:
        if any(isinstance(item, list | dict) for item in data):
            raise invalid_parameter("Data is missing or does not match schema: single-key data is a flat list")
        return [[item] for item in data]
    for index, row in enumerate(data):
        if not isinstance(row, list) or len(row) != len(keys):
            found = len(row) if isinstance(row, list) else "no list of"
            raise invalid_parameter(
                f"Data is missing or does not match schema: row {index} has {found} values, "
                f"the schema has {len(keys)} keys"
            )
    return data


def _validate_rows(cells: list[Sequence[Any]], keys: tuple[str, ...]) -> ParsedPayload:
    rows: list[Row] = []
    samples: dict[str, str] = {}
    invalid = 0
    for index, row in enumerate(cells):
        reason = _row_problem(row, keys)
        if reason is None:
            rows.append(tuple(sorted((key, value) for key, value in zip(keys, row, strict=True) if value)))
            continue
        invalid += 1
        if len(samples) < MAX_INVALID_SAMPLES:
            samples[str(index)] = reason
    return ParsedPayload(keys, tuple(rows), len(cells), invalid, samples)


def _row_problem(row: Sequence[Any], keys: tuple[str, ...]) -> str | None:
    """Why a row is invalid (naming the key, never the value), or None when it is valid."""
    for key, value in zip(keys, row, strict=True):
        problem = cell_problem(key, value)
        if problem is not None:
            return f"{key}: {problem}"
    if all(value == "" for value in row):
        return "no identifier value (all empty)"
    return None


def cell_problem(key: str, value: Any) -> str | None:
    """Why ``value`` is not acceptable for ``key``, or None. Empty string means unknown: fine."""
    if not isinstance(value, str):
        return "value is not a string"
    if value == "":
        return None
    if key == "MADID":
        if _SHA256.fullmatch(value):
            return "looks hashed; mobile advertiser ids are sent unhashed"
        return None if _ADVERTISING_ID.fullmatch(value) else "not a lowercase mobile advertiser id (UUID form)"
    if key == "EXTERN_ID":
        return None if len(value) <= MAX_EXTERN_ID_CHARS else f"longer than {MAX_EXTERN_ID_CHARS} characters"
    return None if _SHA256.fullmatch(value) else "not a SHA-256 hash (64 lowercase hex characters)"
