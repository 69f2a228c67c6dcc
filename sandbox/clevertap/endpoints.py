"""The endpoints: ``POST /1/upload`` (profiles and events, mixed) and ``POST /1/delete/profiles.json``.

Upload answers HTTP 200 even when records fail: ``{"status", "processed", "unprocessed": [{"status":
"fail", "code", "error", "record"}]}``. ``status`` is ``success`` (all processed), ``partial`` or
``fail`` (none processed) in the default ``by_outcome`` mode; ``always_success`` reproduces the 2017
recordings, where CleverTap said ``success`` even with ``processed: 0``. ``record`` echoes the record
as an object (default) or, as in those recordings, as a JSON string (``unprocessed_record:
json_string``). The ``error`` text ends with ``Skipped record number : <1-based index>``.

Whole-request refusals (HTTP 400): a body that is not a JSON object with a non-empty array ``d``,
or more than ``max_records_per_upload`` records; for delete, anything but exactly one of ``identity``
/ ``guid`` holding a non-empty string or 1..``max_delete_values`` non-empty strings.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

from sandbox.clevertap import errors
from sandbox.clevertap.config import CleverTapSandboxConfig
from sandbox.clevertap.profile_data import RecordRejected
from sandbox.clevertap.records import EventRecord, ProfileRecord, RecordRules, parse_record
from sandbox.clevertap.store import Store


@dataclass(frozen=True)
class Call:
    """One admitted API call: account, raw body, the sandbox config and store, and its call number."""

    account_id: str
    body: bytes
    config: CleverTapSandboxConfig
    store: Store
    number: int


@dataclass(frozen=True)
class Outcome:
    """The JSON answer (HTTP 200) and a log summary holding counts and codes only."""

    body: dict[str, Any]
    summary: str
    codes: Counter[int]


def upload(call: Call) -> Outcome:
    """Validate and apply each record in order; a failed record changes nothing. Raises ``CleverTapError`` (400)."""
    records = _records(_json(call.body), call.config.max_records_per_upload)
    rules = RecordRules(call.config.max_event_properties, call.config.multi_value_operators)
    processed, unprocessed = 0, []
    with call.store.lock:
        for number, record in enumerate(records, start=1):
            try:
                _apply(call, parse_record(record, rules))
                processed += 1
            except RecordRejected as rejected:
                unprocessed.append(_unprocessed(rejected, record, number, call.config.unprocessed_record))
    codes = Counter(int(entry["code"]) for entry in unprocessed)
    status = _status(processed, len(unprocessed), call.config.upload_status)
    counts = f"records={len(records)} processed={processed} unprocessed={len(unprocessed)}"
    summary = f"{counts} codes={dict(sorted(codes.items()))}"
    return Outcome({"status": status, "processed": processed, "unprocessed": unprocessed}, summary, codes)


def delete_profiles(call: Call) -> Outcome:
    """Delete profiles by identity or guid (unknown ones are ignored). Raises ``CleverTapError`` (400)."""
    body = _json(call.body)
    if not isinstance(body, dict) or set(body) - {"identity", "guid"}:
        raise errors.bad_request("The body must be a JSON object with 'identity' or 'guid'")
    given = [key for key in ("identity", "guid") if key in body]
    if len(given) != 1:
        raise errors.bad_request("Pass either 'identity' or 'guid', not both and not neither")
    key = given[0]
    values = [body[key]] if isinstance(body[key], str) else body[key]
    if not isinstance(values, list) or not values or not all(isinstance(v, str) and v.strip() for v in values):
        raise errors.bad_request(f"'{key}' must be a non-empty string or a non-empty array of strings")
    if len(values) > call.config.max_delete_values:
        limit = call.config.max_delete_values
        raise errors.bad_request(f"At most {limit} values per '{key}' array per request ({len(values)} sent)")
    deleted = call.store.delete(call.account_id, key, values)
    return Outcome({"status": "success"}, f"by={key} requested={len(values)} existed={deleted}", Counter())


def _json(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8")) if body else None
    except ValueError:
        raise errors.bad_request("The body is not valid JSON") from None


def _records(body: Any, limit: int) -> list[Any]:
    records = body.get("d") if isinstance(body, dict) else None
    if not isinstance(records, list) or not records:
        raise errors.bad_request("The body must be a JSON object with a non-empty array 'd'")
    if len(records) > limit:
        raise errors.bad_request(f"A maximum of {limit} records can be sent per request ({len(records)} sent)")
    return records


def _apply(call: Call, record: ProfileRecord | EventRecord) -> None:
    if isinstance(record, ProfileRecord):
        call.store.upload_profile(call.account_id, record, call.config.max_custom_profile_keys)
    else:
        call.store.upload_event(call.account_id, record, call.number)


def _unprocessed(rejected: RecordRejected, record: Any, number: int, echo: str) -> dict[str, Any]:
    echoed = json.dumps(record, separators=(",", ":")) if echo == "json_string" else record
    error = f"{rejected.message}Skipped record number : {number}"
    return {"status": "fail", "code": rejected.code, "error": error, "record": echoed}


def _status(processed: int, failed: int, mode: str) -> str:
    if mode == "always_success" or failed == 0:
        return "success"
    return "fail" if processed == 0 else "partial"
