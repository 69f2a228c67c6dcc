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

from typing import TYPE_CHECKING, Any

from sandbox.clevertap.records import Subject
from sandbox.common.http import Request, Response
from sandbox.common.inspection import BadRequest, FaultSpecRules, answer_read_or_faults, faults_view

if TYPE_CHECKING:
    from sandbox.clevertap.app import CleverTapSandbox

FAULT_SPECS = FaultSpecRules(spec_keys=frozenset({"http_status", "message"}), default_status=503)
_LIMITS = ("max_records_per_upload", "max_delete_values", "upload_concurrency", "other_concurrency")


def handle_inspection(sandbox: CleverTapSandbox, request: Request) -> Response:
    """Answer a ``/_sandbox/...`` request; reads run under the store lock."""

    def read(path: str) -> dict[str, Any]:
        with sandbox.store.lock:
            return _read(sandbox, request, path)

    return answer_read_or_faults(request, sandbox.faults, FAULT_SPECS, read)


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
    limits = {name: getattr(sandbox.config, name) for name in _LIMITS}
    return {
        "accounts": accounts,
        **sandbox.stats(),
        "concurrency": sandbox.gate.snapshot(),
        "limits": limits,
        "faults": faults_view(sandbox.faults),
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
            raise BadRequest("several accounts are configured: pass ?account=<id>")
        return next(iter(sandbox.config.accounts))
    if wanted not in sandbox.config.accounts:
        raise BadRequest(f"unknown account {wanted[:64]!r}")
    return wanted
