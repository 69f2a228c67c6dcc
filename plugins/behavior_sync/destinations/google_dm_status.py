"""What Google says after a load: the requests' processing outcome, the list's size and the warnings.

Data Manager requests are processed asynchronously (https://developers.google.com/data-manager/api/devguides/diagnostics):
``requestStatus:retrieve`` reports PROCESSING until Google settled the request, then per destination
SUCCESS, PARTIAL_SUCCESS or FAILED with record counts, for ingestion a match-rate range, and the records
Google did not apply (``ErrorInfo.errorCounts``) or applied with a warning (``WarningInfo``) counted per
reason. An ingest answer may carry ``field_warnings`` (Data Manager v1.8) at once. The request ids of a
load, with the members each request carried and its field warnings per reason, are kept per batch in
run-scoped files (``RequestLog``) so a wait step (and a retried one) finds every request of every
acknowledged batch; the Google Ads API path weighs its jobs' match rates by those member counts (its jobs
report none). Size warnings follow the product document "Google Ads Integration for Behaviors" (under
1,000 members for Search, under 5,000 for Display / YouTube / Gmail) and cite Google's own serving minimum
(100 active members, Google Ads Help 7476585, lowered from those figures in late 2024); a match rate under
30 % warns too.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from google.ads import datamanager_v1 as dm

from behavior_sync import parquet_io

Status = dm.RequestStatusPerDestination.RequestStatus
SEARCH_MINIMUM = 1_000  # the product document's threshold for Search campaigns
DISPLAY_MINIMUM = 5_000  # the product document's threshold for Display, YouTube and Gmail campaigns
SERVING_MINIMUM = 100  # Google's: a Customer Match list serves from 100 active members (Google Ads Help 7476585)
LOW_MATCH_RATE = 0.30
VENDOR_FAILED = "vendor_failed"  # ledger stage of a batch Google failed after accepting it
REMOVE_ALL_STATUS = "remove_all_audience_members_status"  # RequestOutcome.kind of a RemoveAllAudienceMembers request
# MatchRateRange -> (lower, upper) percent; its midpoint estimates a request's match rate
_RANGES: Mapping[int, tuple[int, int]] = {
    2: (0, 20), 3: (20, 30), 4: (31, 40), 5: (41, 50), 6: (51, 60), 7: (61, 70), 8: (71, 80), 9: (81, 90), 10: (91, 100)
}  # fmt: skip


@dataclass(frozen=True)
class SentRequest:
    """One accepted request (Data Manager) or run job (Google Ads API) of a batch: its id, the members it
    carried (None when unknown: logs written before the counts were kept) and the field warnings Google
    answered, counted per ``WarningReason`` name (Data Manager ingest only)."""

    request_id: str
    members: int | None
    field_warnings: Mapping[str, int] = field(default_factory=dict)


class RequestLog:
    """The requests of each batch of one load, in files under ``folder`` (run-scoped; replaced by a retry).

    A file is a JSON list of ``{"request_id", "members", "field_warnings"}`` objects; plain id strings (the
    former format, which a retried wait step may still find) read as requests with ``members`` None.
    """

    def __init__(self, folder: str) -> None:
        self.folder = folder.rstrip("/")

    def _uri(self, op: str, batch_no: int) -> str:
        return f"{self.folder}/{op}-{batch_no:06d}.json"

    def write(self, op: str, batch_no: int, requests: Sequence[SentRequest]) -> None:
        """Records the requests that carried batch ``batch_no`` of ``op`` (atomic; replaces an earlier record)."""
        parquet_io.write_text(self._uri(op, batch_no), json.dumps([asdict(r) for r in requests]))

    def read(self, batches: Iterable[tuple[str, int]]) -> list[SentRequest]:
        """The requests of ``batches`` (op, number), in that order; batches without a file give none."""
        found: list[SentRequest] = []
        for op, batch_no in batches:
            uri = self._uri(op, batch_no)
            if parquet_io.exists(uri):
                found += [_sent(entry) for entry in json.loads(parquet_io.read_text(uri))]
        return found


def _sent(entry: str | dict[str, Any]) -> SentRequest:
    """A request log entry: an object, or a plain id (former format, member count unknown)."""
    if isinstance(entry, str):
        return SentRequest(entry, None)
    return SentRequest(str(entry["request_id"]), entry.get("members"), dict(entry.get("field_warnings") or {}))


def failed_batches(
    log: RequestLog, batches: Sequence[tuple[str, int]], outcomes: Sequence[RequestOutcome]
) -> list[tuple[str, int]]:
    """The ``batches`` (op, number) one of whose requests Google settled as FAILED (nothing of it applied):
    the wait step takes them back from the commit (ledger stage ``VENDOR_FAILED``), so the state does not
    move for their rows and the next run sends them again."""
    failed = {o.request_id for o in outcomes if o.status == "FAILED"}
    return [batch for batch in batches if any(r.request_id in failed for r in log.read([batch]))]


@dataclass(frozen=True)
class RequestOutcome:
    """One settled request: its status name, records, for ingestion the match-rate range (enum value), its kind
    (the status oneof: ``audience_members_ingestion_status``, ``..._removal_status``,
    ``remove_all_audience_members_status``; "" for Google Ads API jobs) and the records Google did not apply
    (``errors``) or applied with a warning (``warnings``), per reason name."""

    request_id: str
    status: str
    records: int
    match_rate_range: int | None
    kind: str = ""
    errors: Mapping[str, int] = field(default_factory=dict)
    warnings: Mapping[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-serializable form (trigger events, XCom)."""
        return asdict(self)


def read_outcome(request_id: str, entries: Sequence[dm.RequestStatusPerDestination]) -> RequestOutcome | None:
    """The outcome of a request from its status entries (one destination each); None while Google processes it.
    Records count whichever data the request carried (user data, mobile ids or user ids); only user data has a
    match-rate range."""
    if not entries or any(e.request_status == Status.PROCESSING for e in entries):
        return None
    entry = entries[0]
    errors = reason_counts((c.reason, c.record_count) for c in entry.error_info.error_counts)
    warned = reason_counts((c.reason, c.record_count) for c in entry.warning_info.warning_counts)
    ingested, removed = entry.audience_members_ingestion_status, entry.audience_members_removal_status
    counts = (
        ingested.user_data_ingestion_status, ingested.mobile_data_ingestion_status,
        ingested.user_id_data_ingestion_status, removed.user_data_removal_status,
        removed.mobile_data_removal_status, removed.user_id_data_removal_status,
    )  # fmt: skip
    rate = int(ingested.user_data_ingestion_status.upload_match_rate_range)
    return RequestOutcome(
        request_id,
        Status(entry.request_status).name,
        max(int(status.record_count) for status in counts),
        rate if rate in _RANGES else None,
        str(type(entry).pb(entry).WhichOneof("status") or ""),
        errors,
        warned,
    )


def reason_counts(counts: Iterable[tuple[Any, int]]) -> dict[str, int]:
    """Counts added up per reason name (``(enum value, count)`` pairs; a value this SDK does not know yet keeps
    its number)."""
    return _summed((str(getattr(reason, "name", reason)), int(count)) for reason, count in counts)


@dataclass(frozen=True)
class ListSize:
    """The list's members as Google counts them per network (may lag the uploads by hours)."""

    list_id: str
    name: str
    search: int
    display: int


def processing_report(
    outcomes: Sequence[RequestOutcome], size: ListSize | None, field_warnings: Mapping[str, int] | None = None
) -> dict[str, Any]:
    """History details of a settled load: request counts by status, the record-weighted match rate estimated
    from Google's ranges (None without ingestion), the list size, the size and match-rate warnings, the records
    Google did not apply or warned about per reason (``error_counts``, ``warning_counts``), the ingest answers'
    ``field_warnings`` per reason, and how many RemoveAllAudienceMembers requests Google processed."""
    rate = match_rate(outcomes)
    return {
        "requests": len(outcomes),
        "by_status": _summed((o.status, 1) for o in outcomes),
        "failed_requests": [o.request_id for o in outcomes if o.status != "SUCCESS"],
        "match_rate": rate,
        "list": None if size is None else asdict(size),
        "warnings": warnings(size, rate),
        "error_counts": _summed(item for o in outcomes for item in o.errors.items()),
        "warning_counts": _summed(item for o in outcomes for item in o.warnings.items()),
        "field_warnings": dict(sorted((field_warnings or {}).items())),
        "removed_all": sum(1 for o in outcomes if o.kind == REMOVE_ALL_STATUS),
    }


def _summed(counts: Iterable[tuple[str, int]]) -> dict[str, int]:
    """Counts added up per key, keys in order."""
    found: dict[str, int] = {}
    for key, count in counts:
        found[key] = found.get(key, 0) + count
    return dict(sorted(found.items()))


def match_rate(outcomes: Sequence[RequestOutcome]) -> float | None:
    """Record-weighted midpoint of the ingestion requests' match-rate ranges, as a fraction (None: no range).
    Records are Google's counts for Data Manager requests and the members each job carried for Google Ads API jobs."""
    rated = [(o.records, _RANGES[o.match_rate_range]) for o in outcomes if o.match_rate_range is not None]
    records = sum(n for n, _ in rated)
    if not records:
        return None
    return round(sum(n * (low + high) / 2 for n, (low, high) in rated) / records / 100, 4)


def warnings(size: ListSize | None, rate: float | None) -> list[str]:
    """Size warnings (Google's serving minimum, and the product document's thresholds, each citing Google's) and
    the match-rate warning (empty when there is nothing to say)."""
    found = []
    google = f"Google itself serves a Customer Match list from {SERVING_MINIMUM} active members"
    if size is not None and min(size.search, size.display) < SERVING_MINIMUM:
        found.append(
            f"the list has {min(size.search, size.display)} members, below the {SERVING_MINIMUM} active members "
            "Google needs to serve a Customer Match list at all (sizes lag processing)"
        )
    if size is not None and size.search < SEARCH_MINIMUM:
        found.append(
            f"the list has {size.search} members for Search, below the {SEARCH_MINIMUM:,} Search needs "
            f"(the product document's threshold; {google})"
        )
    if size is not None and size.display < DISPLAY_MINIMUM:
        found.append(
            f"the list has {size.display} members for Display, below the {DISPLAY_MINIMUM:,} that Display, "
            f"YouTube and Gmail campaigns need (the product document's threshold; {google})"
        )
    if rate is not None and rate < LOW_MATCH_RATE:
        found.append(f"low match rate (~{rate:.0%}): add identifiers (e-mail and phone) or check their quality")
    return found


def list_size(user_list: dm.UserList) -> ListSize:
    """The size of a user list as Google reports it."""
    info = user_list.size_info
    return ListSize(
        str(user_list.id),
        user_list.display_name,
        int(info.search_network_members_count),
        int(info.display_network_members_count),
    )
