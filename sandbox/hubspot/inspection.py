"""``/_sandbox/...``: read-only inspection of what the sandbox holds, and fault controls.

No token. Answers are plain JSON (errors: ``{"error": "..."}`` with 400 or 404), not
HubSpot-shaped: this API is the sandbox's own, for tests and the demo. ``?portal=<id>`` narrows
lists, contacts and properties to one portal.

* ``GET /_sandbox/state`` — per portal: tier, limits, calls in the 10 s window and today, counts
  of lists, contacts and custom properties; admitted calls by route; errors; faults in force.
* ``GET /_sandbox/lists`` — every list with its member record ids.
* ``GET /_sandbox/lists/{id}`` and ``/_sandbox/lists/{id}/members`` — one list; its member ids.
* ``GET /_sandbox/contacts`` — contacts: id, e-mail, stored properties (``?email=`` finds one).
* ``GET /_sandbox/properties`` — custom property definitions (HubSpot's ModelProperty JSON) and groups.
* ``POST /_sandbox/faults`` — ``{"scripted": [spec, ...], "random": {fault config}}``; a spec is
  ``{"match": regex on "METHOD /path", "count": N, "http_status": 502, "message", "category",
  "sub_category", "policy_name"}`` (only ``match`` is required).
* ``DELETE /_sandbox/faults`` — drop scripted faults and turn random faults off.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from sandbox.common.faults import FaultConfig, ScriptedFault
from sandbox.common.http import Request, Response
from sandbox.hubspot.store import PortalData

if TYPE_CHECKING:
    from sandbox.hubspot.app import HubSpotSandbox

SPEC_KEYS = frozenset({"http_status", "message", "category", "sub_category", "policy_name"})
_LIST = re.compile(r"/_sandbox/lists/(\d+)(/members)?")


class _BadRequest(Exception):
    """A control request the sandbox cannot follow (answered with 400)."""


def handle_inspection(sandbox: HubSpotSandbox, request: Request) -> Response:
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


def _read(sandbox: HubSpotSandbox, request: Request, path: str) -> dict[str, Any]:
    if path == "/_sandbox/state":
        return state(sandbox)
    if path == "/_sandbox/lists":
        return {"lists": [_list_view(pid, item) for pid, data in _portals(sandbox, request) for item in data.lists]}
    if path == "/_sandbox/contacts":
        email = request.query.get("email", "").strip().lower()
        contacts = [
            {"portal_id": pid, "id": c.id, "email": c.email, "properties": dict(c.properties)}
            for pid, data in _portals(sandbox, request)
            for c in data.contacts
            if not email or c.email == email
        ]
        return {"count": len(contacts), "contacts": contacts}
    if path == "/_sandbox/properties":
        portals = _portals(sandbox, request)
        return {"portals": {str(pid): _catalog_view(data) for pid, data in portals}}
    match = _LIST.fullmatch(path)
    found = None if match is None else sandbox.store.find_list(match.group(1))
    if match is None or found is None:
        raise LookupError
    view = _list_view(*found)
    return {"list_id": view["listId"], "count": view["size"], "members": view["members"]} if match.group(2) else view


def state(sandbox: HubSpotSandbox) -> dict[str, Any]:
    """The whole-sandbox summary served at ``/_sandbox/state``."""
    portals = {}
    for portal_id, portal in sandbox.config.portals.items():
        in_window, today, _ = sandbox.limiter.usage(portal)
        data = sandbox.store.portals[portal_id]
        portals[str(portal_id)] = {
            "tier": portal.tier,
            "ten_second_limit": portal.window_limit,
            "daily_limit": portal.day_limit,
            "calls_in_window": in_window,
            "calls_today": today,
            "lists": len(data.lists),
            "contacts": len(data.contacts),
            "custom_properties": sum(not p.hubspot_defined for p in data.catalog.properties.values()),
        }
    calls, errors = sandbox.stats()
    faults = {"random": asdict(sandbox.faults.config), "scripted_pending": sandbox.faults.pending()}
    return {"portals": portals, "calls": calls, "errors": errors, "faults": faults}


def _portals(sandbox: HubSpotSandbox, request: Request) -> Iterator[tuple[int, PortalData]]:
    wanted = request.query.get("portal")
    if wanted is not None and (not wanted.isdigit() or int(wanted) not in sandbox.store.portals):
        raise _BadRequest(f"unknown portal {wanted[:20]!r}")
    for portal_id, data in sorted(sandbox.store.portals.items()):
        if wanted is None or int(wanted) == portal_id:
            yield portal_id, data


def _list_view(portal_id: int, item: Any) -> dict[str, Any]:
    return {"portal_id": portal_id, **item.to_api(include_filters=True), "members": item.sorted_members()}


def _catalog_view(data: PortalData) -> dict[str, Any]:
    custom = [p.to_api() for p in data.catalog.properties.values() if not p.hubspot_defined]
    return {"properties": custom, "groups": list(data.catalog.groups.values())}


def _faults(sandbox: HubSpotSandbox, request: Request) -> dict[str, Any]:
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
    if not 400 <= spec.get("http_status", 500) <= 599:
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
