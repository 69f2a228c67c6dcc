"""What Google says after a load: the requests' processing outcome, the list's size and the warnings.

Data Manager requests are processed asynchronously (https://developers.google.com/data-manager/api/devguides/diagnostics):
``requestStatus:retrieve`` reports PROCESSING until Google settled the request, then per destination
SUCCESS, PARTIAL_SUCCESS or FAILED with record counts and, for ingestion, a match-rate range. The
request ids of a load, with the members each request carried, are kept per batch in run-scoped files
(``RequestLog``) so a wait step (and a retried one) finds every request of every acknowledged batch; the
Google Ads API path weighs its jobs' match rates by those member counts (its jobs report none). Size
warnings follow the product document "Google Ads Integration for Behaviors": under 1,000 members for
Search, under 5,000 for Display / YouTube / Gmail, and a match rate under 30 %.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from google.ads import datamanager_v1 as dm

from behavior_sync import parquet_io

Status = dm.RequestStatusPerDestination.RequestStatus
SEARCH_MINIMUM = 1_000
DISPLAY_MINIMUM = 5_000
LOW_MATCH_RATE = 0.30
VENDOR_FAILED = "vendor_failed"  # ledger stage of a batch Google failed after accepting it
# MatchRateRange -> (lower, upper) percent; its midpoint estimates a request's match rate
_RANGES: Mapping[int, tuple[int, int]] = {
    2: (0, 20), 3: (20, 30), 4: (31, 40), 5: (41, 50), 6: (51, 60), 7: (61, 70), 8: (71, 80), 9: (81, 90), 10: (91, 100)
}  # fmt: skip


@dataclass(frozen=True)
class SentRequest:
    """One accepted request (Data Manager) or run job (Google Ads API) of a batch: its id and the members it
    carried (None when unknown: logs written before the counts were kept)."""

    request_id: str
    members: int | None


class RequestLog:
    """The requests of each batch of one load, in files under ``folder`` (run-scoped; replaced by a retry).

    A file is a JSON list of ``{"request_id", "members"}`` objects; plain id strings (the former format, which
    a retried wait step may still find) read as requests with ``members`` None.
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
    return SentRequest(str(entry["request_id"]), entry.get("members"))


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
    """One settled request: its status name, records and, for ingestion, the match-rate range (enum value)."""

    request_id: str
    status: str
    records: int
    match_rate_range: int | None

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
    )


@dataclass(frozen=True)
class ListSize:
    """The list's members as Google counts them per network (may lag the uploads by hours)."""

    list_id: str
    name: str
    search: int
    display: int


def processing_report(outcomes: Sequence[RequestOutcome], size: ListSize | None) -> dict[str, Any]:
    """History details of a settled load: request counts by status, the record-weighted match rate estimated
    from Google's ranges (None without ingestion), the list size and the product document's warnings."""
    by_status: dict[str, int] = {}
    for outcome in outcomes:
        by_status[outcome.status] = by_status.get(outcome.status, 0) + 1
    rate = match_rate(outcomes)
    return {
        "requests": len(outcomes),
        "by_status": by_status,
        "failed_requests": [o.request_id for o in outcomes if o.status != "SUCCESS"],
        "match_rate": rate,
        "list": None if size is None else asdict(size),
        "warnings": warnings(size, rate),
    }


def match_rate(outcomes: Sequence[RequestOutcome]) -> float | None:
    """Record-weighted midpoint of the ingestion requests' match-rate ranges, as a fraction (None: no range).
    Records are Google's counts for Data Manager requests and the members each job carried for Google Ads API jobs."""
    rated = [(o.records, _RANGES[o.match_rate_range]) for o in outcomes if o.match_rate_range is not None]
    records = sum(n for n, _ in rated)
    if not records:
        return None
    return round(sum(n * (low + high) / 2 for n, (low, high) in rated) / records / 100, 4)


def warnings(size: ListSize | None, rate: float | None) -> list[str]:
    """The product document's size and match-rate warnings (empty when there is nothing to say)."""
    found = []
    if size is not None and size.search < SEARCH_MINIMUM:
        found.append(f"the list has {size.search} members for Search, below the {SEARCH_MINIMUM:,} Search needs")
    if size is not None and size.display < DISPLAY_MINIMUM:
        found.append(
            f"the list has {size.display} members for Display, below the {DISPLAY_MINIMUM:,} that Display, "
            "YouTube and Gmail campaigns need"
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
