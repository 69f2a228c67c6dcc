"""``requestStatus:retrieve`` answers: per-destination status, record counts and match-rate range.

RequestStatus (RequestStatusPerDestination.RequestStatus): SUCCESS 1, PROCESSING 2, FAILED 3,
PARTIAL_SUCCESS 4. An operation reports PROCESSING until it is settled; then, per destination,
FAILED when every record was dropped (denied consent, lenient policy, or scripted errors:
``diagnostics``), PARTIAL_SUCCESS when some were, else SUCCESS. Dropped records are counted per reason in
``errorInfo.errorCounts`` (``ProcessingErrorReason`` names), scripted warnings in
``warningInfo.warningCounts``. The match-rate range (MatchRateRange) is the share of ingested records with
an e-mail or phone identifier in the configured universe; it is reported for user data only (the mobile
and user id statuses have no match-rate field), whose counts are reported under their own status.
"""

from __future__ import annotations

from typing import Any

from sandbox.google_data_manager.store import INGEST, REMOVE, Operation, Work

SUCCESS, PROCESSING, FAILED, PARTIAL_SUCCESS = 1, 2, 3, 4
NOT_ELIGIBLE = 1
DENIED_CONSENT = "PROCESSING_ERROR_REASON_DENIED_CONSENT"
# upper bounds (exclusive, percent) of MatchRateRange values 2..9; 10 is 91-100
_COUNT_FIELDS = {"userData": "userIdentifierCount", "mobileData": "mobileIdCount", "userIdData": "userIdCount"}
_RANGE_BOUNDS = ((20, 2), (31, 3), (41, 4), (51, 5), (61, 6), (71, 7), (81, 8), (91, 9))


def match_rate_range(matched: int, records: int) -> int:
    """The MatchRateRange enum value for ``matched`` of ``records`` (NOT_ELIGIBLE without records)."""
    if records <= 0:
        return NOT_ELIGIBLE
    percent = 100.0 * matched / records
    return next((value for bound, value in _RANGE_BOUNDS if percent < bound), 10)


def retrieve(operation: Operation) -> dict[str, Any]:
    """The RetrieveRequestStatusResponse JSON, destinations in request order."""
    return {"requestStatusPerDestination": [_per_destination(operation, work) for work in operation.work]}


def _per_destination(operation: Operation, work: Work) -> dict[str, Any]:
    entry: dict[str, Any] = {"destination": dict(work.echo)}
    if not operation.applied:
        entry["requestStatus"] = PROCESSING
        return entry
    entry["requestStatus"] = _outcome(work)
    if operation.kind in (INGEST, REMOVE):
        verb = "Ingestion" if operation.kind == INGEST else "Removal"
        counts: dict[str, Any] = {"recordCount": str(work.record_count)}
        counts[_COUNT_FIELDS[work.kind]] = str(work.identifier_count)
        if operation.kind == INGEST and work.kind == "userData":
            counts["uploadMatchRateRange"] = match_rate_range(work.matched_count, work.record_count - work.failed_count)
        entry[f"audienceMembers{verb}Status"] = {f"{work.kind}{verb}Status": counts}
    else:
        entry["removeAllAudienceMembersStatus"] = {}
    errors = {DENIED_CONSENT: work.denied_count} if work.denied_count else {}
    if errors or work.error_counts:
        entry["errorInfo"] = {"errorCounts": _counts(errors | work.error_counts)}
    if work.warning_counts:
        entry["warningInfo"] = {"warningCounts": _counts(work.warning_counts)}
    return entry


def _counts(by_reason: dict[str, int]) -> list[dict[str, str]]:
    """``ErrorCount`` / ``WarningCount`` JSON, reasons in name order."""
    return [{"recordCount": str(count), "reason": reason} for reason, count in sorted(by_reason.items())]


def _outcome(work: Work) -> int:
    if not work.failed_count:
        return SUCCESS
    return FAILED if work.failed_count >= work.record_count else PARTIAL_SUCCESS
