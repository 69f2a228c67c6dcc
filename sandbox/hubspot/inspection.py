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
from typing import TYPE_CHECKING, Any

from sandbox.common.http import Request, Response
from sandbox.common.inspection import BadRequest, FaultSpecRules, answer_read_or_faults, faults_view
from sandbox.hubspot.store import PortalData

if TYPE_CHECKING:
    from sandbox.hubspot.app import HubSpotSandbox

FAULT_SPECS = FaultSpecRules(
    spec_keys=frozenset({"http_status", "message", "category", "sub_category", "policy_name"}), default_status=500
)
_LIST = re.compile(r"/_sandbox/lists/(\d+)(/members)?")


def handle_inspection(sandbox: HubSpotSandbox, request: Request) -> Response:
    """Answer a ``/_sandbox/...`` request; reads run under the store lock."""

    def read(path: str) -> dict[str, Any]:
        with sandbox.store.lock:
            return _read(sandbox, request, path)

    return answer_read_or_faults(request, sandbox.faults, FAULT_SPECS, read)


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
    calls, versions, errors = sandbox.stats()
    return {"portals": portals, "calls": calls, "versions": versions, "errors": errors,
            "faults": faults_view(sandbox.faults)}  # fmt: skip


def _portals(sandbox: HubSpotSandbox, request: Request) -> Iterator[tuple[int, PortalData]]:
    wanted = request.query.get("portal")
    if wanted is not None and (not wanted.isdigit() or int(wanted) not in sandbox.store.portals):
        raise BadRequest(f"unknown portal {wanted[:20]!r}")
    for portal_id, data in sorted(sandbox.store.portals.items()):
        if wanted is None or int(wanted) == portal_id:
            yield portal_id, data


def _list_view(portal_id: int, item: Any) -> dict[str, Any]:
    return {"portal_id": portal_id, **item.to_api(include_filters=True), "members": item.sorted_members()}


def _catalog_view(data: PortalData) -> dict[str, Any]:
    custom = [p.to_api() for p in data.catalog.properties.values() if not p.hubspot_defined]
    return {"properties": custom, "groups": list(data.catalog.groups.values())}
