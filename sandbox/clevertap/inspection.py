"""``/_sandbox/...``: read-only inspection of what the sandbox holds, and fault controls.

No credentials. Answers are plain JSON (errors: ``{"error": "..."}`` with 400 or 404), not
CleverTap-shaped: this API is the sandbox's own, for tests and the demo. ``?account=<id>`` picks the
account; it may be left out when only one account is configured.

* ``GET /_sandbox/state`` — per account: region, counts of profiles, events and custom keys; admitted
  calls by route; refusals by ``"<status> <reason>"``; record outcomes; concurrency (in flight and
  the maximum ever seen, per account and group); limits; faults in force.
* ``GET /_sandbox/profiles`` — ``{"account", "count", "profiles": {identity: properties},
  "others": [{guid, ids, properties}]}``; multi-values are sorted lists. ``?identity=`` answers one
  profile ``{guid, ids, properties}`` (404 when unknown).
* ``GET /_sandbox/events`` — accepted events in arrival order: ``{seq, call, guid, <id field>: value,
  evtName, ts, evtData}``; ``?identity=`` and ``?evtName=`` filter.
* ``POST /_sandbox/faults`` — ``{"scripted": [spec, ...], "random": {fault config}}``; a spec is
  ``{"match": regex on "METHOD /path", "count": N, "http_status": 503, "message": "..."}``.
* ``DELETE /_sandbox/faults`` — drop scripted faults and turn random faults off.
"""

from __future__ import annotations

import re
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from sandbox.clevertap.records import Subject
from sandbox.common.faults import FaultConfig, ScriptedFault
from sandbox.common.http import Request, Response

if TYPE_CHECKING:
    from sandbox.clevertap.app import CleverTapSandbox

SPEC_KEYS = frozenset({"http_status", "message"})
_LIMITS = ("max_records_per_upload", "max_delete_values", "upload_concurrency", "other_concurrency")


class _BadRequest(Exception):
    """A control request the sandbox cannot follow (answered with 400)."""


def handle_inspection(sandbox: CleverTapSandbox, request: Request) -> Response:
    """Answer a ``/_sandbox/...`` request."""
    path = request.path.rstrip("/")
    try:
        if path == "/_sandbox/faults" and request.method in {"POST", "DELETE"}:
            return Response.json(200, _faults(sandbox, request))
        if request.method != "GET":
            raise LookupError
        with sandbox.store.lock:
            return Response.json(200, _read(sandbox, request, path))
    except _BadRequest as exc:
        return Response.json(400, {"error": str(exc)})
    except LookupError:
        return Response.json(404, {"error": f"no sandbox endpoint or object: {request.method} {path[:120]}"})


def _read(sandbox: CleverTapSandbox, request: Request, path: str) -> dict[str, Any]:
    if path == "/_sandbox/state":
        return state(sandbox)
    if path == "/_sandbox/profiles":
        return _profiles(sandbox, request)
    if path == "/_sandbox/events":
        account_id = _account(sandbox, request)
        identity, name = request.query.get("identity"), request.query.get("evtName")
        events = [
            event.to_json()
            for event in sandbox.store.accounts[account_id].events
            if (identity is None or event.subject == _identity(identity)) and (name is None or event.name == name)
        ]
        return {"account": account_id, "count": len(events), "events": events}
    raise LookupError


def state(sandbox: CleverTapSandbox) -> dict[str, Any]:
    """The whole-sandbox summary served at ``/_sandbox/state``."""
    accounts = {
        account_id: {
            "region": account.region,
            "profiles": len(sandbox.store.accounts[account_id].profiles),
            "events": len(sandbox.store.accounts[account_id].events),
            "custom_keys": len(sandbox.store.accounts[account_id].custom_keys),
        }
        for account_id, account in sorted(sandbox.config.accounts.items())
    }
    faults = {"random": asdict(sandbox.faults.config), "scripted_pending": sandbox.faults.pending()}
    limits = {name: getattr(sandbox.config, name) for name in _LIMITS}
    return {
        "accounts": accounts,
        **sandbox.stats(),
        "concurrency": sandbox.gate.snapshot(),
        "limits": limits,
        "faults": faults,
    }


def _profiles(sandbox: CleverTapSandbox, request: Request) -> dict[str, Any]:
    account_id = _account(sandbox, request)
    data = sandbox.store.accounts[account_id]
    wanted = request.query.get("identity")
    if wanted is not None:
        profile = data.find(_identity(wanted))
        if profile is None:
            raise LookupError
        return profile.to_json()
    named = {p.ids["identity"]: dict(p.properties) for p in data.profiles.values() if "identity" in p.ids}
    others = [p.to_json() for p in data.profiles.values() if "identity" not in p.ids]
    return {
        "account": account_id,
        "count": len(data.profiles),
        "profiles": dict(sorted(named.items())),
        "others": others,
    }


def _identity(value: str) -> Subject:
    return Subject("identity", value.strip())


def _account(sandbox: CleverTapSandbox, request: Request) -> str:
    wanted = request.query.get("account")
    if wanted is None:
        if len(sandbox.config.accounts) != 1:
            raise _BadRequest("several accounts are configured: pass ?account=<id>")
        return next(iter(sandbox.config.accounts))
    if wanted not in sandbox.config.accounts:
        raise _BadRequest(f"unknown account {wanted[:64]!r}")
    return wanted


def _faults(sandbox: CleverTapSandbox, request: Request) -> dict[str, Any]:
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
