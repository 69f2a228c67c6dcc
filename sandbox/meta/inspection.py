"""``/_sandbox/...``: read-only inspection of what the sandbox holds, and fault/flag controls.

No access token. Answers are plain JSON (errors: ``{"error": "..."}`` with 400 or 404), not
Graph-shaped: this API is the sandbox's own, for tests and the demo.

* ``GET /_sandbox/state`` — accounts (audiences, calls in the last hour, budget), audiences
  (rows, flagged, replace in progress), call and error counts, faults in force.
* ``GET /_sandbox/audiences/{id}`` — the audience's Graph fields plus sandbox details.
* ``GET /_sandbox/audiences/{id}/members`` — the stored rows, each ``{KEY: value}``.
* ``POST /_sandbox/faults`` — ``{"scripted": [spec, ...], "random": {fault config}}``; a spec is
  ``{"match": regex on "METHOD /path" (no version), "count": N, "http_status": 400,
  "code": C, "error_subcode": S, "message", "is_transient", "error_user_title",
  "error_user_msg", "estimated_time_to_regain_access"}`` (only ``match`` is required).
* ``DELETE /_sandbox/faults`` — drop scripted faults and random faults (back to none).
* ``POST /_sandbox/audiences/{id}/flag`` — ``{"flagged": true|false}`` (default true).
* ``POST /_sandbox/audiences/{id}/sessions_stuck`` — ``{"stuck": true|false}`` (default true): upload sessions the
  audience receives from then on stay ``uploading`` with ``num_matched`` -1 (facebook-java-business-sdk#492).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from sandbox.common.http import Request, Response
from sandbox.common.inspection import FAULTS_PATH, BadRequest, FaultSpecRules, control_faults, faults_view, json_object

if TYPE_CHECKING:
    from sandbox.meta.app import MetaSandbox

FAULT_SPECS = FaultSpecRules(
    spec_keys=frozenset(
        {
            "http_status",
            "code",
            "error_subcode",
            "message",
            "type",
            "is_transient",
            "error_user_title",
            "error_user_msg",
            "estimated_time_to_regain_access",
        }
    ),
    default_status=400,
    int_keys=("count", "http_status", "code", "error_subcode", "estimated_time_to_regain_access"),
)
_AUDIENCE = re.compile(r"/_sandbox/audiences/(\d+)(/members|/flag|/sessions_stuck)?")


def handle_inspection(sandbox: MetaSandbox, request: Request) -> Response:
    """Answer a ``/_sandbox/...`` request."""
    try:
        if request.path == "/_sandbox/state" and request.method == "GET":
            return Response.json(200, state(sandbox))
        if request.path == FAULTS_PATH and request.method in {"POST", "DELETE"}:
            return Response.json(200, control_faults(sandbox.faults, request, FAULT_SPECS))
        match = _AUDIENCE.fullmatch(request.path)
        if match is not None:
            return _audience(sandbox, request, match.group(1), match.group(2))
    except BadRequest as exc:
        return Response.json(400, {"error": str(exc)})
    return Response.json(404, {"error": f"no sandbox endpoint {request.method} {request.path}"})


def state(sandbox: MetaSandbox) -> dict[str, Any]:
    """The whole-sandbox summary served at ``/_sandbox/state``."""
    audiences = sandbox.store.summaries()
    account_ids = sorted({a["account_id"] for a in audiences} | _granted_accounts(sandbox))
    budget = sandbox.config.hourly_call_budget
    accounts = {
        account: {
            "audiences": sum(a["account_id"] == account for a in audiences),
            "calls_last_hour": sandbox.budget.count(account),
            "hourly_call_budget": budget,
        }
        for account in account_ids
    }
    calls, errors = sandbox.stats()
    faults = faults_view(sandbox.faults)
    return {"accounts": accounts, "audiences": audiences, "calls": calls, "errors_by_code": errors, "faults": faults}


def _granted_accounts(sandbox: MetaSandbox) -> set[str]:
    return {account for grant in sandbox.config.tokens.values() for account in grant.ad_accounts}


def _audience(sandbox: MetaSandbox, request: Request, audience_id: str, sub: str | None) -> Response:
    if sandbox.store.owner(audience_id) is None:
        return Response.json(404, {"error": f"no audience {audience_id}"})
    if sub is None and request.method == "GET":
        details = next(a for a in sandbox.store.summaries() if a["id"] == audience_id)
        return Response.json(200, {**sandbox.store.fields(audience_id), "sandbox": details})
    if sub == "/members" and request.method == "GET":
        rows = [dict(row) for row in sandbox.store.members(audience_id)]
        return Response.json(200, {"audience_id": audience_id, "count": len(rows), "rows": rows})
    if sub in ("/flag", "/sessions_stuck") and request.method == "POST":
        name = "flagged" if sub == "/flag" else "stuck"
        value = json_object(request).get(name, True)
        if not isinstance(value, bool):
            raise BadRequest(f"{name} must be a boolean")
        setter = sandbox.store.set_flagged if sub == "/flag" else sandbox.store.set_sessions_stuck
        setter(audience_id, value)
        sandbox.mark_changed()
        return Response.json(200, {"audience_id": audience_id, name: value})
    return Response.json(404, {"error": f"no sandbox endpoint {request.method} {request.path}"})
