"""``/_sandbox/...``: read-only inspection of what the sandbox holds, and fault controls.

No credentials. Answers are plain JSON (errors ``{"error": "..."}`` with 400 or 404), not Google-shaped:
this API is the sandbox's own, for tests and the demo. Reads first apply operations that are due.

* ``GET /_sandbox/state`` — accessible accounts, counts of user lists, members and requests (pending
  and processed), admitted calls by route, refusals by ``"<code> <reason>"``, limits, faults.
* ``GET /_sandbox/user_lists`` — every user list: ``{account_id, account_type, id, name, display_name,
  membership_days, members: [[identifier, ...], ...]}``; ``?account=`` filters. Identifiers are the
  hashed forms the sandbox stores (``email:<hex>``, ``phone:<hex>``, ``address:...``).
* ``GET /_sandbox/requests`` — every operation: ``{request_id, kind, created_at, applied,
  destinations: [{account_id, user_list_id, record_count, identifier_count, matched_count, denied_count}]}``.
* ``POST /_sandbox/faults`` — ``{"scripted": [spec, ...], "random": {fault config}}``; a spec is
  ``{"match": regex on "METHOD /path", "count": N, "http_status": 503, "message": "...", "reason": "..."}``.
* ``DELETE /_sandbox/faults`` — drop scripted faults and turn random faults off.
"""

from __future__ import annotations

import re
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from sandbox.common.faults import FaultConfig, ScriptedFault
from sandbox.common.http import Request, Response

if TYPE_CHECKING:
    from sandbox.google_data_manager.app import GoogleDataManagerSandbox

SPEC_KEYS = frozenset({"http_status", "message", "reason"})
_LIMITS = (
    "processing_delay_seconds",
    "requests_per_minute",
    "requests_per_day",
    "max_audience_members",
    "max_identifiers_per_member",
    "max_destinations",
    "consent_policy",
)


class _BadRequest(Exception):
    """A control request the sandbox cannot follow (answered with 400)."""


def handle_inspection(sandbox: GoogleDataManagerSandbox, request: Request) -> Response:
    """Answer a ``/_sandbox/...`` request."""
    path = request.path.rstrip("/")
    try:
        if path == "/_sandbox/faults" and request.method in {"POST", "DELETE"}:
            return Response.json(200, _faults(sandbox, request))
        if request.method != "GET":
            raise LookupError
        sandbox.settle()
        with sandbox.store.lock:
            return Response.json(200, _read(sandbox, request, path))
    except _BadRequest as exc:
        return Response.json(400, {"error": str(exc)})
    except LookupError:
        return Response.json(404, {"error": f"no sandbox endpoint: {request.method} {path[:120]}"})


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
                "members": sorted(sorted(member) for member in ul.members),
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
        "faults": {"random": asdict(sandbox.faults.config), "scripted_pending": sandbox.faults.pending()},
    }


def _faults(sandbox: GoogleDataManagerSandbox, request: Request) -> dict[str, Any]:
    if request.method == "DELETE":
        sandbox.faults.clear_scripted()
        sandbox.faults.configure(FaultConfig())
    else:
        body = _json_object(request)
        unknown = set(body) - {"scripted", "random"}
        if unknown:
            raise _BadRequest(f"unknown keys: {sorted(unknown)}")
        scripted = [_scripted_fault(spec) for spec in body.get("scripted", [])]
        try:
            random_config = FaultConfig.from_mapping(body["random"]) if "random" in body else None
        except (ValueError, TypeError) as exc:
            raise _BadRequest(str(exc)) from None
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
    for key in ("count", "http_status"):
        if key in spec and (not isinstance(spec[key], int) or isinstance(spec[key], bool)):
            raise _BadRequest(f"{key} must be an integer")
    if not 400 <= spec.get("http_status", 503) <= 599:
        raise _BadRequest("http_status must be within [400, 599]")
    try:
        return ScriptedFault(spec["match"], spec.get("count", 1), {k: v for k, v in spec.items() if k in SPEC_KEYS})
    except (ValueError, re.error) as exc:
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
