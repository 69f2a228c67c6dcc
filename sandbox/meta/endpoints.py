"""The Graph endpoints: audiences (create, list, read, delete) and their users (add, remove, replace).

Each endpoint takes the authorized ``Call`` and returns the JSON body of a success, or raises
``GraphError``. Authentication, permissions, faults and budgets are checked before (``app``).
Logs carry ids and counts only.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from sandbox.meta.errors import invalid_parameter
from sandbox.meta.membership import matched_rows
from sandbox.meta.payload import parse_payload, parse_session
from sandbox.meta.routing import Call

if TYPE_CHECKING:
    from sandbox.meta.app import MetaSandbox

logger = logging.getLogger(__name__)
T = TypeVar("T")

CUSTOMER_FILE_SOURCES = frozenset({"USER_PROVIDED_ONLY", "PARTNER_PROVIDED_ONLY", "BOTH_USER_AND_PARTNER_PROVIDED"})
AUDIENCE_FIELDS = frozenset(
    {
        "id",
        "account_id",
        "name",
        "description",
        "subtype",
        "customer_file_source",
        "approximate_count_lower_bound",
        "approximate_count_upper_bound",
        "operation_status",
        "delivery_status",
        "time_created",
        "time_updated",
        "time_content_updated",
    }
)
DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 500

Endpoint = Callable[["MetaSandbox", Call], dict[str, Any]]


def create_audience(sandbox: MetaSandbox, call: Call) -> dict[str, Any]:
    """POST /act_{id}/customaudiences: a customer-file audience; returns ``{"id": ...}``."""
    params = call.params
    name = params.get("name", "").strip()
    if not name:
        raise invalid_parameter("The parameter name is required")
    if params.get("subtype") != "CUSTOM":
        raise invalid_parameter("The parameter subtype must be CUSTOM (the sandbox emulates customer-file audiences)")
    source = params.get("customer_file_source")
    if source not in CUSTOMER_FILE_SOURCES:
        choices = ", ".join(sorted(CUSTOMER_FILE_SOURCES))
        raise invalid_parameter(f"The parameter customer_file_source is required, one of {choices}")
    flagged = sandbox.config.flags_name(name)
    audience_id = sandbox.store.create(call.account_id, name, params.get("description", ""), source, flagged)
    logger.info("audience %s created in act_%s (flagged=%s)", audience_id, call.account_id, flagged)
    return {"id": audience_id}


def list_audiences(sandbox: MetaSandbox, call: Call) -> dict[str, Any]:
    """GET /act_{id}/customaudiences: Graph paging over the account's audiences, oldest first."""
    fields = parse_fields(call.params.get("fields"))
    ids = sandbox.store.account_audience_ids(call.account_id)
    body = graph_page(ids, call, lambda i: _project(sandbox.store.fields(i), fields))
    if call.params.get("summary") == "true":
        body["summary"] = {"total_count": len(ids)}
    return body


def graph_page(items: Sequence[T], call: Call, render: Callable[[T], dict[str, Any]]) -> dict[str, Any]:
    """One page of ``items`` as Graph pages them (``limit``, ``after`` cursors, ``paging.next``), each rendered."""
    limit = _int_param(call.params, "limit", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
    start = _decode_cursor(call.params["after"]) if call.params.get("after") else 0
    page = [render(item) for item in items[start : start + limit]]
    body: dict[str, Any] = {"data": page}
    if page:
        body["paging"] = {"cursors": {"before": _cursor(start), "after": _cursor(start + len(page) - 1)}}
        if start + len(page) < len(items):
            body["paging"]["next"] = f"/{call.route.version}{call.route.path}?after={_cursor(start + len(page) - 1)}"
    return body


def read_audience(sandbox: MetaSandbox, call: Call) -> dict[str, Any]:
    """GET /{audience_id}?fields=...: the requested fields, plus id."""
    assert call.audience_id is not None
    return _project(sandbox.store.fields(call.audience_id), parse_fields(call.params.get("fields")))


def list_sessions(sandbox: MetaSandbox, call: Call) -> dict[str, Any]:
    """GET /{audience_id}/sessions: the audience's upload sessions, newest first, Graph-paged (session_id,
    start_time, end_time, num_received, num_invalid_entries, num_matched, stage)."""
    assert call.audience_id is not None
    return graph_page(sandbox.store.sessions(call.audience_id), call, dict)


def delete_audience(sandbox: MetaSandbox, call: Call) -> dict[str, Any]:
    """DELETE /{audience_id}: removes the audience and its members."""
    assert call.audience_id is not None
    sandbox.store.delete(call.audience_id)
    logger.info("audience %s deleted", call.audience_id)
    return {"success": True}


def add_users(sandbox: MetaSandbox, call: Call) -> dict[str, Any]:
    """POST /{audience_id}/users: store the valid rows."""
    return _users(sandbox, call, "add")


def remove_users(sandbox: MetaSandbox, call: Call) -> dict[str, Any]:
    """DELETE /{audience_id}/users: remove stored rows matching the valid rows (membership rule)."""
    return _users(sandbox, call, "remove")


def replace_users(sandbox: MetaSandbox, call: Call) -> dict[str, Any]:
    """POST /{audience_id}/usersreplace: one batch of a replace session (``session`` required)."""
    return _users(sandbox, call, "replace")


def _users(sandbox: MetaSandbox, call: Call, action: str) -> dict[str, Any]:
    assert call.audience_id is not None
    payload = parse_payload(call.params.get("payload"))
    session = parse_session(call.params.get("session"), required=action == "replace")
    store = sandbox.store
    if action == "add":
        changed = store.add_rows(call.audience_id, payload.rows)
    elif action == "remove":
        changed = store.remove_rows(call.audience_id, payload.rows)
    else:
        assert session is not None
        store.replace_batch(call.audience_id, session, payload.rows)
        changed = len(payload.rows)
    logger.info(
        "users %s audience=%s received=%d invalid=%d changed=%d",
        action,
        call.audience_id,
        payload.num_received,
        payload.num_invalid,
        changed,
    )
    session_id = session.session_id if session is not None else store.new_session_id()
    last = session is None or session.last_batch_flag
    matched = matched_rows(payload.rows, sandbox.config.matching)
    store.record_session(call.audience_id, session_id, (payload.num_received, payload.num_invalid, matched), last)
    return {
        "audience_id": call.audience_id,
        "session_id": str(session_id),
        "num_received": payload.num_received,
        "num_invalid_entries": payload.num_invalid,
        "invalid_entry_samples": payload.invalid_samples,
    }


def parse_fields(
    raw: str | None, allowed: frozenset[str] = AUDIENCE_FIELDS, node_type: str = "CustomAudience"
) -> list[str]:
    """The ``fields`` parameter as a list; raises ``GraphError`` (100) for fields ``node_type`` does not emulate."""
    fields = [field.strip() for field in (raw or "").split(",") if field.strip()]
    for field in fields:
        if field not in allowed:
            raise invalid_parameter(
                f"Tried accessing nonexisting field ({field[:60]}) on node type ({node_type}) "
                f"(the sandbox emulates: {', '.join(sorted(allowed))})"
            )
    return fields


def _project(values: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    return {key: values[key] for key in ["id", *fields]}


def _int_param(params: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = params.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise invalid_parameter(f"The parameter {name} must be an integer within [{low}, {high}]")
    return int(raw)


def _cursor(index: int) -> str:
    return base64.urlsafe_b64encode(f"i:{index}".encode()).decode()


def _decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
        if text.startswith("i:") and text[2:].isdigit():
            return int(text[2:]) + 1
    except ValueError:
        pass
    raise invalid_parameter("The parameter after is not a valid cursor")


ENDPOINTS: dict[tuple[str, str | None, str], Endpoint] = {
    ("account", "customaudiences", "POST"): create_audience,
    ("account", "customaudiences", "GET"): list_audiences,
    ("audience", None, "GET"): read_audience,
    ("audience", None, "DELETE"): delete_audience,
    ("audience", "users", "POST"): add_users,
    ("audience", "users", "DELETE"): remove_users,
    ("audience", "usersreplace", "POST"): replace_users,
    ("audience", "sessions", "GET"): list_sessions,
}
USER_EDGES = frozenset({"users", "usersreplace"})
