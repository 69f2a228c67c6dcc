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
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import asdict
from typing import TYPE_CHECKING, Any, TypeVar

from sandbox.common.faults import FaultConfig, ScriptedFault
from sandbox.common.http import Request, Response

if TYPE_CHECKING:
    from sandbox.meta.app import MetaSandbox

SPEC_KEYS = frozenset(
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
)
_T = TypeVar("_T")
_AUDIENCE = re.compile(r"/_sandbox/audiences/(\d+)(/members|/flag)?")


class _BadRequest(Exception):
    """A control request the sandbox cannot follow (answered with 400)."""


def handle_inspection(sandbox: MetaSandbox, request: Request) -> Response:
    """Answer a ``/_sandbox/...`` request."""
    try:
        if request.path == "/_sandbox/state" and request.method == "GET":
            return Response.json(200, state(sandbox))
        if request.path == "/_sandbox/faults" and request.method in {"POST", "DELETE"}:
            return Response.json(200, _faults(sandbox, request))
        match = _AUDIENCE.fullmatch(request.path)
        if match is not None:
            return _audience(sandbox, request, match.group(1), match.group(2))
    except _BadRequest as exc:
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
    faults = {"random": asdict(sandbox.faults.config), "scripted_pending": sandbox.faults.pending()}
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
    if sub == "/flag" and request.method == "POST":
        body = _json_object(request)
        flagged = body.get("flagged", True)
        if not isinstance(flagged, bool):
            raise _BadRequest("flagged must be a boolean")
        sandbox.store.set_flagged(audience_id, flagged)
        sandbox.mark_changed()
        return Response.json(200, {"audience_id": audience_id, "flagged": flagged})
    return Response.json(404, {"error": f"no sandbox endpoint {request.method} {request.path}"})


def _faults(sandbox: MetaSandbox, request: Request) -> dict[str, Any]:
    if request.method == "DELETE":
        sandbox.faults.clear_scripted()
        sandbox.faults.configure(FaultConfig())
    else:
        body = _json_object(request)
        unknown = set(body) - {"scripted", "random"}
        if unknown:
            raise _BadRequest(f"unknown keys: {sorted(unknown)}")
        scripted = [_scripted_fault(spec) for spec in body.get("scripted", [])]
        random_config = _checked(FaultConfig.from_mapping, body["random"]) if "random" in body else None
        for fault in scripted:
            sandbox.faults.script(fault)
        if random_config is not None:
            sandbox.faults.configure(random_config)
    return {"random": asdict(sandbox.faults.config), "scripted_pending": sandbox.faults.pending()}


def _scripted_fault(spec: Any) -> ScriptedFault:
    if not isinstance(spec, dict) or not isinstance(spec.get("match"), str):
        raise _BadRequest("each scripted fault is an object with a string 'match'")
    unknown = set(spec) - SPEC_KEYS - {"match", "count"}
    if unknown:
        raise _BadRequest(f"unknown scripted fault keys: {sorted(unknown)}")
    count = spec.get("count", 1)
    for key in ("count", "http_status", "code", "error_subcode", "estimated_time_to_regain_access"):
        if key in spec and (not isinstance(spec[key], int) or isinstance(spec[key], bool)):
            raise _BadRequest(f"{key} must be an integer")
    if not 400 <= spec.get("http_status", 400) <= 599:
        raise _BadRequest("http_status must be within [400, 599]")
    details = {key: value for key, value in spec.items() if key in SPEC_KEYS}
    return _checked(lambda data: ScriptedFault(spec["match"], count, data), details)


def _checked(build: Callable[[Mapping[str, Any]], _T], data: Mapping[str, Any]) -> _T:
    try:
        return build(data)
    except (ValueError, TypeError, re.error) as exc:
        raise _BadRequest(str(exc)) from None


def _json_object(request: Request) -> dict[str, Any]:
    try:
        body = request.json_body()
    except ValueError:
        raise _BadRequest("the body must be JSON") from None
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise _BadRequest("the body must be a JSON object")
    return body
