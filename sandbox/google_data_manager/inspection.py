"""``/_sandbox/...``: read-only inspection of what the sandbox holds, and fault controls.

No credentials. Answers are plain JSON (errors ``{"error": "..."}`` with 400 or 404), not Google-shaped:
this API is the sandbox's own, for tests and the demo. Reads first apply operations that are due.

* ``GET /_sandbox/state`` — accessible accounts, counts of user lists, members and requests (pending
  and processed), admitted calls by route, refusals by ``"<code> <reason>"``, limits, faults.
* ``GET /_sandbox/user_lists`` — every user list: ``{account_id, account_type, id, name, display_name,
  membership_days, ingested_user_list_info, members: [[identifier, ...], ...]}``; ``?account=`` filters.
  Identifiers are the forms the sandbox stores (``email:<hex>``, ``phone:<hex>``, ``address:...``,
  ``crm:<user id>``, ``mobile:<id>``).
* ``GET /_sandbox/requests`` — every operation: ``{request_id, kind, created_at, applied,
  destinations: [{account_id, user_list_id, record_count, identifier_count, matched_count, denied_count}]}``.
* ``POST /_sandbox/faults`` — ``{"scripted": [spec, ...], "random": {fault config}}``; a spec is
  ``{"match": regex on "METHOD /path", "count": N, "http_status": 503, "message": "...", "reason": "..."}``.
* ``DELETE /_sandbox/faults`` — drop scripted faults and turn random faults off.
* ``POST /_sandbox/diagnostics`` — ``{"count": N, "errors": {reason: records}, "warnings": {reason: records},
  "field_warnings": {reason: n}}``: what Google reports about the next N accepted ingest requests
  (``diagnostics``); ``DELETE /_sandbox/diagnostics`` drops what is queued. Both answer the queue.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sandbox.common.http import Request, Response
from sandbox.common.inspection import BadRequest, FaultSpecRules, answer_read_or_faults, faults_view, json_object
from sandbox.google_data_manager import diagnostics

if TYPE_CHECKING:
    from sandbox.google_data_manager.app import GoogleDataManagerSandbox

FAULT_SPECS = FaultSpecRules(spec_keys=frozenset({"http_status", "message", "reason"}), default_status=503)
_LIMITS = (
    "processing_delay_seconds",
    "remove_all_delay_seconds",
    "requests_per_minute",
    "requests_per_day",
    "max_audience_members",
    "max_identifiers_per_member",
    "max_destinations",
    "consent_policy",
)


DIAGNOSTICS_PATH = "/_sandbox/diagnostics"


def handle_inspection(sandbox: GoogleDataManagerSandbox, request: Request) -> Response:
    """Answer a ``/_sandbox/...`` request; reads first apply due operations, then run under the store lock."""
    if request.path.rstrip("/") == DIAGNOSTICS_PATH and request.method in {"POST", "DELETE"}:
        return _control_diagnostics(sandbox, request)

    def read(path: str) -> dict[str, Any]:
        sandbox.settle()
        with sandbox.store.lock:
            return _read(sandbox, request, path)

    return answer_read_or_faults(request, sandbox.faults, FAULT_SPECS, read, not_found="no sandbox endpoint")


def _control_diagnostics(sandbox: GoogleDataManagerSandbox, request: Request) -> Response:
    """Queue (POST) or drop (DELETE) scripted diagnostics; answers the queue, or 400 for a bad body."""
    try:
        scripted = None if request.method == "DELETE" else diagnostics.parse(json_object(request))
    except (BadRequest, ValueError) as exc:
        return Response.json(400, {"error": str(exc)})
    with sandbox.store.lock:
        queue = sandbox.store.diagnostics
        if scripted is None:
            queue.clear()
        else:
            queue.script(*scripted)
        return Response.json(200, {"pending": queue.pending()})


def _read(sandbox: GoogleDataManagerSandbox, request: Request, path: str) -> dict[str, Any]:
    store = sandbox.store
    if path == "/_sandbox/state":
        return state(sandbox)
    if path == "/_sandbox/user_lists":
        wanted = request.query.get("account")
        lists = [
            {
                "account_id": ul.account_id,
                "account_type": ul.account_type,
                "id": ul.list_id,
                "name": ul.name,
                "display_name": ul.display_name,
                "membership_days": ul.membership_days,
                "ingested_user_list_info": dict(ul.info),
                "members": ul.members.sorted_members(),
            }
            for ul in store.user_lists.values()
            if wanted is None or ul.account_id == wanted
        ]
        return {"count": len(lists), "user_lists": lists}
    if path == "/_sandbox/requests":
        requests = [
            {
                "request_id": op.request_id,
                "kind": op.kind,
                "created_at": op.created_at,
                "applied": op.applied,
                "destinations": [
                    {
                        "account_id": w.account_id,
                        "user_list_id": w.list_id,
                        "record_count": w.record_count,
                        "identifier_count": w.identifier_count,
                        "matched_count": w.matched_count,
                        "denied_count": w.denied_count,
                    }
                    for w in op.work
                ],
            }
            for op in store.operations.values()
        ]
        return {"count": len(requests), "requests": requests}
    raise LookupError


def state(sandbox: GoogleDataManagerSandbox) -> dict[str, Any]:
    """The whole-sandbox summary served at ``/_sandbox/state``."""
    store = sandbox.store
    pending = sum(1 for op in store.operations.values() if not op.applied)
    accounts = {
        account_id: {
            "type": account_type,
            "user_lists": len(store.lists_of(account_id)),
            "members": sum(len(ul.members) for ul in store.lists_of(account_id)),
        }
        for account_id, account_type in sorted(sandbox.config.accounts.items())
    }
    return {
        "accounts": accounts,
        "requests": {"pending": pending, "processed": len(store.operations) - pending},
        **sandbox.stats(),
        "limits": {name: getattr(sandbox.config, name) for name in _LIMITS},
        "faults": faults_view(sandbox.faults),
    }
