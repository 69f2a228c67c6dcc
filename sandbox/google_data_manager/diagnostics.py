"""Scripted processing diagnostics: what Google reports about the next accepted ingest requests.

``POST /_sandbox/diagnostics`` queues ``{"count": N, "errors": {reason: records}, "warnings": {reason:
records}, "field_warnings": {reason: n}}`` for the next ``N`` (default 1) accepted ingest requests;
``DELETE /_sandbox/diagnostics`` drops what is queued. For such a request:

* ``errors`` (``ProcessingErrorReason`` names): that many records are not applied (the request's first
  members, after those denied consent), and the request status counts them per reason in
  ``errorInfo.errorCounts`` (PARTIAL_SUCCESS; FAILED when no record is left);
* ``warnings`` (``ProcessingWarningReason`` names): counted in ``warningInfo.warningCounts``; the records
  are applied;
* ``field_warnings`` (``WarningReason`` names, Data Manager v1.8): answered at once in the ingest response's
  ``fieldWarnings``, one ``FieldWarning`` per count with the field path of a member (``audience_members[i]``).

Reason names are upper-case enum names, checked by shape only (the sandbox does not import the SDK).
Not thread-safe on its own: callers hold the store lock.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

_REASON = re.compile(r"[A-Z][A-Z0-9_]{2,120}")
_KEYS = frozenset({"count", "errors", "warnings", "field_warnings"})


@dataclass(frozen=True)
class Diagnostics:
    """What Google reports about one ingest request: error, warning and field-warning counts per reason."""

    errors: Mapping[str, int] = field(default_factory=dict)
    warnings: Mapping[str, int] = field(default_factory=dict)
    field_warnings: Mapping[str, int] = field(default_factory=dict)

    @property
    def failed(self) -> int:
        """Records not applied."""
        return sum(self.errors.values())

    def field_warnings_json(self) -> list[dict[str, str]]:
        """The ingest response's ``fieldWarnings``: one entry per count, numbered over the request's members."""
        found = [reason for reason, count in sorted(self.field_warnings.items()) for _ in range(count)]
        return [
            {"reason": reason, "field": f"audience_members[{index}]", "description": "(sandbox) scripted warning"}
            for index, reason in enumerate(found)
        ]


def parse(body: Mapping[str, Any]) -> tuple[Diagnostics, int]:
    """A ``POST /_sandbox/diagnostics`` body as (diagnostics, how many requests get them); ValueError when bad."""
    unknown = set(body) - _KEYS
    if unknown:
        raise ValueError(f"unknown diagnostics keys: {sorted(unknown)}")
    count = body.get("count", 1)
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        raise ValueError("count must be an integer >= 1")
    counts = {key: _counts(key, body.get(key, {})) for key in ("errors", "warnings", "field_warnings")}
    return Diagnostics(**counts), count


def _counts(key: str, value: Any) -> dict[str, int]:
    if not isinstance(value, dict):
        raise ValueError(f"{key} must be an object of reason name -> count")
    for reason, count in value.items():
        if not _REASON.fullmatch(str(reason)) or not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise ValueError(f"{key}: each entry is an upper-case reason name -> a count >= 1")
    return dict(value)


class DiagnosticsQueue:
    """Diagnostics waiting for the next accepted ingest requests, in order."""

    def __init__(self) -> None:
        self._queued: list[Diagnostics] = []

    def script(self, diagnostics: Diagnostics, count: int) -> None:
        """Gives the next ``count`` ingest requests ``diagnostics`` (after those already queued)."""
        self._queued += [diagnostics] * count

    def next(self) -> Diagnostics:
        """The diagnostics of the request being accepted (none queued: nothing to report)."""
        return self._queued.pop(0) if self._queued else Diagnostics()

    def clear(self) -> None:
        """Drops every queued entry."""
        self._queued.clear()

    def pending(self) -> list[dict[str, Any]]:
        """The queued entries (inspection)."""
        return [asdict(d) for d in self._queued]
