"""``IngestionService`` audience calls: ingest, remove, removeAll, and request status.

Each accepted call stores an ``Operation`` (see ``store``) and answers ``{"requestId": ...}``; with
``validateOnly`` it is checked and answered ``{}`` without being stored. Checks, in order: body is an
object; destinations (count, shape); each operating account accessible with the request's account
type (403 PERMISSION_DENIED) and not configured ``unlinked`` (400 REQUIRED_PREREQUISITE_LINK_MISSING,
Data Manager v1.8; that Google answers it for Customer Match is UNCONFIRMED); each product destination id
an existing user list of that account (400 INVALID_USER_LIST_ID, UNCONFIRMED code); then, for
ingest/remove, the members (fast fail), that their kind of data fits each list's upload key type (400
INVALID_USER_LIST_TYPE, UNCONFIRMED code), and for ingest the Customer Match terms of service and consent
(strict policy); for removeAll, ``removeAsOfTime`` (RFC 3339) not after the sandbox clock (400
INVALID_REMOVE_AS_OF_TIME, v1.8). An accepted ingest takes the next scripted ``diagnostics``: records
dropped with error reasons, warning counts, and ``fieldWarnings`` in its answer.
Callers hold the store lock.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sandbox.common.universe import any_known
from sandbox.google_data_manager import errors, validation
from sandbox.google_data_manager.config import GoogleDataManagerSandboxConfig
from sandbox.google_data_manager.diagnostics import Diagnostics
from sandbox.google_data_manager.status import retrieve
from sandbox.google_data_manager.store import INGEST, REMOVE, REMOVE_ALL, Operation, Store, Work
from sandbox.google_data_manager.user_lists import data_kind
from sandbox.google_data_manager.validation import Member, Target


@dataclass(frozen=True)
class Call:
    """What an audience call needs: settings, store, clock reading and the decoded body."""

    config: GoogleDataManagerSandboxConfig
    store: Store
    now: float
    body: Mapping[str, Any]


def ingest(call: Call) -> dict[str, Any]:
    """``POST /v1/audienceMembers:ingest``."""
    targets = _targets(call)
    members = _members(call, targets, ingest=True)
    if not validation.terms_accepted(call.body):
        message = "the Customer Match terms of service must be ACCEPTED (terms_of_service) to ingest user data"
        raise errors.field_error("terms_of_service", "TERMS_AND_CONDITIONS_NOT_SIGNED", message)
    if call.config.consent_policy == "strict":
        problem = validation.consent_problems(call.body, members)
        if problem is not None:
            raise problem
    diagnostics = Diagnostics() if call.body.get("validateOnly") is True else call.store.diagnostics.next()
    answer = _accept(call, INGEST, [_work(call.config, t, members, diagnostics=diagnostics) for t in targets])
    warnings = diagnostics.field_warnings_json()
    return (answer | {"fieldWarnings": warnings}) if answer and warnings else answer


def remove(call: Call) -> dict[str, Any]:
    """``POST /v1/audienceMembers:remove`` (no consent or terms needed)."""
    targets = _targets(call)
    members = _members(call, targets, ingest=False)
    return _accept(call, REMOVE, [_work(call.config, t, members, removal=True) for t in targets])


def remove_all(call: Call) -> dict[str, Any]:
    """``POST /v1/audienceMembers:removeAll``: once processed, drops from each destination's user list the members
    last added before ``removeAsOfTime`` (default: the request's arrival)."""
    targets = _targets(call)
    as_of = _remove_as_of(call)
    work = [Work(t.echo, t.account_id, t.user_list_id, [], 0, 0, remove_as_of=as_of) for t in targets]
    return _accept(call, REMOVE_ALL, work)


def _remove_as_of(call: Call) -> float | None:
    """``removeAsOfTime`` as epoch seconds (None when absent); INVALID_REMOVE_AS_OF_TIME when after the clock,
    INVALID_FORMAT when not an RFC 3339 timestamp."""
    raw = call.body.get("removeAsOfTime")
    if raw is None:
        return None
    try:
        as_of = dt.datetime.fromisoformat(str(raw)).timestamp()
    except ValueError:
        raise errors.field_error("remove_as_of_time", "INVALID_FORMAT", "not an RFC 3339 timestamp") from None
    if as_of > call.now:
        message = "the remove as of time must be in the past or present"
        raise errors.field_error("remove_as_of_time", "INVALID_REMOVE_AS_OF_TIME", message)
    return as_of


def request_status(store: Store, query: Mapping[str, str], visible: Callable[[str], bool]) -> dict[str, Any]:
    """``GET /v1/requestStatus:retrieve?requestId=``; unknown or foreign ids -> 400 INVALID_REQUEST_ID (UNCONFIRMED)."""
    request_id = query.get("requestId", "").strip()
    if not request_id:
        raise errors.field_error("request_id", "REQUIRED_FIELD_MISSING", "request id is required")
    operation = store.operations.get(request_id)
    if operation is None or not all(visible(work.account_id) for work in operation.work):
        raise errors.field_error("request_id", "INVALID_REQUEST_ID", "no request with this id for the caller")
    return retrieve(operation)


def _limits(config: GoogleDataManagerSandboxConfig) -> tuple[int, int]:
    return config.max_audience_members, config.max_identifiers_per_member


def _targets(call: Call) -> list[Target]:
    if not isinstance(call.body, dict):
        raise errors.invalid_argument("INVALID_ARGUMENT", "the request body must be a JSON object")
    targets = validation.destinations(call.body, call.config.max_destinations)
    for target in targets:
        if call.config.account_type(target.account_id) != target.account_type:
            message = f"the caller does not have permission to access operating account {target.account_id}"
            raise errors.permission_denied(message)
        if target.account_id in call.config.unlinked_accounts:
            path = f"destinations[{target.index}].operating_account"
            message = "a required prerequisite link (such as a Google Ads link) is missing for this account"
            raise errors.field_error(path, "REQUIRED_PREREQUISITE_LINK_MISSING", message)
        if (target.account_id, target.user_list_id) not in call.store.user_lists:
            path = f"destinations[{target.index}].product_destination_id"
            raise errors.field_error(path, "INVALID_USER_LIST_ID", "no user list with this id in the operating account")
    return targets


def _members(call: Call, targets: list[Target], ingest: bool) -> list[Member]:
    """The validated members, whose kind of data every target list takes."""
    members = validation.members(call.body, _limits(call.config), ingest)
    for target in targets:
        wanted = data_kind(call.store.user_lists[(target.account_id, target.user_list_id)])
        if members[0].kind != wanted:
            path = f"destinations[{target.index}].product_destination_id"
            message = f"the user list's upload key type takes {wanted} audience members, not {members[0].kind}"
            raise errors.field_error(path, "INVALID_USER_LIST_TYPE", message)
    return members


def _work(
    config: GoogleDataManagerSandboxConfig,
    target: Target,
    members: list[Member],
    removal: bool = False,
    diagnostics: Diagnostics | None = None,
) -> Work:
    """What a request does to one destination: its members, less those denied consent and the first
    ``diagnostics.failed`` (scripted errors), with the counts its status reports."""
    scripted = diagnostics or Diagnostics()
    mine = [m for m in members if not m.references or target.reference in m.references]
    denied = [] if removal else [m for m in mine if m.consent_denied]
    kept = [m for m in mine if removal or not m.consent_denied][scripted.failed :]
    matched = sum(1 for m in kept if any_known(m.identifiers, config.matching))
    return Work(
        echo=target.echo,
        account_id=target.account_id,
        list_id=target.user_list_id,
        members=[m.identifiers for m in kept if m.identifiers],
        record_count=len(mine),
        identifier_count=sum(len(m.identifiers) for m in mine),
        matched_count=matched,
        denied_count=len(denied),
        kind=members[0].kind,
        error_counts=dict(scripted.errors),
        warning_counts=dict(scripted.warnings),
    )


def _accept(call: Call, kind: str, work: list[Work]) -> dict[str, Any]:
    if call.body.get("validateOnly") is True:
        return {}
    operation = Operation(uuid.uuid4().hex, kind, call.now, work)
    call.store.operations[operation.request_id] = operation
    return {"requestId": operation.request_id}
