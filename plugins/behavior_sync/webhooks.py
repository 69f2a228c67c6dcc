"""Webhook notifications of sync events: which events a sync-history row fires, their JSON payload, the signature.

Events, per (behavior, destination) and run, decided from this run's history row and the earlier
rows of the same destination (newest first; the caller bounds how many):

* ``audience_created``: the row names an audience/list id no earlier row names;
* ``sync_completed`` (status success or partial), ``sync_failed``, ``blocked``, ``paused_too_small``:
  the row's status;
* ``size_threshold_crossed``: the audience size moved across one of the webhook's
  ``size_thresholds`` (either way) since the latest earlier row that had a size;
* ``match_rate_low``: the destination reported a match rate below the webhook's ``min_match_rate``.

And per reconcile check (``sync.reconcile.DriftRecord``): ``drift_detected`` when a read-back found the
destination out of line with the committed state (``drift_events``, payload ``drift_payload``).

The payload carries names, ids, counts, statuses and error codes: never identifiers, tokens or the
connection's secret. ``event_id`` is stable per (run, destination, event, threshold), so a receiver
can drop the duplicates a retried task may deliver. Each request is signed: header
``X-Behavior-Sync-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">`` with the secret from the
webhook's connection and ``X-Behavior-Sync-Timestamp: <unix seconds>``; ``verify`` is what a receiver
does (signature, and a timestamp within 5 minutes of its clock, so a captured request cannot be replayed).

A webhook URL may carry credentials (``https://user:password@host/...``, ``?token=...``): they are sent,
never recorded. ``send_url`` splits the ``user:password@`` off into basic auth, so no URL string holding them
reaches a logger; ``redact_url`` is the only form history, logs and the UI see (``https://***@host/path``).
Pure (no Airflow): delivery lives in ``behavior_sync_airflow.webhooks``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote

from urllib3.exceptions import LocationParseError
from urllib3.util import Url, parse_url

from behavior_sync.history import SyncRecord
from behavior_sync.statedb import COUNT_COLUMNS
from behavior_sync.sync.reconcile import DriftRecord

EVENTS = (
    "audience_created",
    "sync_completed",
    "sync_failed",
    "blocked",
    "paused_too_small",
    "size_threshold_crossed",
    "match_rate_low",
    "drift_detected",
)
SIGNATURE_HEADER = "X-Behavior-Sync-Signature"
TIMESTAMP_HEADER = "X-Behavior-Sync-Timestamp"
PAYLOAD_VERSION = 1
TOLERANCE_SECONDS = 300  # how far a signed timestamp may be from the receiver's clock, either way
_TIMESTAMP = re.compile(r"[0-9]{1,12}")  # unix seconds; ASCII digits only (str.isdigit accepts other scripts)
_SIGNATURE = re.compile(r"sha256=[0-9a-f]{64}")
_STATUS_EVENTS = {
    "success": "sync_completed",
    "partial": "sync_completed",
    "failed": "sync_failed",
    "blocked": "blocked",
    "paused_too_small": "paused_too_small",
}
_COUNTS = ("extracted_rows", *(c for c in COUNT_COLUMNS if c != "audience_size"))  # size: under audience


@dataclass(frozen=True)
class WebhookSpec:
    """One webhook of a behavior file (``webhooks[i]``, defaults applied by the schema)."""

    connection: str
    url: str | None
    events: tuple[str, ...]
    destinations: tuple[str, ...] | None
    size_thresholds: tuple[int, ...]
    min_match_rate: float | None
    attempts: int
    backoff_seconds: float

    @classmethod
    def from_config(cls, entry: Mapping[str, Any]) -> WebhookSpec:
        """From a validated behavior-file entry."""
        destinations = entry.get("destinations")
        return cls(
            connection=str(entry["connection"]),
            url=entry.get("url"),
            events=tuple(entry.get("events", EVENTS)),
            destinations=tuple(destinations) if destinations else None,
            size_thresholds=tuple(sorted(entry.get("size_thresholds", ()))),
            min_match_rate=entry.get("min_match_rate"),
            attempts=int(entry.get("attempts", 4)),
            backoff_seconds=float(entry.get("backoff_seconds", 2.0)),
        )

    def covers(self, destination_id: str) -> bool:
        """Whether this webhook is for ``destination_id``."""
        return self.destinations is None or destination_id in self.destinations


@dataclass(frozen=True)
class Event:
    """An event a history row fires: its name and what is specific to it (e.g. the threshold crossed)."""

    name: str
    extra: Mapping[str, Any]


def events_for(record: SyncRecord, earlier: Sequence[SyncRecord], spec: WebhookSpec) -> list[Event]:
    """The events ``record`` fires for ``spec`` (see the module docstring), in ``EVENTS`` order.

    ``earlier``: the destination's rows of other runs, newest first.
    """
    if not spec.covers(record.destination_id):
        return []
    found: list[Event] = []
    if record.audience_id and all(r.audience_id != record.audience_id for r in earlier):
        found.append(Event("audience_created", {}))
    if record.status in _STATUS_EVENTS:
        found.append(Event(_STATUS_EVENTS[record.status], {}))
    before = next((r.audience_size for r in earlier if r.audience_size is not None), None)
    found += _crossings(before, record.audience_size, spec.size_thresholds)
    if spec.min_match_rate is not None and record.match_rate is not None and record.match_rate < spec.min_match_rate:
        found.append(Event("match_rate_low", {"min_match_rate": spec.min_match_rate}))
    return [e for e in found if e.name in spec.events]


def _crossings(before: int | None, after: int | None, thresholds: Sequence[int]) -> list[Event]:
    if before is None or after is None or before == after:
        return []
    low, high = sorted((before, after))
    direction = "up" if after > before else "down"
    return [
        Event("size_threshold_crossed", {"threshold": t, "direction": direction, "previous_size": before})
        for t in thresholds
        if low < t <= high
    ]


def payload(event: Event, record: SyncRecord, behavior_name: str, occurred_at: dt.datetime) -> dict[str, Any]:
    """The JSON body of one event (documented in the README; no identifiers, tokens or secrets)."""
    key = f"{record.run_id}/{record.behavior}/{record.destination_id}/{event.name}/{event.extra.get('threshold', '')}"
    return _envelope(event.name, key, record.behavior, behavior_name, occurred_at) | {
        "destination": {
            "id": record.destination_id,
            "type": record.destination_type,
            "connection": record.connection_id,
        },
        "run": {"id": record.run_id},
        "status": record.status,
        "message": record.message,
        "counts": {name: getattr(record, name) for name in _COUNTS},
        "audience": {"id": record.audience_id, "name": record.audience_name, "size": record.audience_size},
        "match_rate": record.match_rate,
        "errors": [dict(e) for e in record.errors],
        **({"detail": dict(event.extra)} if event.extra else {}),
    }


_DRIFT_FIELDS = (
    "method", "state_version", "committed", "observed", "sample_size", "missing", "unexpected", "foreign_members",
    "tolerance", "expected_low", "expected_high", "missing_share", "ci_low", "ci_high", "confidence",
    "repaired_missing", "repaired_unexpected",
)  # fmt: skip


def drift_events(record: DriftRecord, spec: WebhookSpec) -> list[Event]:
    """``drift_detected`` when the check found drift and ``spec`` wants that event for the destination."""
    wanted = spec.covers(record.destination_id) and "drift_detected" in spec.events
    return [Event("drift_detected", {})] if wanted and record.status == "drift" else []


def drift_payload(record: DriftRecord, behavior_name: str, occurred_at: dt.datetime) -> dict[str, Any]:
    """The JSON body of a ``drift_detected`` event: the check's counts (no identifiers, tokens or secrets);
    ``event_id`` is stable per (run, destination)."""
    key = f"{record.run_id}/{record.behavior}/{record.destination_id}/drift_detected/"
    return _envelope("drift_detected", key, record.behavior, behavior_name, occurred_at) | {
        "destination": {"id": record.destination_id, "type": record.destination_type},
        "run": {"id": record.run_id},
        "status": record.status,
        "message": record.message,
        "drift": {name: getattr(record, name) for name in _DRIFT_FIELDS},
    }


def _envelope(event: str, key: str, slug: str, behavior_name: str, occurred_at: dt.datetime) -> dict[str, Any]:
    """What every event's body starts with; ``event_id`` is a digest of ``key`` (stable per run and event)."""
    return {
        "version": PAYLOAD_VERSION,
        "event": event,
        "event_id": hashlib.sha256(key.encode()).hexdigest()[:32],
        "occurred_at": occurred_at.astimezone(dt.UTC).isoformat(timespec="seconds"),
        "behavior": {"slug": slug, "name": behavior_name},
    }


def body_of(document: Mapping[str, Any]) -> bytes:
    """The exact bytes sent and signed (compact, sorted keys)."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), default=str).encode()


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header's value for ``body`` sent at ``timestamp`` (unix seconds, as text)."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(
    secret: str,
    timestamp: str | None,
    body: bytes,
    header: str | None,
    *,
    tolerance_seconds: float = TOLERANCE_SECONDS,
    now: float | None = None,
) -> bool:
    """What a receiver checks: ``header`` is the signature of ``body`` at ``timestamp`` (compared in constant
    time) and ``timestamp`` is at most ``tolerance_seconds`` away from ``now`` (unix seconds, default the clock)
    either way, so a request replayed later, or stamped in the future, is refused.

    Never raises for what a sender controls: a missing header (None), a timestamp that is not 1-12 ASCII
    digits, or a header that is not ``sha256=`` and 64 lower-case hex digits (other text, other lengths,
    non-ASCII characters) is simply False.
    """
    if timestamp is None or header is None or not _TIMESTAMP.fullmatch(timestamp) or not _SIGNATURE.fullmatch(header):
        return False
    clock = time.time() if now is None else now
    if abs(clock - int(timestamp)) > tolerance_seconds:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), header)


def send_url(url: str) -> tuple[str, tuple[str, str] | None]:
    """``url`` without its ``user:password@``, and those credentials (percent-decoded) for basic auth, or None.

    Parsed by urllib3, the parser ``requests`` sends with, so what is split off is what would have been sent as
    credentials. Raises ``ValueError`` (naming no part of the URL) when it cannot be parsed.
    """
    parts = _parsed(url)
    if parts.auth is None:
        return parts.url, None
    user, _, password = parts.auth.partition(":")
    return parts._replace(auth=None).url, (unquote(user), unquote(password))


def redact_url(url: str) -> str:
    """``url`` as history, logs and the UI show it: ``user:password@`` becomes ``***@``, and the query and the
    fragment (where tokens travel) are dropped: ``https://***@host:8443/path``."""
    try:
        parts = _parsed(url)
    except ValueError:
        return "(a URL that cannot be parsed)"
    return parts._replace(auth="***" if parts.auth is not None else None, query=None, fragment=None).url


def query_values(url: str) -> list[str]:
    """The values of ``url``'s query parameters (tokens a receiver may expect there), for log masking."""
    query = _parsed(url).query
    return [value for _, value in parse_qsl(query or "", keep_blank_values=False)]


def _parsed(url: str) -> Url:
    try:
        return parse_url(url)
    except LocationParseError:
        raise ValueError("the webhook URL cannot be parsed") from None
