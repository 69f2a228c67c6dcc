"""Checks on ``OfflineUserDataJobOperation`` lists and the identifiers the sandbox stores from them.

Every problem is an ``ErrorSpec`` located at ``operations[i]`` (the SDK's partial-failure examples read
``location.field_path_elements[0].index``). Request-level rules (identifier cap, ordering, conflicts)
raise ``AdsError`` for the whole request; per-operation problems are returned, so the caller fails the
request or, with ``enable_partial_failure``, reports them and keeps the good operations.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from google.ads.googleads.v26.services.types.offline_user_data_job_service import AddOfflineUserDataJobOperationsRequest

from sandbox.google_ads.errors import ErrorSpec, ads_error

JOB_ERROR = "offline_user_data_job_error"
REMOVE_ALL = "remove_all"
CONTACT_INFO, CRM_ID, MOBILE_ADVERTISING_ID = 2, 3, 4  # CustomerMatchUploadKeyType
_KEY_OF_KIND = {"email": CONTACT_INFO, "phone": CONTACT_INFO, "address": CONTACT_INFO}
_KEY_OF_KIND |= {"crm": CRM_ID, "mobile": MOBILE_ADVERTISING_ID}
_HEX64 = re.compile(r"[0-9a-f]{64}")
_COUNTRY = re.compile(r"[A-Z]{2}")
_MOBILE_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@dataclass(frozen=True)
class Checked:
    """The operations kept, as (kind, identifiers), and the problems found, by operation index."""

    operations: list[tuple[str, frozenset[str]]]
    problems: list[ErrorSpec]
    remove_all: bool


def raw_operations(request: AddOfflineUserDataJobOperationsRequest) -> Sequence[Any]:
    """The request's operations as raw protobuf messages (proto-plus wrappers cost ~40 µs an identifier)."""
    operations: Sequence[Any] = AddOfflineUserDataJobOperationsRequest.pb(request).operations
    return operations


def check_request(operations: Sequence[Any], max_identifiers: int, first: bool) -> None:
    """Request-level rules on raw operations: the identifier cap and ``remove_all`` only as the job's first.

    ``first`` tells whether the job has no operation yet. Raises ``AdsError`` (TOO_MANY_USER_IDENTIFIERS,
    INVALID_OPERATION_ORDER).
    """
    total = sum(len(_user_data(op).user_identifiers) for op in operations if _kind(op) != REMOVE_ALL)
    if total > max_identifiers:
        message = f"{total} user identifiers in one request: at most {max_identifiers} are allowed"
        raise ads_error(JOB_ERROR, "TOO_MANY_USER_IDENTIFIERS", message)
    for index, operation in enumerate(operations):
        if _kind(operation) == REMOVE_ALL and (index > 0 or not first):
            message = "remove_all must be the first operation of the job"
            raise ads_error(JOB_ERROR, "INVALID_OPERATION_ORDER", message, path=(("operations", index),))


def job_kind(operations: Sequence[Any], current: str) -> str:
    """The job's kind after these raw operations (CREATE, REMOVE or "" when only remove_all was sent).

    Raises ``AdsError`` CONFLICTING_OPERATION when creates and removes would meet in one job.
    """
    kinds = {_kind(op) for op in operations} - {REMOVE_ALL}
    kinds |= {current} - {""}
    if len(kinds) > 1:
        message = "create and remove operations cannot be mixed in one offline user data job"
        raise ads_error(JOB_ERROR, "CONFLICTING_OPERATION", message)
    return next(iter(kinds), "")


def check_operations(operations: Sequence[Any], upload_key_type: int, max_per_user: int) -> Checked:
    """Per-operation checks on raw operations; every valid create/remove becomes (kind, identifiers)."""
    kept: list[tuple[str, frozenset[str]]] = []
    problems: list[ErrorSpec] = []
    for index, operation in enumerate(operations):
        kind = _kind(operation)
        if kind == REMOVE_ALL:
            continue
        keys = [identifier_key(i) for i in _user_data(operation).user_identifiers]
        found = _problems(keys, _user_data(operation).user_identifiers, upload_key_type, max_per_user)
        if found:
            problems.extend(ErrorSpec(JOB_ERROR, code, message, (("operations", index),)) for code, message in found)
        else:
            kept.append((kind, frozenset(keys)))
    remove_all = any(_kind(op) == REMOVE_ALL for op in operations)
    return Checked(kept, problems, remove_all)


def identifier_key(identifier: Any) -> str:
    """The stored form of one raw ``UserIdentifier``: ``email:<hex>``, ``phone:<hex>``, ``address:...``,
    ``crm:<id>`` or ``mobile:<id>`` (lower case: device ids are case-insensitive)."""
    which = identifier.WhichOneof("identifier")
    if which == "hashed_email":
        return f"email:{identifier.hashed_email}"
    if which == "hashed_phone_number":
        return f"phone:{identifier.hashed_phone_number}"
    if which == "third_party_user_id":
        return f"crm:{identifier.third_party_user_id}"
    if which == "mobile_id":
        return f"mobile:{identifier.mobile_id.lower()}"
    address = identifier.address_info
    return (
        f"address:{address.hashed_first_name}:{address.hashed_last_name}:{address.country_code}:{address.postal_code}"
    )


def _kind(operation: Any) -> str:
    return str(operation.WhichOneof("operation") or "")


def _user_data(operation: Any) -> Any:
    return operation.create if operation.HasField("create") else operation.remove


def _problems(
    keys: list[str], identifiers: Sequence[Any], upload_key_type: int, max_per_user: int
) -> list[tuple[str, str]]:
    if not keys:
        return [("MISSING_USER_IDENTIFIER", "the operation has no user identifier")]
    if len(keys) > max_per_user:
        return [("TOO_MANY_USER_IDENTIFIERS", f"{len(keys)} identifiers for one user: at most {max_per_user}")]
    return [
        problem for key, i in zip(keys, identifiers, strict=True) for problem in _key_problems(key, i, upload_key_type)
    ]


def _key_problems(key: str, identifier: Any, upload_key_type: int) -> list[tuple[str, str]]:
    kind, _, value = key.partition(":")
    if not value:
        return [("MISSING_USER_IDENTIFIER", f"the {kind} identifier is empty")]
    if _KEY_OF_KIND[kind] != upload_key_type:
        return [("INCOMPATIBLE_UPLOAD_KEY_TYPE", f"a {kind} identifier does not fit the list's upload key type")]
    if kind in {"email", "phone"} and not _HEX64.fullmatch(value):
        return [("INVALID_SHA256_FORMAT", f"the hashed {kind} must be a SHA-256 digest: 64 lowercase hex characters")]
    if kind == "address":
        return _address_problems(identifier.address_info)
    if kind == "mobile" and not _MOBILE_ID.fullmatch(value):
        return [("INVALID_MOBILE_ID_FORMAT", "a mobile id is an IDFA or AAID (UUID format)")]
    return []


def _address_problems(address: Any) -> list[tuple[str, str]]:
    if not (_HEX64.fullmatch(address.hashed_first_name) and _HEX64.fullmatch(address.hashed_last_name)):
        return [("INVALID_SHA256_FORMAT", "hashed first and last names must be 64 lowercase hex characters")]
    if not _COUNTRY.fullmatch(address.country_code):
        return [("INVALID_COUNTRY_CODE", "country_code must be an ISO-3166-1 alpha-2 code, not hashed")]
    if not address.postal_code:
        return [("MISSING_USER_IDENTIFIER", "an address needs first name, last name, country code and postal code")]
    return []
